"""Account API wire DTOs: names, lengths, patterns, enums and defaults exactly as the published 7.x client
and seeds 000/001 give them."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import PASSWORD_MAX, PASSWORD_MIN

EMAIL_RE = re.compile(r"^[A-Za-z0-9+_.-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^[+]{1}(?:[0-9\-$/.]\s?){6,15}[0-9]{1}$")

Username = Annotated[StrictStr, Field(min_length=2, max_length=256, pattern=r"^\w+$", examples=["username_for_login"])]
CompanyKey = Annotated[StrictStr, Field(min_length=3, max_length=256, pattern=r"^\w+$", examples=["smart_company"])]
Password = Annotated[
    StrictStr, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, examples=["long_strong_password"])
]
Specification = Annotated[StrictStr, Field(min_length=2, max_length=256, examples=["User full name"])]
Email = Annotated[StrictStr, Field(min_length=5, max_length=256, examples=["admin@company.com"])]
Phone = Annotated[StrictStr, Field(min_length=5, max_length=32, examples=["+71112223333"])]
# An operation's name as the audit records it: the REST operationIds are words, the Data API's JSON-RPC method
# names are dotted words (login.user). The published client checks only that it starts with a word character.
OPERATION_PATTERN = r"^\w+(?:\.\w+)*$"
OperationName = Annotated[
    str, Field(min_length=3, max_length=256, pattern=OPERATION_PATTERN, examples=["read_audit", "get.calls"])
]


class Service(enum.StrEnum):
    UNIVERSAL = "UNIVERSAL"
    ROUTING = "ROUTING"
    ACCOUNT = "ACCOUNT"
    ADMIN = "ADMIN"
    STUDIO = "STUDIO"
    MONITOR = "MONITOR"
    PACKER = "PACKER"
    AGRO = "AGRO"
    REGISTRY = "REGISTRY"
    SUPPORT = "SUPPORT"


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", regex_engine="python-re", populate_by_name=True)


class TokenRequest(WireModel):
    """Token obtaining data."""

    username: Username
    password: Password
    ttl_seconds: StrictInt = Field(default=86_400, ge=60, le=31_556_926, description="Token validity, seconds.")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not re.fullmatch(r"\w+", value):  # the pattern's `$` also matches before a final "\n"
            raise ValueError(r"String should match pattern '^\w+$'")
        return value


class PasswordChangeRequest(WireModel):
    """Password change data."""

    current_password: Password
    new_password: Password


class Attribute(WireModel):
    key: StrictStr = Field(min_length=1, max_length=100)
    value: StrictStr = Field(min_length=0, max_length=7000)
    strategy: StrictStr | None = Field(default=None, min_length=0, max_length=100)


class InfoChangeRequest(WireModel):
    """Account info update data: a field left out is kept; an explicit null clears it."""

    specification: Specification | None = None
    email: Email | None = None
    phone: Phone | None = None
    attributes: list[Attribute] | None = Field(default=None, max_length=250)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL_RE.fullmatch(value):
            raise ValueError("not a valid e-mail address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE_RE.fullmatch(value):
            raise ValueError("not a valid phone number: +, then 7..16 digits")
        return value

    # Stored text cannot hold U+0000 (PostgreSQL refuses it in text and JSON): refuse it here, as a 400.
    @field_validator("specification")
    @classmethod
    def _specification(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not contain the NUL character (U+0000)")
        return value

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: list[Attribute] | None) -> list[Attribute] | None:
        for index, attribute in enumerate(value or ()):
            for name in ("key", "value", "strategy"):
                if "\x00" in (getattr(attribute, name) or ""):
                    raise ValueError(f"attributes[{index}].{name} must not contain the NUL character (U+0000)")
        return value


class TokenValidationResult(WireModel):
    valid: StrictBool
    roles: list[Role] = Field(max_length=5)


class User(WireModel):
    """Account information (never carries a password)."""

    username: Username
    specification: str | None = None
    email: str | None = None
    phone: str | None = None
    company_key: CompanyKey
    enabled: bool = True
    roles: list[Role] = Field(max_length=5)
    timezone: int = Field(default=0, ge=-12, le=12)
    edit_date: datetime | None = None
    creation_date: datetime | None = None
    attributes: list[Attribute] = Field(default_factory=list, max_length=250)


class CheckResult(WireModel):
    health: float = Field(ge=0, le=1, description="0 = not ready, 1 = fully ready.")


class VersionResult(WireModel):
    major: int = Field(ge=1, le=100)
    minor: int = Field(ge=0, le=111)
    build: str = Field(min_length=1, max_length=64)


class Tracedata(WireModel):
    process_code: uuid.UUID
    request_code: uuid.UUID
    username: Annotated[str, Field(min_length=2, max_length=256, pattern=r"^\w+$")]
    company: Annotated[str, Field(min_length=3, max_length=256, pattern=r"^\w+$")]
    service: Service
    operation: OperationName
    env: Annotated[str, Field(min_length=2, max_length=256, pattern=r"^\S+$")]
    pod: Annotated[str, Field(min_length=2, max_length=256, pattern=r"^\S+$")]
    time: datetime


class SchemaError(WireModel):
    entity: str | None = Field(default=None, min_length=1, max_length=1024)
    message: str = Field(min_length=1, max_length=2048)


class General400(WireModel):
    tracedata: Tracedata
    message: str | None = Field(default=None, min_length=1, max_length=2048)
    schema_errors: list[SchemaError] = Field(default_factory=list, max_length=15001)


class GeneralError(WireModel):
    """The body of 401, 402, 403, 409, 413, 415, 429, 500 and 503 answers."""

    tracedata: Tracedata
    message: str | None = Field(default=None, min_length=1, max_length=2048)


class General404Detail(WireModel):
    tracedata: Tracedata


class General404(WireModel):
    resource_key: str | None = Field(default=None, min_length=1, max_length=1024)
    detail: General404Detail | None = None
