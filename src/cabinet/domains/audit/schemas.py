from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from cabinet.core.metering import CalculationStatus, ProcessType, Service


class FlowType(enum.StrEnum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


@dataclass(slots=True)
class AuditEntry:
    """An audit record about to be written (one process with its one request)."""

    process_code: uuid.UUID
    request_code: uuid.UUID
    company_id: int
    user_id: int
    username: str
    company_key: str
    service: str
    process_type: str
    operation: str
    env: str
    pod: str
    status: str
    message: str | None
    http_status: int
    started_at: datetime
    duration_seconds: float
    billing_date: date
    request_points: int
    result_elements: int
    input_digest: str | None
    input_blob: str | None
    output_blob: str | None
    target: str | None = None  # what a change was about ("user petrov_ivan"), when the operation names it


SORT_FIELDS = {
    "time",
    "service",
    "operation",
    "process_type",
    "status",
    "points",
    "elements",
    "username",
    "company_key",
    "duration",
}


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of an audit search; scope (company/user) is decided by the caller's rights, not here."""

    date_from: datetime
    date_to: datetime
    company_id: int | None = None
    user_id: int | None = None
    services: tuple[Service, ...] | None = None  # any of these
    operation: str | None = None
    operation_contains: str | None = None  # any operation whose name has this in it, ignoring case
    operation_matches: tuple[str, ...] = ()  # with operation_contains: these operations match too (by their label)
    process_type: ProcessType | None = None
    status: CalculationStatus | None = None
    username: str | None = None  # as recorded (a deleted user's trail stays findable)
    company_key: str | None = None  # as recorded
    sort_field: str = "time"
    descending: bool = False
    offset: int = 0
    limit: int = 100
