"""Internal commands and results of the identity domain (not wire DTOs)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cabinet.core.roles import Role

USERNAME_RE = re.compile(r"^\w{2,256}$")
COMPANY_KEY_RE = re.compile(r"^\w{3,256}$")
PASSWORD_MIN, PASSWORD_MAX = 5, 256  # the lowest bound any API allows (seed 002); APIs may demand more

UNSET: Any = object()  # "field not given" in a patch (distinct from an explicit None = clear)


@dataclass(slots=True)
class UserCreate:
    username: str
    password: str | None
    company_key: str
    roles: list[Role]
    create_company: bool = False
    specification: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: int = 0
    enabled: bool = True
    attributes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class AccountPatch:
    """A user's own changes (Account API ``InfoChangeRequest``): UNSET keeps, None clears."""

    specification: Any = UNSET
    email: Any = UNSET
    phone: Any = UNSET
    attributes: Any = UNSET


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
