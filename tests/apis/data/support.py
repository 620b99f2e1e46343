"""Data API test helpers: a JSON-RPC call, a caller with an API key and an allowed loopback network."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.registry import Services
from tests.helpers import MadeUser, UserFactory

_ids = itertools.count(1)


async def rpc(
    client: httpx.AsyncClient,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    path: str = "/v2.0",
    ident: Any = None,
) -> dict[str, Any]:
    """One call; asserts the transport rules every answer keeps (HTTP 200, JSON, one of result/error, id)."""
    ident = ident if ident is not None else f"req-{next(_ids)}"
    response = await client.post(path, json={"jsonrpc": "2.0", "id": ident, "method": method, "params": params or {}})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body: dict[str, Any] = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == ident and type(body["id"]) is type(ident)
    assert ("result" in body) != ("error" in body), body
    return body


def ok(body: dict[str, Any]) -> Any:
    assert "result" in body, body
    return body["result"]["data"]


def mnemonic(body: dict[str, Any]) -> str:
    assert "error" in body, body
    return str(body["error"]["data"]["mnemonic"])


@dataclass
class Caller:
    user: MadeUser
    key: str
    services: Services

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"access_token": self.key, **extra}


async def make_caller(
    services: Services,
    make_user: UserFactory,
    *,
    roles: list[Role] | None = None,
    company: str = "acme_corp",
    network: str | None = "127.0.0.0/8",
    **extra: Any,
) -> Caller:
    user = await make_user(roles=roles if roles is not None else [Role.USER], company=company, **extra)
    issued = await services.credentials.issue_key(PLATFORM_OPERATOR, user.username, KeyRequest(name="tests"))
    if network:
        await services.credentials.allow_network(PLATFORM_OPERATOR, company, network)
    return Caller(user, issued.key, services)
