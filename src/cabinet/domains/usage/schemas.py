from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Usage of one user on one billing day (user's timezone) for one (service, process type)."""

    username: str
    day: date
    service: str
    process_type: str
    points: int
    unique_points: int
    elements: int
    processes: int


@dataclass(frozen=True, slots=True)
class UsageQuery:
    date_from: date
    date_to: date  # inclusive
    user_id: int | None = None
    company_id: int | None = None
    services: tuple[str, ...] | None = None  # any of these
    process_type: str | None = None
