"""The Data API protocol (seed 003) row by row: envelope, errors, authentication, IP allow-list, limits, versions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.registry import Services
from tests.apis.data.support import Caller, make_caller, mnemonic, ok, rpc
from tests.helpers import UserFactory

ENVELOPE_CASES: list[tuple[str, bytes, int, str, Any]] = [
    ("E1 not JSON", b'{"jsonrpc": "2.0", "id": 1,', -32700, "parse_error", None),
    ("E1 not UTF-8", b'{"jsonrpc": "2.0", "id": "\xff"}', -32700, "parse_error", None),
    (
        "E2 batch",
        b'[{"jsonrpc": "2.0", "id": 1, "method": "get.account", "params": {}}]',
        -32099,
        "batch_opreations_not_supported",
        None,
    ),
    ("E2 empty batch", b"[]", -32099, "batch_opreations_not_supported", None),
    (
        "E3 notification",
        b'{"jsonrpc": "2.0", "method": "get.account", "params": {}}',
        -32099,
        "notifications_not_supported",
        None,
    ),
    ("E4 scalar body", b"42", -32600, "invalid_request", None),
    (
        "E4 wrong jsonrpc",
        b'{"jsonrpc": "1.0", "id": "x", "method": "get.account", "params": {}}',
        -32600,
        "invalid_request",
        "x",
    ),
    ("E4 no jsonrpc", b'{"id": 7, "method": "get.account", "params": {}}', -32600, "invalid_request", 7),
    (
        "E4 bool id",
        b'{"jsonrpc": "2.0", "id": true, "method": "get.account", "params": {}}',
        -32600,
        "invalid_request",
        None,
    ),
    (
        "E4 object id",
        b'{"jsonrpc": "2.0", "id": {}, "method": "get.account", "params": {}}',
        -32600,
        "invalid_request",
        None,
    ),
    (
        "D2 null id",
        b'{"jsonrpc": "2.0", "id": null, "method": "get.account", "params": {}}',
        -32600,
        "invalid_request",
        None,
    ),
    ("E4 method not a string", b'{"jsonrpc": "2.0", "id": 1, "method": 5, "params": {}}', -32600, "invalid_request", 1),
    (
        "E5 unknown method",
        b'{"jsonrpc": "2.0", "id": 1.5, "method": "get.tags", "params": {}}',
        -32601,
        "method_not_found",
        1.5,
    ),
    ("D3 params missing", b'{"jsonrpc": "2.0", "id": "p", "method": "get.account"}', -32600, "invalid_request", "p"),
    (
        "D3 params a list",
        b'{"jsonrpc": "2.0", "id": "p", "method": "get.account", "params": []}',
        -32600,
        "invalid_request",
        "p",
    ),
]


@pytest.mark.parametrize(("row", "raw", "code", "name", "ident"), ENVELOPE_CASES, ids=[c[0] for c in ENVELOPE_CASES])
async def test_envelope_errors(
    client: httpx.AsyncClient, row: str, raw: bytes, code: int, name: str, ident: Any
) -> None:
    response = await client.post("/v2.0", content=raw, headers={"Content-Type": "text/plain", "Accept": "text/html"})
    assert response.status_code == 200  # T7, and T4: Accept is ignored, T5: any Content-Type
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert set(body) == {"jsonrpc", "id", "error"} and body["jsonrpc"] == "2.0"
    assert body["id"] == ident and type(body["id"]) is type(ident)
    error = body["error"]
    assert (error["code"], error["data"]["mnemonic"]) == (code, name)
    assert isinstance(error["message"], str) and error["message"]


async def test_paths_ids_and_versions(client: httpx.AsyncClient, services: Services, make_user: UserFactory) -> None:
    caller = await make_caller(services, make_user)
    for path in ("/v2.0", "/v2.0/"):  # T1: without and with the slash, no redirect
        for ident in ("s", 12, 1.25):  # E7: the id's type survives
            body = await rpc(client, "get.account", caller.params(), path=path, ident=ident)
            [account] = ok(body)
            assert "api_version" not in body["result"]["metadata"]
    old = await rpc(client, "get.account", caller.params(), path="/v1.0")
    assert old["result"]["metadata"]["api_version"] == {  # V3
        "current_version_deprecated": True,
        "current_version": "1.0",
        "latest_version": "2.0",
    }
    old_error = await rpc(client, "get.nothing", caller.params(), path="/v1.0")
    assert old_error["error"]["data"]["metadata"]["api_version"]["current_version_deprecated"] is True
    # D1: other verbs and paths answer in JSON-RPC too
    response = await client.get("/v2.0")
    assert response.status_code == 405 and response.json()["error"]["data"]["mnemonic"] == "invalid_request"
    for path in ("/v9.9", "/v2.0/tags"):
        response = await client.post(path, json={"jsonrpc": "2.0", "id": 1, "method": "get.account", "params": {}})
        assert response.status_code == 404 and response.json()["error"]["data"]["mnemonic"] == "method_not_found"
    docs = await client.get("/v2.0/docs")
    assert docs.status_code == 200 and "get.account" in docs.text and "login.user" in docs.text


async def test_account_methods(client: httpx.AsyncClient, services: Services, make_user: UserFactory) -> None:
    caller = await make_caller(services, make_user, timezone=3)
    [account] = ok(await rpc(client, "get.account", caller.params()))  # R1: a one-element list
    expected = {
        "app_id": account["app_id"],
        "name": "acme_corp",
        "timezone": "Etc/GMT-3",
        "user_id": caller.user.id,
        "login": caller.user.username,
    }
    assert account == expected and isinstance(account["app_id"], int)
    body = await rpc(client, "getobj.account", caller.params())
    assert body["result"]["data"] == expected  # R2: an object
    limits = body["result"]["metadata"]["limits"]
    assert set(limits) == {
        "day_limit",
        "day_remaining",
        "day_reset",
        "minute_limit",
        "minute_remaining",
        "minute_reset",
    }
    assert all(type(v) is int for v in limits.values())  # C6
    assert limits["day_remaining"] == limits["day_limit"] - 2  # L1: 1 point per call


async def test_login_logout_and_session_lifetime(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any
) -> None:
    caller = await make_caller(services, make_user)
    login = await rpc(client, "login.user", {"login": caller.user.username, "password": caller.user.password})
    data = login["result"]["data"]
    assert set(data) == {"access_token", "expire_at", "app_id"} and "limits" not in login["result"]["metadata"]
    now = int(clock.now().timestamp())
    assert type(data["expire_at"]) is int and now + 3590 <= data["expire_at"] <= now + 3600
    [account] = ok(await rpc(client, "get.account", {"access_token": data["access_token"]}))
    assert account["app_id"] == data["app_id"]
    # A5/D4: a session an hour old has expired
    clock.advance(seconds=3601)
    expired = await rpc(client, "get.account", {"access_token": data["access_token"]})
    assert (expired["error"]["code"], mnemonic(expired)) == (-32001, "access_token_expired")
    # logout: the key is gone at once (A3)
    fresh = ok(await rpc(client, "login.user", {"login": caller.user.username, "password": caller.user.password}))
    assert ok(await rpc(client, "logout.user", {"access_token": fresh["access_token"]})) == {}
    gone = await rpc(client, "get.account", {"access_token": fresh["access_token"]})
    assert mnemonic(gone) == "access_token_invalid"


Scenario = Callable[[httpx.AsyncClient, Services, UserFactory, Any], Awaitable[dict[str, Any]]]


async def _unknown_key(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    await make_caller(services, make_user)
    return await rpc(client, "get.account", {"access_token": "0123456789abcdef." + "A" * 43})


async def _unknown_session(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    return await rpc(client, "get.account", {"access_token": "not-a-session"})


async def _blocked_key(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user)
    [key] = await services.credentials.list_keys(PLATFORM_OPERATOR, caller.user.username)
    await services.credentials.set_blocked(PLATFORM_OPERATOR, key.id, True)
    return await rpc(client, "get.account", caller.params())


async def _expired_key(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user)
    temporary = await services.credentials.issue_key(
        PLATFORM_OPERATOR, caller.user.username, KeyRequest(expires_at=clock.now() + timedelta(days=1))
    )
    assert "result" in await rpc(client, "get.account", {"access_token": temporary.key})
    clock.advance(seconds=86_401)
    return await rpc(client, "get.account", {"access_token": temporary.key})


async def _bad_password(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user)
    return await rpc(client, "login.user", {"login": caller.user.username, "password": "wrong password"})


async def _disabled(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user, enabled=False)
    return await rpc(client, "get.account", caller.params())


async def _not_whitelisted(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user, network="10.0.0.0/8")
    body = await rpc(client, "get.account", caller.params())
    assert body["error"]["message"] == "Your IP 127.0.0.1 is not whitelisted"
    assert body["error"]["data"]["params"] == {"ip": "127.0.0.1"}
    return body


async def _no_networks(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user, network=None)  # default deny
    return await rpc(client, "get.account", caller.params())


async def _login_not_whitelisted(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any
) -> Any:
    caller = await make_caller(services, make_user, network=None)
    return await rpc(client, "login.user", {"login": caller.user.username, "password": caller.user.password})


async def _no_right(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user, roles=[Role.CREW])  # no Data API at all
    return await rpc(client, "get.account", caller.params())


async def _login_without_right(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any
) -> Any:
    caller = await make_caller(services, make_user, roles=[Role.CREW])
    return await rpc(client, "login.user", {"login": caller.user.username, "password": caller.user.password})


async def _foreign_user_id(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    agent = await make_caller(services, make_user, roles=[Role.PARTNER], company="agency")
    stranger = await make_caller(services, make_user, company="not_a_client")
    return await rpc(client, "get.account", agent.params(user_id=stranger.user.id))


async def _missing_password(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    body = await rpc(client, "login.user", {"login": "someone"})
    assert body["error"]["data"]["field"] == "password"
    return body


async def _login_type(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    body = await rpc(client, "login.user", {"login": 5, "password": "x"})
    assert body["error"]["data"]["field"] == "login" and body["error"]["data"]["value"] == "5"
    return body


async def _extra_param(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user)
    body = await rpc(client, "get.account", caller.params(colour="red"))
    assert body["error"]["data"]["field"] == "colour"
    assert "limits" in body["error"]["data"]["metadata"]  # counted, so the error reports the limits too
    return body


async def _minute_limit(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user)
    services.quotas.default_minute_points = 2
    services.quotas._budget_cache.clear()
    clock.advance(seconds=60 - int(clock.now().timestamp()) % 60)  # start of a minute: no reset mid-test
    first = await rpc(client, "get.account", caller.params())
    assert first["result"]["metadata"]["limits"]["minute_remaining"] == 1
    failed = await rpc(client, "get.account", caller.params(colour="red"))  # L2: failures are not charged
    assert failed["error"]["data"]["metadata"]["limits"]["minute_remaining"] == 1
    second = await rpc(client, "get.account", caller.params())
    assert second["result"]["metadata"]["limits"]["minute_remaining"] == 0
    body = await rpc(client, "get.account", caller.params())
    assert body["error"]["message"] == ("Limit per minute has been exceeded. Value of current limit per minute is 2")
    assert body["error"]["data"]["params"] == {"limit_type": "minute", "limit_max_value": 2}
    assert body["error"]["data"]["metadata"]["limits"]["minute_remaining"] == 0
    return body


async def _disabled_elsewhere(client: httpx.AsyncClient, services: Services, make_user: UserFactory, clock: Any) -> Any:
    caller = await make_caller(services, make_user, enabled=False, network="10.0.0.0/8")
    return await rpc(client, "get.account", caller.params())


AUTH_CASES: list[tuple[str, Scenario, int, str]] = [
    ("A3 unknown key", _unknown_key, -32001, "access_token_invalid"),
    ("A3 unknown session", _unknown_session, -32001, "access_token_invalid"),
    ("A4 blocked key", _blocked_key, -32001, "access_token_blocked"),
    ("A5 expired temporary key", _expired_key, -32001, "access_token_expired"),
    ("A6 wrong password", _bad_password, -32001, "auth_error"),
    ("A7 disabled account", _disabled, -32009, "account_inactive"),
    ("A8 IP not on the list", _not_whitelisted, -32003, "ip_not_whitelisted"),
    ("IP checked before the account state", _disabled_elsewhere, -32003, "ip_not_whitelisted"),
    ("A8 no list: default deny", _no_networks, -32003, "ip_not_whitelisted"),
    ("A8 login from a foreign IP", _login_not_whitelisted, -32003, "ip_not_whitelisted"),
    ("A10 no right to the API", _no_right, -32003, "forbidden"),
    ("A10 login without the right", _login_without_right, -32003, "forbidden"),
    ("D8 user_id of no client", _foreign_user_id, -32003, "forbidden"),
    ("required param missed", _missing_password, -32602, "required_parameter_missed"),
    ("wrong JSON type", _login_type, -32602, "data_type_error"),
    ("unknown param", _extra_param, -32602, "unexpected_parameters"),
    ("L4 minute budget spent", _minute_limit, -32029, "limit_exceeded"),
]


@pytest.mark.parametrize(("row", "scenario", "code", "name"), AUTH_CASES, ids=[c[0] for c in AUTH_CASES])
async def test_auth_and_limits(
    client: httpx.AsyncClient,
    services: Services,
    make_user: UserFactory,
    clock: Any,
    row: str,
    scenario: Scenario,
    code: int,
    name: str,
) -> None:
    body = await scenario(client, services, make_user, clock)
    assert (body["error"]["code"], mnemonic(body)) == (code, name), body


async def test_agent_acts_for_linked_client(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    agent = await make_caller(services, make_user, roles=[Role.PARTNER], company="agency")
    client_user = await make_caller(services, make_user, company="client_co", timezone=5)
    await services.sessions.link_client("agency", "client_co")
    [account] = ok(await rpc(client, "get.account", agent.params(user_id=client_user.user.id)))
    assert (account["name"], account["user_id"], account["timezone"]) == ("client_co", client_user.user.id, "Etc/GMT-5")
    # the agent lists its clients' users: their ids are its user_id values
    customers = ok(await rpc(client, "get.customer_users", agent.params()))
    assert customers == [
        {
            "id": client_user.user.id,
            "login": client_user.user.username,
            "name": None,
            "is_active": True,
            "customer_id": account["app_id"],
            "customer_name": "client_co",
        }
    ]
    only = {"field": "customer_name", "operator": "=", "value": "nobody"}
    assert ok(await rpc(client, "get.customer_users", agent.params(filter=only))) == []
    assert mnemonic(await rpc(client, "get.customer_users", client_user.params())) == "forbidden"
    # the agent's own call without user_id is its own account
    [own] = ok(await rpc(client, "get.account", agent.params()))
    assert own["name"] == "agency"
    # for an agent's call the client's list decides (seed: "его IP адрес должен быть добавлен в белый список
    # клиентского аккаунта"), not the agent's own
    await services.credentials.replace_networks(PLATFORM_OPERATOR, "agency", ["10.0.0.0/8"])
    assert "result" in await rpc(client, "get.account", agent.params(user_id=client_user.user.id))
    assert mnemonic(await rpc(client, "get.account", agent.params())) == "ip_not_whitelisted"
    await services.credentials.replace_networks(PLATFORM_OPERATOR, "agency", ["127.0.0.1/32"])
    await services.credentials.replace_networks(PLATFORM_OPERATOR, "client_co", ["10.0.0.0/8"])
    refused = await rpc(client, "get.account", agent.params(user_id=client_user.user.id))
    assert mnemonic(refused) == "ip_not_whitelisted"
    # a non-agent may not act for anyone
    await services.credentials.replace_networks(PLATFORM_OPERATOR, "client_co", ["127.0.0.1/32"])
    other = await rpc(client, "get.account", client_user.params(user_id=agent.user.id))
    assert mnemonic(other) == "unexpected_parameters"


async def test_failed_calls_are_audited_as_failed(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    caller: Caller = await make_caller(services, make_user)
    await rpc(client, "get.account", caller.params())
    await rpc(client, "get.account", caller.params(colour="red"))
    await services.audit.flush()
    now = services.audit.clock.now()
    query = AuditQuery(date_from=now - timedelta(hours=1), date_to=now + timedelta(hours=1), user_id=caller.user.id)
    actions, _, _ = await services.audit.search(query)
    by_status = sorted((a.operation, a.service, a.status, a.request_points) for a in actions)
    assert by_status == [
        ("get.account", "REGISTRY", "FAILED", 0),
        ("get.account", "REGISTRY", "FINISHED_IN_TIME", 1),
    ]


async def test_unexpected_failure_is_an_internal_error_and_not_charged(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = await make_caller(services, make_user)
    before = ok_limits(await rpc(client, "getobj.account", caller.params()))

    async def broken(*_: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.identity, "get_account", broken)
    body = await rpc(client, "getobj.account", caller.params())
    assert (body["error"]["code"], mnemonic(body)) == (-32603, "internal_error")
    assert body["error"]["message"] == "Internal error, contact the support service"
    assert "disk on fire" not in str(body)
    assert body["error"]["data"]["metadata"]["limits"]["day_remaining"] == before["day_remaining"]


def ok_limits(body: dict[str, Any]) -> dict[str, int]:
    return body["result"]["metadata"]["limits"]  # type: ignore[no-any-return]


async def test_docs_page_lists_every_method_with_its_fields(client: httpx.AsyncClient) -> None:
    from cabinet.apis.data.registry import REGISTRY

    page = (await client.get("/v2.0/docs")).text
    for method in REGISTRY.values():
        assert f'id="{method.name}"' in page
        assert method.rights is None or method.rights.text.replace("'", "&#x27;") in page
        for name in method.params:
            assert f"<code>{name}</code>" in page
        for spec in method.fields:
            flags = f"<td>{'yes' if spec.filterable else 'no'}</td><td>{'yes' if spec.sortable else 'no'}</td>"
            assert f"<td><code>{spec.name}</code></td><td>{spec.type.value}</td>{flags}" in page
    assert "batch_opreations_not_supported" in page


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("login.user", {"login": "a\x00b", "password": "x"}, "login"),
        ("get.account", {"access_token": "k\x00"}, "access_token"),
        ("get.account", {"access_token": "k", "user_id": 2**63}, "user_id"),
    ],
)
async def test_values_no_database_stores(
    client: httpx.AsyncClient, method: str, params: dict[str, Any], field: str
) -> None:
    body = await rpc(client, method, params)
    assert (mnemonic(body), body["error"]["data"].get("field")) == ("invalid_parameter_value", field), body


async def test_values_no_database_stores_in_methods(client: httpx.AsyncClient, owner: Caller) -> None:
    for params in ({"id": 2**63}, {"id": 1, "name": "nul\x00"}):
        body = await rpc(client, "update.users", owner.params(**params))
        assert mnemonic(body) == "invalid_parameter_value", params
    huge = await client.post("/v2.0", content=b'{"jsonrpc":"2.0","id":1,"method":"get.account","params":{"a":1e999}}')
    assert huge.json()["error"]["data"]["mnemonic"] == "parse_error"  # numbers beyond a double: not accepted


async def test_limits_store_down_never_turns_done_work_into_an_error(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await make_caller(services, make_user, roles=[Role.COMPANYOWNER])

    async def down(*_: Any) -> Any:
        raise ConnectionError("limiter store unreachable")

    monkeypatch.setattr(services.quotas, "budget_status", down)
    created = await rpc(client, "create.users", owner.params(login="made_anyway", password="s3cret-pass"))
    assert "limits" not in created["result"]["metadata"] and isinstance(created["result"]["data"]["id"], int)
    failed = await rpc(client, "create.users", owner.params(login="made_anyway", password="s3cret-pass"))
    assert mnemonic(failed) == "duplicate_entity" and "limits" not in failed["error"]["data"]["metadata"]


async def test_a_users_own_quota_answers_limit_exceeded_in_the_seeds_words(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    from cabinet.core.metering import ProcessType, Service
    from cabinet.domains.quotas.schemas import QuotaSpec

    caller = await make_caller(services, make_user)
    user = await services.identity.get_account_by_id(caller.user.id)
    spec = QuotaSpec(
        Service.REGISTRY, ProcessType.NOTRACE, points_per_request=1, points_per_day=1, max_concurrent_execution=5
    )
    await services.quotas.replace_for_user(user.id, user.company_id, [spec])
    assert "result" in await rpc(client, "get.account", caller.params())
    body = await rpc(client, "get.account", caller.params())
    assert (body["error"]["code"], mnemonic(body)) == (-32029, "limit_exceeded")
    assert body["error"]["message"] == "Limit per day has been exceeded. Value of current limit per day is 1"
    assert body["error"]["data"]["params"] == {"limit_type": "day", "limit_max_value": 1}
