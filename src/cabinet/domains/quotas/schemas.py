from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cabinet.core.metering import ProcessType, Service
from cabinet.core.tracing import RateLimitState

MAX_POINTS_PER_REQUEST = 1_000_000
MAX_POINTS_PER_DAY = 100_000_000
MAX_CONCURRENT = 1000
MAX_POINTS_PER_WINDOW = 2_147_483_647  # the column is a 32-bit integer on every backend


@dataclass(frozen=True, slots=True)
class QuotaSpec:
    """Limits for one (service, process type). 0 means nothing is allowed."""

    service: Service
    process_type: ProcessType
    points_per_request: int
    points_per_day: int
    max_concurrent_execution: int
    points_per_date_window: int | None = None
    window_from: date | None = None
    window_to: date | None = None


@dataclass(slots=True)
class Reservation:
    """What a request took from the counters; given back (slot always, points on failure) when it ends."""

    keys: list[tuple[str, int]] = field(default_factory=list)  # (counter key, points) to refund on failure
    slot_key: str | None = None
    states: list[RateLimitState] = field(default_factory=list)  # the limits that applied, after this request


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A company's Data API budgets now: limits, what remains, seconds until each counter resets."""

    day_limit: int
    day_remaining: int
    day_reset: int
    minute_limit: int
    minute_remaining: int
    minute_reset: int
