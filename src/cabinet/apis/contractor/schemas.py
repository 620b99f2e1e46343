"""Wire DTOs of the contractor API, named and cased as seed 004 has them.

Date-times without an offset are read as UTC. Texts are bounded (2000 characters where the seed says so,
else as stored); int64 fields are bounded to int64.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
)

from cabinet.apis.shared.params import INT64_MAX, Moment
from cabinet.domains.fieldservice.content import AttachmentType
from cabinet.domains.fieldservice.schemas import (
    COUNT_MAX,
    LINES_PER_ESTIMATE_MAX,
    MATERIAL_NAME_MAX,
    NOTIFICATION_KINDS,
    PRICE_MAX,
    SERIAL_NUMBER_MAX,
)
from cabinet.domains.fieldservice.states import CallStatus, CostStatus, LineStatus, MaterialOwner, TaskStatus
from cabinet.domains.identity.schemas import PASSWORD_MAX, PASSWORD_MIN
from cabinet.models.cost import COUNT_SCALE, PRICE_SCALE

BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


DateTime = Moment  # without an offset: UTC; within the accepted range (README: Security limits)
Int64 = Annotated[int, Field(ge=-(2**63), le=INT64_MAX)]
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]


def Text(max_length: int, *, min_length: int = 0) -> type[str]:
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]  # type: ignore[return-value]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- errors --------------------------------------------------------------------------------------------------
class ErrorDTO(_Out):
    """Error details. ``errorCode`` says which of an endpoint's documented failures happened (see the
    operation's description); 0 = a failure the seed gives no code for (validation, permission)."""

    errorCode: int = Field(description="Error code")


NewPassword = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX), AfterValidator(_no_nul)]


# --- users ---------------------------------------------------------------------------------------------------
class RegisterUserDTO(_In):
    userName: Text(256, min_length=2) = Field(description="User name: 2..256 letters, digits or _")  # type: ignore[valid-type]
    password: NewPassword = Field(description=f"Password ({PASSWORD_MIN}..{PASSWORD_MAX} characters)")


class RegisterUserOutputDTO(_Out):
    id: int


class SignInInputDTO(_In):
    userName: Text(256, min_length=1)  # type: ignore[valid-type]
    salt: str = Field(
        min_length=24, max_length=44, pattern=BASE64_PATTERN, description="16..32 random bytes, base64, never reused"
    )
    hashedPassword: str = Field(
        min_length=1,
        max_length=128,
        pattern=BASE64_PATTERN,
        description="base64 of SHA-256( SHA-256(UTF-8 password) || salt bytes )",
    )


class TokenDTO(_Out):
    token: str
    expiresIn: int | None = Field(description="Lifetime in milliseconds (null = never expires; ours always do)")


class AccessServiceTokensDTO(_Out):
    access: TokenDTO
    service: TokenDTO


class ChangePasswordDTO(_In):
    newPassword: NewPassword = Field(description=f"New password ({PASSWORD_MIN}..{PASSWORD_MAX} characters)")


class UserDTO(_Out):
    id: int
    name: str | None = None


# --- calls ---------------------------------------------------------------------------------------------------
class PostExpenditureItemInputDTO(_In):
    name: Text(2000, min_length=1)  # type: ignore[valid-type]


class PostCallTaskInputDTO(_In):
    title: Text(2000, min_length=1)  # type: ignore[valid-type]


class CallInputDTO(_In):
    availableExpenditureItems: list[PostExpenditureItemInputDTO] = Field(max_length=500)
    clientName: Text(2000)  # type: ignore[valid-type]
    contactPersonEmail: Text(256) | None = None  # type: ignore[valid-type]
    contactPersonName: Text(2000) | None = None  # type: ignore[valid-type]
    contactPersonPhone: Text(64) | None = None  # type: ignore[valid-type]
    created: DateTime
    critical: StrictBool = False
    descriptionHtmlText: Text(100_000)  # type: ignore[valid-type]
    descriptionTextForFieldEmployee: Text(100_000)  # type: ignore[valid-type]
    ownerId: Int64
    serviceObjectAddress: Text(2000)  # type: ignore[valid-type]
    serviceObjectLatitude: float = Field(ge=-90, le=90)
    serviceObjectLongitude: float = Field(ge=-180, le=180)
    serviceObjectName: Text(2000)  # type: ignore[valid-type]
    serviceObjectType: Text(2000) | None = None  # type: ignore[valid-type]
    tasks: list[PostCallTaskInputDTO] = Field(max_length=500)
    ttf: DateTime | None = None
    tto: DateTime | None = None


class PostCallTaskOutputDTO(_Out):
    id: int


class PostCallOutputDTO(_Out):
    created: datetime
    id: int
    number: str
    tasks: list[PostCallTaskOutputDTO]


class PatchCallInputDTO(_In):
    ttf: DateTime | None = None
    tto: DateTime | None = None


class CallStatusInputDTO(_In):
    comments: Text(2000) | None = None  # type: ignore[valid-type]
    status: CallStatus


class PostCallStatusOutputDTO(_Out):
    commited: datetime | None = None
    finished: datetime | None = None


class ExpenditureItemDTO(_Out):
    id: int
    name: str


class CallTaskAttachmentDTO(_Out):
    """A file of a task's result. The type is decided by the content, never by the name."""

    blobServiceFileName: str | None = Field(default=None, description="The file's name in the file store")
    downloaded: datetime | None = Field(
        default=None, description="When the external system first fetched the file (null = not yet)"
    )
    id: int
    name: str | None = Field(default=None, description="The name the uploader gave the file")
    type: AttachmentType | None = None
    uploaded: datetime | None = Field(default=None, description="When the file was attached (not in the seed)")
    size: int | None = Field(default=None, description="Bytes (not in the seed)")
    sha256: str | None = Field(default=None, description="SHA-256 of the bytes, hex (not in the seed)")


class CallTaskResultDTO(_Out):
    attachments: list[CallTaskAttachmentDTO] = Field(default_factory=list)


class CallTasktOutputDTO(_Out):
    """A task (the seed's own spelling of the name is kept)."""

    id: int
    result: CallTaskResultDTO | None = None
    status: TaskStatus
    title: str


class CallTaskFeedDTO(CallTasktOutputDTO):
    """A task in the task feed: which call, and its change number."""

    callId: int
    timestamp: int


class CallJeopardyDTO(_Out):
    answerComment: str | None = None
    answerDate: datetime | None = None
    callId: int
    comment: str
    date: datetime
    id: int
    timestamp: int


# --- proof of work: visits and the customer's signature (not in the seed) --------------------------------------
class LocationDTO(_Out):
    """Where the phone was, as its browser reported it (WGS 84)."""

    latitude: float = Field(description="Degrees, -90..90")
    longitude: float = Field(description="Degrees, -180..180")
    accuracyMeters: float | None = Field(default=None, description="The phone's own accuracy estimate, meters")


class VisitDTO(_Out):
    """One stay on site: check-in, then check-out. Times are the service's (when the check reached it) and the
    phone's (when the person tapped; a report queued offline reaches the service later)."""

    id: int
    checkInAt: datetime = Field(description="When the check-in reached the service")
    checkInClientTime: datetime = Field(description="The phone's time of the check-in")
    checkInLocation: LocationDTO | None = Field(default=None, description="Null: the person did not share it")
    checkOutAt: datetime | None = Field(default=None, description="Null while the visit is open")
    checkOutClientTime: datetime | None = None
    checkOutLocation: LocationDTO | None = None
    distanceMeters: float | None = Field(
        default=None,
        description="Check-in position to the service object, meters (null: no position, or the object has no "
        "coordinates, i.e. 0, 0)",
    )
    outsideGeofence: bool | None = Field(
        default=None,
        description="The check-in was farther than CABINET_FIELD_GEOFENCE_METERS from the object (marked, never "
        "refused); null when the distance is unknown",
    )


class SignatureDTO(_Out):
    """The customer's signature: a PNG (GET /call/{callId}/signature/{attachmentId}) and the name they typed."""

    signerName: str
    signedAt: datetime = Field(description="When the signature reached the service")
    attachmentId: int = Field(description="The PNG's id")
    size: int = Field(description="Bytes of the PNG")
    sha256: str = Field(description="SHA-256 of the PNG, hex")


class PostVisitInputDTO(_In):
    action: Literal["checkIn", "checkOut"]
    clientTime: DateTime = Field(description="The phone's time of the tap (an offline check reaches us later)")
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    accuracyMeters: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)


class PostVisitOutputDTO(_Out):
    visits: list[VisitDTO]


class PostSignatureOutputDTO(_Out):
    signature: SignatureDTO


class CallDTO(_Out):
    availableExpenditureItems: list[ExpenditureItemDTO]
    clientName: str
    comments: str | None = None
    commited: datetime | None = None
    contactPersonEmail: str | None = None
    contactPersonName: str | None = None
    contactPersonPhone: str | None = None
    created: datetime
    critical: bool
    descriptionHtmlText: str
    descriptionTextForFieldEmployee: str
    finished: datetime | None = None
    id: int
    isExpired: bool = Field(description="A deadline (tto before acceptance, ttf before completion) has passed")
    isJeopardy: bool = Field(description="An unanswered jeopardy is open")
    jeopardies: list[CallJeopardyDTO]
    number: str
    serviceObjectAddress: str
    serviceObjectLatitude: float
    serviceObjectLongitude: float
    serviceObjectName: str
    serviceObjectType: str | None = None
    status: CallStatus
    tasks: list[CallTasktOutputDTO]
    timestamp: int = Field(description="The call's change number (the cursor of GET /call/modifications)")
    ttf: datetime | None = None
    tto: datetime | None = None
    userId: int
    visits: list[VisitDTO] = Field(default_factory=list, description="The field employee's visits (not in the seed)")
    signature: SignatureDTO | None = Field(
        default=None, description="The customer's current signature (not in the seed); null: not signed"
    )


# --- messages and jeopardies ---------------------------------------------------------------------------------
class PostCallMessageInputDTO(_In):
    message: Text(2000, min_length=1)  # type: ignore[valid-type]


class PostExternalCallMessageInputDTO(_In):
    date: DateTime
    message: Text(2000, min_length=1)  # type: ignore[valid-type]


class PostExternalCallMessageOutputDTO(_Out):
    id: int


class CallMessageDTO(_Out):
    callId: int
    date: datetime
    id: int
    message: str
    owner: UserDTO | None = Field(description="The contractor user who wrote it; null = the external system")
    timestamp: int


class PostCallJeopardyInputDTO(_In):
    comment: Text(2000, min_length=1)  # type: ignore[valid-type]


class PostCallJeopardyOutputDTO(_Out):
    date: datetime
    id: int


class PostExternalCallJeopardyInputDTO(_In):
    answerComment: Text(2000, min_length=1)  # type: ignore[valid-type]


class PostExternalCallJeopardyOutputDTO(_Out):
    answerDate: datetime


# --- tasks, notifications, settings --------------------------------------------------------------------------
class CallTaskStatusInputDTO(_In):
    status: TaskStatus


class NotificationDTO(_Out):
    id: int
    callId: int | None = None
    kind: str = Field(description=" | ".join(NOTIFICATION_KINDS))
    text: str
    created: datetime
    isRead: bool
    readAt: datetime | None = None


class PatchSystemSettingsInputDTO(_In):
    callCostDeadlineDayOfMonth: int | None = Field(
        default=None,
        ge=1,
        le=28,
        description="Day 1..28 of the month after a call's completion until which its cost estimate may be "
        "edited and sent. Optional (seed 004): absent or null keeps the day in force.",
    )


# --- cost estimates ------------------------------------------------------------------------------------------
def _json_number(value: Any) -> Any:
    """A JSON number only (no strings, no booleans, no NaN or infinity), read as its exact decimal text."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("a number is expected")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a finite number is expected")
        return Decimal(repr(value))
    return value


def _number_schema(description: str, *, high: Decimal, positive: bool) -> WithJsonSchema:
    low = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    return WithJsonSchema({"type": "number", **low, "maximum": int(high), "description": description})


Count = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    Field(gt=0, le=COUNT_MAX, decimal_places=COUNT_SCALE),
    PlainSerializer(float, return_type=float),
    _number_schema(
        f"Quantity: over 0, at most {int(COUNT_MAX)}, at most {COUNT_SCALE} decimal places (more are refused, not "
        "rounded). Stored as an exact decimal.",
        high=COUNT_MAX,
        positive=True,
    ),
]
Price = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    Field(ge=0, le=PRICE_MAX, decimal_places=PRICE_SCALE),
    PlainSerializer(float, return_type=float),
    _number_schema(
        f"Price of ONE unit (not of the line): 0..{int(PRICE_MAX)}, at most {PRICE_SCALE} decimal places (more are "
        "refused, not rounded), in the contract's currency (the seed names none). Stored as an exact decimal.",
        high=PRICE_MAX,
        positive=False,
    ),
]
MONEY_TEXT = (
    'An exact decimal as a string with exactly 2 decimal places (e.g. "0.30"), so no client loses a cent to '
    "binary floating point."
)


class PostExpenseInputDTO(_In):
    count: Count
    expenditureItemId: Id = Field(description="One of the call's availableExpenditureItems (else 400, errorCode 15)")


class PatchExpenseInputDTO(_In):
    count: Count | None = Field(default=None, description="Only the fields sent change; null is refused")
    expenditureItemId: Id | None = None


class PostMaterialInputDTO(_In):
    count: Count
    name: Text(MATERIAL_NAME_MAX, min_length=1) = Field(description="Name, not blank")  # type: ignore[valid-type]
    ownerType: MaterialOwner
    price: Price
    serialNumber: Text(SERIAL_NUMBER_MAX) = Field(description="Serial number (empty for consumables)")  # type: ignore[valid-type]


class PatchMaterialInputDTO(_In):
    count: Count | None = Field(default=None, description="Only the fields sent change; null is refused")
    name: Text(MATERIAL_NAME_MAX, min_length=1) | None = None  # type: ignore[valid-type]
    ownerType: MaterialOwner | None = None
    price: Price | None = None
    serialNumber: Text(SERIAL_NUMBER_MAX) | None = None  # type: ignore[valid-type]


class PostMaterialOutputDTO(_Out):
    """The id of the line created (the seed answers expenses with this DTO too)."""

    id: int


class ExpenseDTO(_Out):
    count: Count
    expenditureItemId: int
    id: int
    status: LineStatus


class MaterialDTO(_Out):
    count: Count
    id: int
    name: str
    ownerType: MaterialOwner
    price: Price
    serialNumber: str
    status: LineStatus
    total: str = Field(description="count x price, rounded half-up to the cent. " + MONEY_TEXT)


class CallCostDTO(_Out):
    """A call's cost estimate: Draft (the contractor edits it) -> InProgress (sent) -> Processed (the external
    system decided every line)."""

    callId: int
    editableUntil: datetime | None = Field(
        description="The Draft can be edited and sent before this instant: the end of day callCostDeadlineDayOfMonth "
        "of the month after the call was finished, in the company's timezone; null while the call is not finished"
    )
    expenses: list[ExpenseDTO]
    materials: list[MaterialDTO]
    materialsTotal: str = Field(description="The exact sum of the materials' totals. " + MONEY_TEXT)
    processed: datetime | None = Field(description="When the last line was decided")
    sent: datetime | None = Field(description="When the contractor sent it")
    status: CostStatus
    timestamp: int = Field(description="The estimate's change number (the cursor of GET /callCost/modifications)")


LineDecision = Annotated[
    LineStatus,
    Field(description="Approved, ApprovedWithCorrection or Rejected (New is refused: it is not a decision)"),
]
LineKey = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,18}$", description="Line id")]


class PatchCallCostApprovalStatusInputDTO(_In):
    expenses: dict[LineKey, LineDecision] = Field(
        default_factory=dict, max_length=LINES_PER_ESTIMATE_MAX, description="Expense id -> decision"
    )
    materials: dict[LineKey, LineDecision] = Field(
        default_factory=dict, max_length=LINES_PER_ESTIMATE_MAX, description="Material id -> decision"
    )


# --- the field employee (/shared) ----------------------------------------------------------------------------
class PostCallTaskItemDTO(_In):
    newStatus: TaskStatus = Field(description="Done or Canceled (a New task only)")
    taskId: Id


class PostCallResultDTO(_In):
    """The field employee's report: the call becomes Done with the comment, each listed task its new status."""

    callTaskResults: list[PostCallTaskItemDTO] = Field(default_factory=list, max_length=500)
    comments: Text(2000, min_length=1)  # type: ignore[valid-type]
    expenses: list[PostExpenseInputDTO] = Field(
        default_factory=list, max_length=500, description="Expenses incurred: added to the call's cost estimate"
    )
    materials: list[PostMaterialInputDTO] = Field(
        default_factory=list, max_length=500, description="Materials (spare parts) used: added to the estimate"
    )
