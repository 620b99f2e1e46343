"""Fine-grained rules of who may manage which company and user (the coarse role checks are in the APIs).

ADMIN and OVERLORD manage every company; SUPPORT reads every company; a COMPANYOWNER reads and manages only its
own. Another company's objects are *not found* for a scoped caller, never "forbidden" (no existence leak).
"""

from __future__ import annotations

from collections.abc import Iterable

from cabinet.core.principal import Principal
from cabinet.core.roles import Permission, Role

PLATFORM_ROLES = frozenset({Role.ADMIN, Role.OVERLORD, Role.SUPPORT})


def read_scope(principal: Principal) -> int | None:
    """The company a reader is confined to (None: all companies)."""
    return None if principal.can(Permission.ADMIN_READ_ALL) else principal.company_id


def write_scope(principal: Principal) -> int | None:
    """The company a writer is confined to (None: all companies)."""
    return None if principal.can(Permission.ADMIN_WRITE_ALL) else principal.company_id


def in_scope(principal: Principal, company_id: int, *, write: bool) -> bool:
    """Whether the caller may read (or, with ``write``, change) things of ``company_id``."""
    scope = write_scope(principal) if write else read_scope(principal)
    return scope is None or scope == company_id


def may_manage_companies(principal: Principal) -> bool:
    """Create, rename or delete companies: platform operators only."""
    return principal.can(Permission.ADMIN_WRITE_ALL)


def roles_not_grantable(principal: Principal, roles: Iterable[Role]) -> list[Role]:
    """The roles among ``roles`` that ``principal`` may NOT give (empty list: all allowed)."""
    refused: list[Role] = []
    for role in roles:
        if role is Role.OVERLORD and not principal.can(Permission.GRANT_PLATFORM_ROLES):
            refused.append(role)
        elif role in PLATFORM_ROLES and not principal.can(Permission.ADMIN_WRITE_ALL):
            refused.append(role)
    return refused
