"""login.user / logout.user (seed 003)."""

from __future__ import annotations

from cabinet.apis.data.auth import whitelisted
from cabinet.apis.data.errors import RpcError
from cabinet.apis.data.params import ACCESS_TOKEN, Kind, Param
from cabinet.apis.data.registry import DATA_USER, Method, Result, Rights, RpcCall, register
from cabinet.core.metering import ProcessType
from cabinet.core.principal import CredentialKind, principal_of


async def login(call: RpcCall) -> Result:
    services = call.services
    user = await services.identity.authenticate(call.params["login"], call.params["password"], client_ip=call.client_ip)
    await whitelisted(services, user.company_id, call.client_ip)
    if not DATA_USER.check(principal_of(user, CredentialKind.SESSION, None, keep=True)):
        raise RpcError("forbidden", detail=f"login.user: {DATA_USER.text}")
    opened = await services.sessions.start(user.id)
    call.principal = opened.principal
    return Result(
        {"access_token": opened.key, "expire_at": int(opened.expires_at.timestamp()), "app_id": opened.company_id}
    )


async def logout(call: RpcCall) -> Result:
    await call.services.sessions.close(call.principal)
    return Result({})


register(
    Method(
        "login.user",
        "Log in: a session key that lives one hour (pass it as access_token), its expiry (unix seconds) and the "
        "account id. Not charged.",
        None,
        login,
        {
            "login": Param(Kind.STRING, "Your login.", required=True),
            "password": Param(Kind.STRING, "Your password.", required=True),
        },
        process_type=ProcessType.TRACE,
        points=0,
        store_payloads=False,
        result={
            "type": "object",
            "properties": {
                "access_token": {"type": "string"},
                "expire_at": {"type": "integer", "description": "Unix seconds."},
                "app_id": {"type": "integer"},
            },
            "required": ["access_token", "expire_at", "app_id"],
        },
        errors=("auth_error", "ip_not_whitelisted", "account_inactive", "forbidden"),
    ),
    Method(
        "logout.user",
        "Log out: the session key stops working at once. Not charged.",
        Rights("Anyone holding a session key or an API key.", lambda p: True),
        logout,
        {"access_token": ACCESS_TOKEN},
        process_type=ProcessType.TRACE,
        points=0,
        store_payloads=False,
        result={"type": "object", "additionalProperties": False},
    ),
)
