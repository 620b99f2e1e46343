"""Internal commands and results of the identity domain (not wire DTOs)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cabinet.core.roles import Role

USERNAME_RE = re.compile(r"^\w{2,256}$")
COMPANY_KEY_RE = re.compile(r"^\w{3,256}$")
# the Account client's patterns: every stored value must be readable by it
EMAIL_RE = re.compile(r"[A-Za-z0-9+_.-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"[+](?:[0-9\-$/.]\s?){6,15}[0-9]")
PASSWORD_MIN, PASSWORD_MAX = 10, 256  # the one password policy (password_issue; README: Security limits)


def password_issue(password: str) -> str | None:
    """The one password policy, for every way a password is set (Account, Admin and Data API, contractor
    register and password change, the pages, ``cabinet users create``): why ``password`` is refused, or None.
    The Account API's sign-in takes the same length, so a password set anywhere signs in everywhere."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"a password must be {PASSWORD_MIN}..{PASSWORD_MAX} characters"
    return None


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
    zone: str | None = None  # IANA; None: the company's (``timezone`` then stays as given)
    enabled: bool = True
    attributes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class AccountPatch:
    """A user's own changes (Account API ``InfoChangeRequest``): UNSET keeps, None clears."""

    specification: Any = UNSET
    email: Any = UNSET
    phone: Any = UNSET
    attributes: Any = UNSET
    zone: Any = UNSET  # IANA time zone; None: the company's
    locale: Any = UNSET  # ru|en; None: the browser's


@dataclass(slots=True)
class Regional:
    """A company's time zone (IANA), language (ru|en) and currency (ISO 4217); UNSET keeps (or, for a new company,
    takes the deployment's default)."""

    zone: Any = UNSET
    locale: Any = UNSET
    currency: Any = UNSET


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(slots=True)
class UserUpdate:
    """An operator's change of a user: UNSET keeps a field; ``username`` identifies the user and never changes."""

    username: str
    password: Any = UNSET
    specification: Any = UNSET
    email: Any = UNSET
    phone: Any = UNSET
    company_key: Any = UNSET
    enabled: Any = UNSET
    roles: Any = UNSET
    timezone: Any = UNSET
    zone: Any = UNSET  # IANA; None: the company's (the integer ``timezone`` follows its offset)


class UserGroup:
    TOTAL = "TOTAL"
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    ADMINS = "ADMINS"


@dataclass(frozen=True, slots=True)
class ListQuery:
    offset: int = 0
    limit: int = 100
    text: str | None = None
    sort_field: str | None = None
    descending: bool = False
    company_key: str | None = None
    user_group: str = UserGroup.TOTAL


@dataclass(frozen=True, slots=True)
class UserCounters:
    total: int
    active: int
    blocked: int
    admins: int
