"""get.account / getobj.account: the caller's account (company) and user. get.account follows seed 003's ``get``
conventions (``fields``, ``offset``/``limit``, ``metadata.total_items``); its one row has nothing to filter or sort
on, so ``filter`` and ``sort`` answer filter_prohibited / sort_prohibited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cabinet.apis.data.registry import (
    DATA_USER,
    FieldSpec,
    Method,
    Result,
    RpcCall,
    common_params,
    get_method,
    register,
)
from cabinet.core.principal import Principal
from cabinet.core.query import FieldType as T
from cabinet.core.query import Query
from cabinet.domains.registry import Services


def iana_zone(hours: int) -> str:
    """An IANA name for a whole-hour offset (POSIX sign: UTC+3 is Etc/GMT-3)."""
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


@dataclass(frozen=True, slots=True)
class _Account:
    app_id: int
    name: str
    timezone: str
    user_id: int
    login: str


async def _read(services: Services, principal: Principal) -> _Account:
    user = await services.identity.get_account(principal)
    return _Account(user.company_id, user.company.key, iana_zone(user.timezone), user.id, user.username)


def _search(services: Services) -> Any:
    async def search(principal: Principal, query: Query) -> tuple[Sequence[_Account], int]:
        rows = [await _read(services, principal)]
        return rows[query.offset : query.offset + query.limit], len(rows)

    return search


async def getobj_account(call: RpcCall) -> Result:
    account = await _read(call.services, call.principal)
    return Result({name: getattr(account, name) for name in ACCOUNT["properties"]})


ACCOUNT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "app_id": {"type": "integer", "description": "The account (company) id."},
        "name": {"type": "string", "description": "The company key."},
        "timezone": {"type": "string", "description": "Your timezone (IANA name)."},
        "user_id": {"type": "integer"},
        "login": {"type": "string"},
    },
    "required": ["app_id", "name", "timezone", "user_id", "login"],
}
FIELDS_DOC = "app_id (the account = company id), name (company key), timezone (IANA), user_id, login"
FIELDS = tuple(
    FieldSpec(name, kind, description, filterable=False, sortable=False)
    for name, kind, description in (
        ("app_id", T.INTEGER, "The account (company) id."),
        ("name", T.STRING, "The company key."),
        ("timezone", T.STRING, "Your timezone (IANA name)."),
        ("user_id", T.INTEGER, "Your user id."),
        ("login", T.STRING, "Your login."),
    )
)
register(
    get_method(
        "get.account",
        f"Your account as a one-element list: {FIELDS_DOC}. Takes fields, offset and limit; metadata.total_items is 1.",
        rights=DATA_USER,
        catalog=(),
        search=_search,
        fields=FIELDS,
    ),
    Method(
        "getobj.account",
        f"Your account as one object: {FIELDS_DOC}.",
        DATA_USER,
        getobj_account,
        common_params(),
        result=ACCOUNT,
    ),
)
