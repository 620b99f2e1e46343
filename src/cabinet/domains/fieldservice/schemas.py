"""Internal commands and views of the contractor domain (the wire DTOs live in apis/contractor)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cabinet.domains.fieldservice.states import CallStatus, TaskStatus
from cabinet.models import Call, CallJeopardy, CallTask, ExpenditureItem, Notification

USERNAME_RE = re.compile(r"\w{2,256}")
PASSWORD_MIN = 5
PASSWORD_MAX = 256
SALT_MIN_BYTES = 16
SALT_MAX_BYTES = 32
TEXT_MAX = 2000
FEED_LIMIT_DEFAULT = 1000
FEED_LIMIT_MAX = 10_000
LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 1000
ACCESS_TOKEN_TTL_SECONDS = 3600
SERVICE_TOKEN_TTL_SECONDS = 30 * 86_400
DEFAULT_COST_DEADLINE_DAY = 5


@dataclass(frozen=True, slots=True)
class IssuedPair:
    access: str
    access_expires_in_ms: int
    service: str
    service_expires_in_ms: int


@dataclass(slots=True)
class CallCreate:
    owner_id: int
    client_name: str
    created: datetime
    description_html: str
    description_for_field_employee: str
    service_object_address: str
    service_object_latitude: float
    service_object_longitude: float
    service_object_name: str
    tasks: list[str]
    expenditure_items: list[str]
    service_object_type: str | None = None
    contact_person_email: str | None = None
    contact_person_name: str | None = None
    contact_person_phone: str | None = None
    critical: bool = False
    ttf: datetime | None = None
    tto: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallListQuery:
    statuses: Sequence[CallStatus] = ()
    critical: bool | None = None
    expired: bool | None = None
    jeopardy: bool | None = None
    sort: str = "default"  # default | created | -created | ttf | -ttf | tto | -tto | number | -number
    limit: int = LIST_LIMIT_DEFAULT
    offset: int = 0


CALL_SORTS = ("default", "created", "-created", "ttf", "-ttf", "tto", "-tto", "number", "-number", "id", "-id")


@dataclass(slots=True)
class CallView:
    """A call with what its DTO embeds, and the flags computed against the clock. Reads of many calls carry plain
    rows (same attribute names) instead of the ORM objects named here."""

    call: Call | Any
    tasks: list[CallTask | Any] = field(default_factory=list)
    jeopardies: list[CallJeopardy | Any] = field(default_factory=list)
    items: list[ExpenditureItem | Any] = field(default_factory=list)
    is_expired: bool = False
    attachments: dict[int, list[Any]] = field(default_factory=dict)  # task id -> its result's attachments


@dataclass(slots=True)
class TaskView:
    """A task with its result's attachments (plain rows when read in pages)."""

    task: CallTask | Any
    attachments: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CreatedCall:
    call: Call
    tasks: list[CallTask]


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[Notification]
    unread: int


# --- field links and attachments ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldTaskResult:
    task_id: int
    status: TaskStatus


@dataclass(frozen=True, slots=True)
class FieldReport:
    """What the field employee sends with ``POST /shared/call/done``: the call becomes Done with ``comments``,
    each listed task moves to its new status; expenses and materials go to the call's cost estimate."""

    comments: str
    tasks: list[FieldTaskResult] = field(default_factory=list)
    expenses: list[Any] = field(default_factory=list)
    materials: list[Any] = field(default_factory=list)


class UploadSource(Protocol):
    """An upload being received: its bytes (read once, as they arrive), then its file name and whether the
    file field was there at all."""

    filename: str | None
    found: bool

    def chunks(self) -> AsyncIterator[bytes]: ...


@dataclass(slots=True)
class AttachmentFile:
    """A stored attachment ready to be sent: what it is and its bytes, chunk by chunk."""

    name: str
    type: str
    size: int
    sha256: str
    chunks: AsyncIterator[bytes]
