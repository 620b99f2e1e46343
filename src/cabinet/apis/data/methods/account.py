"""get.account / getobj.account: the caller's account (company) and user."""

from __future__ import annotations

from typing import Any

from cabinet.apis.data.registry import DATA_USER, Method, Result, RpcCall, common_params, register


def iana_zone(hours: int) -> str:
    """An IANA name for a whole-hour offset (POSIX sign: UTC+3 is Etc/GMT-3)."""
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


async def _account(call: RpcCall) -> dict[str, Any]:
    user = await call.services.identity.get_account(call.principal)
    return {
        "app_id": user.company_id,
        "name": user.company.key,
        "timezone": iana_zone(user.timezone),
        "user_id": user.id,
        "login": user.username,
    }


async def get_account(call: RpcCall) -> Result:
    return Result([await _account(call)])


async def getobj_account(call: RpcCall) -> Result:
    return Result(await _account(call))


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
register(
    Method(
        "get.account",
        f"Your account as a one-element list: {FIELDS_DOC}.",
        DATA_USER,
        get_account,
        common_params(),
        result={"type": "array", "items": ACCOUNT, "minItems": 1, "maxItems": 1},
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
