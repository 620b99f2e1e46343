"""Admin API: API keys of users and company networks, on the wire (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cabinet.core.principal import CredentialKind
from cabinet.core.roles import Role
from cabinet.domains.credentials.errors import ApiKeyBlocked, ApiKeyInvalid
from cabinet.domains.registry import Services
from cabinet.models import AuditAction
from tests.helpers import MadeUser, UserFactory, bearer, login


async def token_for(client: httpx.AsyncClient, make_user: UserFactory, role: Role, company: str) -> str:
    return await login(client, await make_user(company=company, roles=[role]))


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_user: UserFactory) -> dict[str, str]:
    return bearer(await token_for(client, make_user, Role.ADMIN, "ops_co"))


@pytest.fixture
async def target(make_user: UserFactory) -> MadeUser:
    return await make_user(company="client_co", roles=[Role.BOT])


def assert_tracedata(body: dict[str, Any]) -> None:
    assert set(body["tracedata"]) == {"code", "client", "server", "service", "operation", "time"}
    assert body["tracedata"]["service"] == "ADMIN"


def assert_not_found(response: httpx.Response, resource: str) -> None:
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["resource_id"] == resource
    assert set(body["detail"]["tracedata"]) >= {"code", "operation"}


def stored_bytes(settings_dir: Path) -> bytes:
    blobs = b""
    for path in settings_dir.rglob("*"):
        if path.is_file():
            blobs += path.read_bytes()
    return blobs


# --- keys -----------------------------------------------------------------------------------------------------
async def test_key_lifecycle(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser
) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    created = await client.post(
        f"/admin/users/{target.username}/keys", headers=admin, json={"name": "erp", "expires_at": expires.isoformat()}
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert set(body) == {"key_id", "key", "prefix", "username", "name", "created_at", "expires_at", "blocked"}
    assert (
        body["key"].startswith(body["prefix"] + "_")
        and body["prefix"].startswith("cab_")
        and body["name"] == "erp"
        and body["blocked"] is False
    )
    assert body["username"] == target.username
    assert datetime.fromisoformat(body["expires_at"]) == expires
    key_id = body["key_id"]

    principal = await services.credentials.authenticate_key(body["key"])
    assert principal.username == target.username and principal.credential is CredentialKind.API_KEY

    listed = await client.get(f"/admin/users/{target.username}/keys", headers=admin)
    assert listed.status_code == 200
    keys = listed.json()["keys"]
    assert [k["key_id"] for k in keys] == [key_id]
    assert "key" not in keys[0] and keys[0]["prefix"] == body["prefix"]
    assert keys[0]["last_used_at"] is not None  # the authentication above
    secret = body["key"][len(body["prefix"]) + 1 :]
    assert secret not in listed.text

    blocked = await client.post(f"/admin/keys/{key_id}/block", headers=admin)
    assert blocked.status_code == 200 and blocked.json()["blocked"] is True
    assert secret not in blocked.text and "key" not in blocked.json()
    with pytest.raises(ApiKeyBlocked):
        await services.credentials.authenticate_key(body["key"])
    unblocked = await client.post(f"/admin/keys/{key_id}/unblock", headers=admin)
    assert unblocked.status_code == 200 and unblocked.json()["blocked"] is False
    assert (await services.credentials.authenticate_key(body["key"])).user_id == target.id

    deleted = await client.delete(f"/admin/keys/{key_id}", headers=admin)
    assert deleted.status_code == 204 and deleted.content == b""
    with pytest.raises(ApiKeyInvalid):
        await services.credentials.authenticate_key(body["key"])
    assert (await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json() == {"keys": []}
    for method, path in (
        ("DELETE", f"/admin/keys/{key_id}"),
        ("POST", f"/admin/keys/{key_id}/block"),
        ("POST", f"/admin/keys/{key_id}/unblock"),
    ):
        assert_not_found(await client.request(method, path, headers=admin), str(key_id))


async def test_create_without_body_is_a_permanent_key(
    client: httpx.AsyncClient, admin: dict[str, str], target: MadeUser
) -> None:
    created = await client.post(f"/admin/users/{target.username}/keys", headers=admin)
    assert created.status_code == 200, created.text
    assert created.json()["expires_at"] is None and created.json()["name"] is None
    empty = await client.post(f"/admin/users/{target.username}/keys", headers=admin, json={})
    assert empty.status_code == 200
    assert created.json()["key"] != empty.json()["key"]


async def test_the_secret_is_never_stored_in_audit_or_payloads(
    client: httpx.AsyncClient, services: Services, settings: Any, admin: dict[str, str], target: MadeUser
) -> None:
    created = await client.post(f"/admin/users/{target.username}/keys", headers=admin, json={"name": "audited"})
    assert created.status_code == 200
    key = created.json()["key"]
    secret = key[21:]
    # a TRACE operation that does keep payloads, as a control: its data are stored
    blocked = await client.post(f"/admin/keys/{created.json()['key_id']}/block", headers=admin)
    assert blocked.status_code == 200
    await services.audit.flush()

    async with services.credentials.db.engine.connect() as conn:
        rows = (await conn.execute(select(AuditAction.__table__))).mappings().all()
    by_operation = {r["operation"]: r for r in rows}
    create_row = by_operation["create_api_key"]
    assert create_row["process_type"] == "TRACE" and create_row["http_status"] == 200
    assert create_row["input_blob"] is None and create_row["output_blob"] is None
    assert by_operation["block_api_key"]["output_blob"] is not None  # the control did store data
    assert all(secret not in repr(dict(r)) for r in rows)
    assert secret.encode() not in stored_bytes(settings.blob_dir)

    # nor does the process's stored data endpoint know anything of it
    listed = await client.get(f"/admin/users/{target.username}/keys", headers=admin)
    assert secret not in listed.text


async def test_key_input_errors(client: httpx.AsyncClient, admin: dict[str, str], target: MadeUser) -> None:
    path = f"/admin/users/{target.username}/keys"
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for payload, entity in (
        ({"expires_at": past}, "expires_at"),
        ({"expires_at": "not a date"}, "body.expires_at"),
        ({"name": ""}, "body.name"),
        ({"name": "x" * 257}, "body.name"),
        ({"name": 12}, "body.name"),
    ):
        response = await client.post(path, headers=admin, json=payload)
        assert response.status_code == 400, (payload, response.text)
        body = response.json()
        assert_tracedata(body)
        assert entity in [e["entity"] for e in body["schema_errors"]], body
    assert (await client.get(path, headers=admin)).json() == {"keys": []}

    broken = await client.post(path, headers={**admin, "Content-Type": "application/json"}, content=b"{not json")
    assert broken.status_code == 400

    assert_not_found(await client.post("/admin/users/nobody_here/keys", headers=admin), "nobody_here")
    assert_not_found(await client.get("/admin/users/nobody_here/keys", headers=admin), "nobody_here")
    for bad in ("abc", "0", "-1", "99999999999999999999999"):
        response = await client.post(f"/admin/keys/{bad}/block", headers=admin)
        assert response.status_code == 400, (bad, response.text)
    assert (await client.post("/admin/users/x/keys", headers=admin)).status_code == 400  # username too short


async def test_authentication_and_roles(client: httpx.AsyncClient, make_user: UserFactory, target: MadeUser) -> None:
    path = f"/admin/users/{target.username}/keys"
    unauthenticated = await client.get(path)
    assert unauthenticated.status_code == 401
    assert_tracedata(unauthenticated.json())
    user = bearer(await token_for(client, make_user, Role.USER, "client_co"))
    for method, url in (("GET", path), ("POST", path), ("GET", "/admin/companies/client_co/networks")):
        response = await client.request(method, url, headers=user)
        assert response.status_code == 403, response.text


async def test_support_reads_but_never_writes(
    client: httpx.AsyncClient, make_user: UserFactory, admin: dict[str, str], target: MadeUser
) -> None:
    support = bearer(await token_for(client, make_user, Role.SUPPORT, "ops_co"))
    key_id = (await client.post(f"/admin/users/{target.username}/keys", headers=admin)).json()["key_id"]
    assert (await client.get(f"/admin/users/{target.username}/keys", headers=support)).status_code == 200
    assert (await client.get("/admin/companies/client_co/networks", headers=support)).status_code == 200
    for method, url, kwargs in (
        ("POST", f"/admin/users/{target.username}/keys", {}),
        ("POST", f"/admin/keys/{key_id}/block", {}),
        ("POST", f"/admin/keys/{key_id}/unblock", {}),
        ("DELETE", f"/admin/keys/{key_id}", {}),
        ("PUT", "/admin/companies/client_co/networks", {"json": {"networks": []}}),
        ("POST", "/admin/companies/client_co/networks", {"json": {"cidr": "10.0.0.0/8"}}),
        ("DELETE", "/admin/companies/client_co/networks", {"params": {"cidr": "10.0.0.0/8"}}),
    ):
        response = await client.request(method, url, headers=support, **kwargs)
        assert response.status_code == 403, (method, url, response.text)
        assert_tracedata(response.json())
    listed = (await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json()["keys"]
    assert [k["blocked"] for k in listed] == [False]


async def test_company_owner_is_confined_to_its_company(
    client: httpx.AsyncClient, make_user: UserFactory, admin: dict[str, str], target: MadeUser
) -> None:
    owner = bearer(await token_for(client, make_user, Role.COMPANYOWNER, "own_co"))
    staff = await make_user(company="own_co", roles=[Role.BOT])
    own = await client.post(f"/admin/users/{staff.username}/keys", headers=owner, json={"name": "own"})
    assert own.status_code == 200, own.text
    own_id = own.json()["key_id"]
    assert (await client.post(f"/admin/keys/{own_id}/block", headers=owner)).status_code == 200
    assert (await client.delete(f"/admin/keys/{own_id}", headers=owner)).status_code == 204

    foreign_id = (await client.post(f"/admin/users/{target.username}/keys", headers=admin)).json()["key_id"]
    assert_not_found(await client.post(f"/admin/users/{target.username}/keys", headers=owner), target.username)
    assert_not_found(await client.get(f"/admin/users/{target.username}/keys", headers=owner), target.username)
    for method, url in (
        ("POST", f"/admin/keys/{foreign_id}/block"),
        ("POST", f"/admin/keys/{foreign_id}/unblock"),
        ("DELETE", f"/admin/keys/{foreign_id}"),
    ):
        assert_not_found(await client.request(method, url, headers=owner), str(foreign_id))
    assert len((await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json()["keys"]) == 1

    assert (
        await client.post("/admin/companies/own_co/networks", headers=owner, json={"cidr": "10.0.0.0/8"})
    ).json() == {"networks": ["10.0.0.0/8"]}
    for method, kwargs in (
        ("GET", {}),
        ("PUT", {"json": {"networks": ["0.0.0.0/0"]}}),
        ("POST", {"json": {"cidr": "0.0.0.0/0"}}),
        ("DELETE", {"params": {"cidr": "10.0.0.0/8"}}),
    ):
        assert_not_found(
            await client.request(method, "/admin/companies/client_co/networks", headers=owner, **kwargs), "client_co"
        )
    assert (await client.get("/admin/companies/client_co/networks", headers=admin)).json() == {"networks": []}

    colleague = await make_user(company="own_co", roles=[Role.ADMIN])
    refused = await client.post(f"/admin/users/{colleague.username}/keys", headers=owner)
    assert refused.status_code == 403 and "ADMIN" in refused.json()["message"]


# --- networks -------------------------------------------------------------------------------------------------
async def test_network_routes(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser
) -> None:
    path = "/admin/companies/client_co/networks"
    assert (await client.get(path, headers=admin)).json() == {"networks": []}
    added = await client.post(path, headers=admin, json={"cidr": "10.1.2.3/8"})
    assert added.status_code == 200 and added.json() == {"networks": ["10.0.0.0/8"]}
    again = await client.post(path, headers=admin, json={"cidr": "10.0.0.0/8"})
    assert again.json() == {"networks": ["10.0.0.0/8"]}
    v6 = await client.post(path, headers=admin, json={"cidr": "2001:DB8::/32"})
    assert v6.json() == {"networks": ["10.0.0.0/8", "2001:db8::/32"]}
    removed = await client.delete(path, headers=admin, params={"cidr": "10.0.0.0/8"})
    assert removed.status_code == 200 and removed.json() == {"networks": ["2001:db8::/32"]}
    replaced = await client.put(path, headers=admin, json={"networks": ["127.0.0.1", "::1", "127.0.0.1/32"]})
    assert replaced.status_code == 200 and replaced.json() == {"networks": ["127.0.0.1/32", "::1/128"]}
    assert (await client.get(path, headers=admin)).json() == replaced.json()

    user = await services.identity.get_account_by_id(target.id)
    assert await services.credentials.is_allowed(user.company_id, "127.0.0.1")
    assert not await services.credentials.is_allowed(user.company_id, "10.0.0.1")
    assert (await client.put(path, headers=admin, json={"networks": []})).json() == {"networks": []}
    assert not await services.credentials.is_allowed(user.company_id, "127.0.0.1")


async def test_network_errors(client: httpx.AsyncClient, admin: dict[str, str], target: MadeUser) -> None:
    path = "/admin/companies/client_co/networks"
    for payload in ({"cidr": "garbage"}, {"cidr": "10.0.0.0/33"}, {"cidr": ""}, {"cidr": 10}, {}, {"cidr": "x" * 65}):
        response = await client.post(path, headers=admin, json=payload)
        assert response.status_code == 400, (payload, response.text)
        assert_tracedata(response.json())
        assert response.json()["schema_errors"]
    bad_list = await client.put(path, headers=admin, json={"networks": ["10.0.0.0/8", "nope", "fe80::1%eth0"]})
    assert bad_list.status_code == 400
    assert [e["entity"] for e in bad_list.json()["schema_errors"]] == ["networks.1", "networks.2"]
    assert (await client.put(path, headers=admin, json={"networks": "10.0.0.0/8"})).status_code == 400
    assert (await client.put(path, headers=admin, json={"networks": ["1.1.1.1"] * 1001})).status_code == 400
    assert (await client.delete(path, headers=admin, params={"cidr": "not-a-net"})).status_code == 400
    assert (await client.delete(path, headers=admin)).status_code == 400  # cidr is required
    assert (await client.get(path, headers=admin)).json() == {"networks": []}

    assert_not_found(await client.get("/admin/companies/no_such_co/networks", headers=admin), "no_such_co")
    assert_not_found(
        await client.post("/admin/companies/no_such_co/networks", headers=admin, json={"cidr": "10.0.0.0/8"}),
        "no_such_co",
    )


async def test_documented_in_the_admin_openapi(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/admin/openapi.json")).json()
    operations = {
        op["operationId"]: (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    assert operations["create_api_key"] == ("POST", "/users/{username}/keys")
    assert operations["read_api_keys"] == ("GET", "/users/{username}/keys")
    assert operations["block_api_key"] == ("POST", "/keys/{key_id}/block")
    assert operations["unblock_api_key"] == ("POST", "/keys/{key_id}/unblock")
    assert operations["delete_api_key"] == ("DELETE", "/keys/{key_id}")
    assert operations["read_networks"] == ("GET", "/companies/{key}/networks")
    assert operations["update_networks"] == ("PUT", "/companies/{key}/networks")
    assert operations["create_network"] == ("POST", "/companies/{key}/networks")
    assert operations["delete_network"] == ("DELETE", "/companies/{key}/networks")
    issued = spec["components"]["schemas"]["ApiKeyIssued"]["properties"]
    assert "key" in issued
    assert "key" not in spec["components"]["schemas"]["ApiKeyOut"]["properties"]
