"""Who is calling: resolved once per request by the API's auth dependency, passed to services."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from cabinet.core.roles import Permission, Role, has_permission


class CredentialKind(enum.StrEnum):
    ACCESS = "access"  # user access token (Account API, contractor UserAuth)
    SERVICE = "service"  # contractor service (refresh) token: buys a new pair only
    FIELD_LINK = "field_link"  # temporary link for field staff
    API_KEY = "api_key"  # long-lived integration key
    SESSION = "session"  # Data API login session
    WEB = "web"  # web pages' session cookie (refused by the APIs; ended by signing out)


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    company_id: int
    company_key: str
    roles: tuple[Role, ...]
    timezone: int
    credential: CredentialKind
    credential_id: str | None = None
    # the account row loaded while resolving the credential (request-local; saves the same read twice)
    account: Any = field(default=None, compare=False, repr=False)

    def can(self, permission: Permission) -> bool:
        return has_permission(self.roles, permission)


def principal_of(
    account: Any, credential: CredentialKind, credential_id: str | None, *, keep: bool = False
) -> Principal:
    """The principal of a loaded user row (duck-typed: id, username, company_id, company.key, roles, timezone);
    ``keep`` hangs the row on it for the request (saves reading the same account twice)."""
    return Principal(
        user_id=account.id,
        username=account.username,
        company_id=account.company_id,
        company_key=account.company.key,
        roles=tuple(Role(r) for r in account.roles),
        timezone=account.timezone,
        credential=credential,
        credential_id=credential_id,
        account=account if keep else None,
    )
