"""Admin API wire DTOs in seed 002's own names and shapes."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from cabinet.apis.shared.params import Day
from cabinet.core import regional
from cabinet.core.metering import ProcessType, Service
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import PASSWORD_MAX, PASSWORD_MIN

CompanyKey = Annotated[StrictStr, Field(min_length=3, max_length=256, pattern=r"^\w+\Z", examples=["my_company"])]
Username = Annotated[
    StrictStr, Field(min_length=2, max_length=256, pattern=r"^\w+\Z", examples=["my_username_for_login"])
]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", regex_engine="python-re")


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


class SortDirection(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class UserGroup(enum.StrEnum):
    TOTAL = "TOTAL"
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    ADMINS = "ADMINS"


class Company(WireModel):
    key: CompanyKey
    detail: StrictStr | None = Field(default=None, min_length=0, max_length=1024)
    timezone: StrictStr | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone its people see times in (unless they choose their own). Left out: on "
        "creation the deployment's CABINET_DEFAULT_TIMEZONE, on an update the current one.",
        examples=["Europe/Moscow"],
    )
    locale: Literal["ru", "en"] | None = Field(
        default=None,
        description="Language of its pages when the person and the browser choose none. Left out: on creation "
        "CABINET_DEFAULT_LOCALE, on an update the current one.",
    )
    currency: StrictStr | None = Field(
        default=None,
        description="ISO 4217 currency of its amounts (cost estimates). Left out: on creation "
        "CABINET_DEFAULT_CURRENCY, on an update the current one.",
        examples=["RUB"],
    )

    @field_validator("detail")
    @classmethod
    def _detail(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        issue = None if value is None else regional.zone_issue(value)
        if issue:
            raise ValueError(issue)
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        issue = None if value is None else regional.currency_issue(value)
        if issue:
            raise ValueError(issue)
        return value


class TotalCounter(WireModel):
    total: int = Field(ge=0)


class ListStats(WireModel):
    overall: TotalCounter
    filter: TotalCounter


class CompanyList(WireModel):
    companies: list[Company]
    statistics: ListStats


class UserIn(WireModel):
    """User creation and update request (``password`` is write-only)."""

    username: Username
    password: StrictStr | None = Field(
        default=None,
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description=f"{PASSWORD_MIN}..{PASSWORD_MAX} characters (the one password policy).",
    )
    name: StrictStr | None = Field(default=None, min_length=2, max_length=256)
    email: StrictStr | None = Field(default=None, min_length=5, max_length=256)
    phone: StrictStr | None = Field(default=None, min_length=5, max_length=32)
    company_key: CompanyKey
    enabled: StrictBool = True
    roles: list[Role] = Field(max_length=2)
    timezone: StrictInt = Field(default=0, ge=-12, le=12)

    @field_validator("password", "name", "email", "phone")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, value: list[Role]) -> list[Role]:
        if len(set(value)) != len(value):
            raise ValueError("roles must be unique")
        return value


class UserOut(WireModel):
    username: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    company_key: str
    enabled: bool = True
    roles: list[Role]
    timezone: int = 0


class UserCounters(WireModel):
    total: int = Field(ge=0)
    active: int = Field(ge=0)
    blocked: int = Field(ge=0)
    admins: int = Field(ge=0)


class UserListStats(WireModel):
    overall: UserCounters
    filter: UserCounters


class UserList(WireModel):
    users: list[UserOut]
    statistics: UserListStats


class Tracedata(WireModel):
    code: uuid.UUID
    client: str
    server: str
    service: Service
    operation: str
    time: datetime


class AuditStatistics(WireModel):
    points_count: int = Field(ge=0)
    duration: str


class AuditAction(WireModel):
    username: str
    company_key: str
    tracedata: Tracedata
    method_group: ProcessType
    statistics: AuditStatistics


class AuditList(WireModel):
    actions: list[AuditAction]
    statistics: ListStats


class MethodStatistics(WireModel):
    method_group: ProcessType
    unique_points_per_day: int = Field(ge=0)
    points_per_day: int = Field(ge=0)


class ServiceStatistics(WireModel):
    service: Service
    methods: list[MethodStatistics]


class DateStatistics(WireModel):
    date: date
    services: list[ServiceStatistics]


class UserStatistics(WireModel):
    username: str
    dates: list[DateStatistics]


class StatisticsResult(WireModel):
    users: list[UserStatistics]


class MethodQuota(WireModel):
    method_group: ProcessType
    points_per_request: StrictInt = Field(ge=0, le=1_000_000)
    points_per_day: StrictInt = Field(ge=0, le=100_000_000)
    points_per_date_window: StrictInt | None = Field(
        default=None,
        ge=0,
        le=2_147_483_647,
        description="Points within the date window (query `from`/`to` of the quota update); null: no such limit.",
    )
    max_concurrent_execution: StrictInt = Field(ge=0, le=1000)


class ServiceQuota(WireModel):
    service: Service
    methods: list[MethodQuota] = Field(min_length=1, max_length=100)


class QuotaIn(WireModel):
    """Request to change the quota on the date (window dates in the query: ``from``, ``to``)."""

    services: list[ServiceQuota] = Field(min_length=1, max_length=100)


class QuotaBase(WireModel):
    services: list[ServiceQuota]


class QuotaWindow(WireModel):
    """The days (inclusive) in which points_per_date_window applies; a null end is open."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: Day | None = Field(default=None, alias="from")
    date_to: Day | None = Field(default=None, alias="to")


class QuotaResult(WireModel):
    base: QuotaBase
    window: QuotaWindow | None = Field(
        default=None, description="The date window of points_per_date_window; null: none was given."
    )


class CeilingResult(WireModel):
    """A company's quota ceiling: the most a COMPANYOWNER may give each of its users."""

    base: QuotaBase


class VersionResult(WireModel):
    major: int = Field(ge=1, le=100)
    minor: int = Field(ge=0, le=111)
    build: str = Field(min_length=1, max_length=64)


class CheckResult(WireModel):
    health: float = Field(ge=0, le=1)


class GeneralError(WireModel):
    tracedata: Tracedata
    message: str | None = None


class NotFoundDetail(WireModel):
    tracedata: Tracedata


class NotFoundError(WireModel):
    resource_id: str | None = None
    detail: NotFoundDetail | None = None
