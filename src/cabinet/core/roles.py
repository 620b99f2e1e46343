"""The nine roles and the one permission table every API and service consults.

Roles come from the published Account client's enum (its order is kept). A user holds 0..2 of them.
A permission is a coarse capability; fine rules (own company, own calls) live in the domain policies.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Role(enum.StrEnum):
    ADMIN = "ADMIN"  # platform operator: Admin API over all companies
    PARTNER = "PARTNER"  # agent acting inside linked client companies (Data API user_id)
    USER = "USER"  # contractor staff
    BOT = "BOT"  # integration such as the ERP (the contractor area's external system)
    COMPANYOWNER = "COMPANYOWNER"  # administers its own company
    OVERLORD = "OVERLORD"  # platform owner: everything
    CREW = "CREW"  # field crew member
    CREWMANAGER = "CREWMANAGER"  # sees all calls of its company
    SUPPORT = "SUPPORT"  # read-only across the platform


class Permission(enum.StrEnum):
    ACCOUNT_SELF = "account.self"  # sign in, read and edit own account, own quota/usage/audit
    ADMIN_READ_ALL = "admin.read_all"  # read every company's users, quotas, audit, statistics
    ADMIN_WRITE_ALL = "admin.write_all"  # create/change/delete any company, user, quota, key
    ADMIN_READ_COMPANY = "admin.read_company"  # read own company's users, quotas, audit, statistics
    ADMIN_WRITE_COMPANY = "admin.write_company"  # manage own company's users, keys, quotas (within limits)
    GRANT_PLATFORM_ROLES = "admin.grant_platform_roles"  # give ADMIN / OVERLORD / SUPPORT
    DATA_API = "data.use"  # call the JSON-RPC Data API
    DATA_ACT_FOR_CLIENT = "data.act_for_client"  # params.user_id: act inside a linked client company
    CONTRACTOR_WORK = "contractor.work"  # accept and work own calls
    CONTRACTOR_COMPANY_CALLS = "contractor.company_calls"  # see and work every call of own company
    EXTERNAL_SYSTEM = "contractor.external_system"  # dispatch calls, close them, approve costs


_P = Permission
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OVERLORD: frozenset(_P),
    Role.ADMIN: frozenset(
        {
            _P.ACCOUNT_SELF,
            _P.ADMIN_READ_ALL,
            _P.ADMIN_WRITE_ALL,
            _P.ADMIN_READ_COMPANY,
            _P.ADMIN_WRITE_COMPANY,
            _P.DATA_API,
        }
    ),
    Role.SUPPORT: frozenset({_P.ACCOUNT_SELF, _P.ADMIN_READ_ALL, _P.ADMIN_READ_COMPANY, _P.DATA_API}),
    Role.COMPANYOWNER: frozenset(
        {
            _P.ACCOUNT_SELF,
            _P.ADMIN_READ_COMPANY,
            _P.ADMIN_WRITE_COMPANY,
            _P.DATA_API,
            _P.CONTRACTOR_WORK,
            _P.CONTRACTOR_COMPANY_CALLS,
        }
    ),
    Role.PARTNER: frozenset({_P.ACCOUNT_SELF, _P.DATA_API, _P.DATA_ACT_FOR_CLIENT}),
    Role.USER: frozenset({_P.ACCOUNT_SELF, _P.DATA_API, _P.CONTRACTOR_WORK}),
    Role.CREWMANAGER: frozenset({_P.ACCOUNT_SELF, _P.DATA_API, _P.CONTRACTOR_WORK, _P.CONTRACTOR_COMPANY_CALLS}),
    Role.CREW: frozenset({_P.ACCOUNT_SELF, _P.CONTRACTOR_WORK}),
    Role.BOT: frozenset({_P.ACCOUNT_SELF, _P.DATA_API, _P.EXTERNAL_SYSTEM}),
}

MAX_ROLES_PER_USER = 2
# who counts among "admins" in user lists (kept on each user as ``is_admin``, indexed)
ADMIN_ROLES = ("ADMIN", "OVERLORD", "COMPANYOWNER")


def permissions_of(roles: Iterable[Role | str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= PERMISSIONS[Role(role)]
    return frozenset(granted)


def has_permission(roles: Iterable[Role | str], permission: Permission) -> bool:
    return permission in permissions_of(roles)
