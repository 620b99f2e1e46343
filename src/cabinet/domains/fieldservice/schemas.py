"""Internal commands and views of the contractor domain (the wire DTOs live in apis/contractor)."""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from cabinet.domains.fieldservice.states import CallStatus, LineStatus, MaterialOwner, TaskStatus
from cabinet.models import (
    Call,
    CallCost,
    CallJeopardy,
    CallSignature,
    CallTask,
    CallVisit,
    CostExpense,
    CostMaterial,
    ExpenditureItem,
    Notification,
)
from cabinet.models.cost import PRICE_SCALE

USERNAME_RE = re.compile(r"\w{2,256}")
PASSWORD_MAX = 256  # the wire's bound; the password policy itself is the identity domain's (password_issue)
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
NOTIFICATION_KINDS = (
    "call_assigned",
    "call_closed",
    "call_cost_processed",
    "dispatcher_message",
    "field_report",
    "jeopardy_answered",
)


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
    text: str = ""  # matches the number, client, object, address or description (any case), when not empty
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
    visits: list[CallVisit | Any] = field(default_factory=list)
    signature: CallSignature | Any | None = None  # the current one
    # what presenters derived from this view (say, its JSON text), shared by the views a cache hands out for the
    # same call row (``call_views.ViewCache``): valid as long as the row, so never of the clock; None: not kept
    memo: dict[str, Any] | None = None


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
    expenses: list[ExpenseLine] = field(default_factory=list)
    materials: list[MaterialLine] = field(default_factory=list)


class VisitAction(enum.StrEnum):
    CHECK_IN = "checkIn"
    CHECK_OUT = "checkOut"


@dataclass(frozen=True, slots=True)
class Position:
    """Where the phone was (WGS 84 degrees) and its own accuracy estimate in meters."""

    latitude: float
    longitude: float
    accuracy: float | None = None


@dataclass(frozen=True, slots=True)
class VisitCheck:
    """A tap on Check-in or Check-out: the phone's time and, if the person allowed it, its position."""

    action: VisitAction
    client_time: datetime
    position: Position | None = None


SIGNER_NAME_MAX = 200
SIGNATURE_MAX_BYTES = 2 * 1024 * 1024


class UploadSource(Protocol):
    """An upload being received: its bytes (read once, as they arrive), then its file name and whether the
    file field was there at all."""

    filename: str | None
    found: bool
    fields: dict[str, str]

    def chunks(self) -> AsyncIterator[bytes]: ...


@dataclass(slots=True)
class AttachmentFile:
    """A stored attachment ready to be sent: what it is and its bytes, chunk by chunk."""

    name: str
    type: str
    size: int
    sha256: str
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A stored page thumbnail of an image attachment."""

    data: bytes
    media_type: str


# --- cost estimates ------------------------------------------------------------------------------------------
# Quantities: positive, at most COUNT_SCALE places; unit prices: zero or more, at most PRICE_SCALE places. The
# bounds keep every value exact as a JSON number (at most 12 significant digits) and every total exact.
COUNT_MAX = Decimal(1_000_000)
PRICE_MAX = Decimal(1_000_000_000)
MATERIAL_NAME_MAX = 2000
SERIAL_NUMBER_MAX = 256
LINES_PER_ESTIMATE_MAX = 500
CENT = Decimal(1).scaleb(-PRICE_SCALE)


@dataclass(frozen=True, slots=True)
class ExpenseLine:
    expenditure_item_id: int
    count: Decimal


@dataclass(frozen=True, slots=True)
class MaterialLine:
    name: str
    serial_number: str
    owner_type: MaterialOwner
    count: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class LinePatch:
    """A PATCH of a line: only ``fields`` (attribute names of ExpenseLine / MaterialLine) change; None in a sent
    field is refused (every attribute of a line is required)."""

    values: dict[str, Any]

    @property
    def fields(self) -> set[str]:
        return set(self.values)


@dataclass(frozen=True, slots=True)
class Decisions:
    """The external system's approval statuses by line id."""

    expenses: dict[int, LineStatus]
    materials: dict[int, LineStatus]


def line_total(material: CostMaterial | Any) -> Decimal:
    """count x unit price, rounded half-up to the cent (the only rounding; sums of totals are exact)."""
    return (material.count * material.price).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class CostView:
    """An estimate with its lines and the instant its Draft stops being editable (None: the call is not finished,
    so no deadline runs yet)."""

    cost: CallCost | Any
    expenses: list[CostExpense | Any] = field(default_factory=list)
    materials: list[CostMaterial | Any] = field(default_factory=list)
    editable_until: datetime | None = None

    @property
    def materials_total(self) -> Decimal:
        return sum((line_total(m) for m in self.materials), Decimal(0)).quantize(CENT)
