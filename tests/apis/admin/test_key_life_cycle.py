"""API key life cycle (issue 20): ``cab_`` prefixes, last use (time and address), CABINET_API_KEY_MAX_DAYS, rotation
with a grace period, revoke-all; keys issued in the older ``<id>.<secret>`` form keep working (both backends)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert

from cabinet.core.clock import OffsetClock
from cabinet.core.roles import Role
from cabinet.domains.credentials.errors import ApiKeyAlreadyRotated, ApiKeyBlocked, ApiKeyExpired
from cabinet.domains.credentials.schemas import KEY_RE, PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.registry import Services
from cabinet.models import ApiKey
from tests.apis.admin.test_directory import assert_error
from tests.apis.data.support import mnemonic, ok, rpc
from tests.helpers import MadeUser, UserFactory, bearer, login


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_user: UserFactory) -> dict[str, str]:
    return bearer(await login(client, await make_user(company="ops_co", roles=[Role.ADMIN])))


@pytest.fixture
async def target(make_user: UserFactory) -> MadeUser:
    return await make_user(company="client_co", roles=[Role.BOT])


async def legacy_key(services: Services, user: MadeUser) -> str:
    """A key as issued before ``cab_`` (``<16 hex>.<secret>``), written as that code wrote it."""
    creds = services.credentials
    prefix, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    async with creds.db.engine.begin() as conn:
        await conn.execute(
            insert(ApiKey).values(
                user_id=user.id,
                company_id=(await services.identity.get_account_by_id(user.id)).company_id,
                prefix=prefix,
                secret_hash=creds._digest(secret),
                name="old",
                blocked=False,
                created_at=creds.clock.now(),
            )
        )
    return f"{prefix}.{secret}"


async def test_new_keys_start_with_cab_and_their_prefix_is_listed(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser
) -> None:
    created = (await client.post(f"/admin/users/{target.username}/keys", headers=admin, json={"name": "erp"})).json()
    assert re.fullmatch(r"cab_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", created["key"])
    assert created["key"].startswith(created["prefix"] + "_") and KEY_RE.fullmatch(created["key"])
    listed = (await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json()["keys"]
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert listed[0]["created_at"] and listed[0]["expires_at"] is None and listed[0]["last_used_at"] is None


async def test_older_keys_keep_working(services: Services, target: MadeUser) -> None:
    key = await legacy_key(services, target)
    assert (await services.credentials.authenticate_key(key, "198.51.100.7")).user_id == target.id
    [row] = await services.credentials.list_keys(PLATFORM_OPERATOR, target.username)
    assert row.prefix == key.split(".")[0] and row.last_used_ip == "198.51.100.7"


async def test_last_use_keeps_time_and_address_written_once_a_minute(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser, clock: OffsetClock
) -> None:
    creds = services.credentials
    issued = await creds.issue_key(PLATFORM_OPERATOR, target.username, KeyRequest())
    await creds.authenticate_key(issued.key, "203.0.113.5")
    await creds.authenticate_key(issued.key, "203.0.113.9")  # within the minute: not written
    [first] = (await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json()["keys"]
    assert first["last_used_address"] == "203.0.113.5" and first["last_used_at"] is not None
    clock.advance(seconds=61)
    await creds.authenticate_key(issued.key, "2001:db8::1")
    [later] = (await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json()["keys"]
    assert later["last_used_address"] == "2001:db8::1"
    assert datetime.fromisoformat(later["last_used_at"]) > datetime.fromisoformat(first["last_used_at"])


async def test_data_api_lists_the_last_address(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    owner = await make_user(company="acme_corp", roles=[Role.COMPANYOWNER])
    issued = await services.credentials.issue_key(PLATFORM_OPERATOR, owner.username, KeyRequest())
    await services.credentials.allow_network(PLATFORM_OPERATOR, "acme_corp", "127.0.0.0/8")
    fields = ["prefix", "last_used_address", "creation_date", "expire_date", "last_used_date"]
    [row] = ok(await rpc(client, "get.api_keys", {"access_token": issued.key, "fields": fields}))
    assert row["prefix"] == issued.row.prefix and row["last_used_address"] == "127.0.0.1"


async def test_max_days_caps_a_new_key(services: Services, target: MadeUser) -> None:
    creds = services.credentials
    creds.max_days = 30
    try:
        now = creds.clock.now()
        permanent = await creds.issue_key(PLATFORM_OPERATOR, target.username, KeyRequest())
        assert permanent.row.expires_at is not None
        assert (
            timedelta(days=30) - timedelta(minutes=1) < permanent.row.expires_at - now <= timedelta(days=30, minutes=1)
        )
        long = await creds.issue_key(
            PLATFORM_OPERATOR, target.username, KeyRequest(expires_at=now + timedelta(days=90))
        )
        assert long.row.expires_at == permanent.row.expires_at or long.row.expires_at - now <= timedelta(
            days=30, minutes=1
        )
        short = now + timedelta(days=2)
        assert (
            await creds.issue_key(PLATFORM_OPERATOR, target.username, KeyRequest(expires_at=short))
        ).row.expires_at == short
    finally:
        creds.max_days = None


async def test_rotate_gives_a_new_key_and_the_old_one_a_grace_period(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser, clock: OffsetClock
) -> None:
    creds = services.credentials
    old = (await client.post(f"/admin/users/{target.username}/keys", headers=admin, json={"name": "erp"})).json()
    rotated = await client.post(f"/admin/keys/{old['key_id']}/rotate", headers=admin, json={"grace_hours": 2})
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert set(body) == {"id", "key", "prefix", "expires_at", "old_key_valid_until"}
    assert body["id"] != old["key_id"] and body["key"].startswith("cab_") and body["expires_at"] is None
    until = datetime.fromisoformat(body["old_key_valid_until"])
    assert timedelta(hours=1, minutes=59) < until - clock.now() <= timedelta(hours=2)
    assert (await creds.authenticate_key(old["key"])).user_id == target.id  # in the grace period
    assert (await creds.authenticate_key(body["key"])).user_id == target.id
    listed = (await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json()["keys"]
    assert {k["name"] for k in listed} == {"erp"} and len(listed) == 2
    clock.advance(hours=2, seconds=1)
    with pytest.raises(ApiKeyExpired):
        await creds.authenticate_key(old["key"])
    assert (await creds.authenticate_key(body["key"])).user_id == target.id

    default = (await client.post(f"/admin/keys/{body['id']}/rotate", headers=admin)).json()
    left = datetime.fromisoformat(default["old_key_valid_until"]) - clock.now()
    assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24)
    for bad in ({"grace_hours": -1}, {"grace_hours": "x"}, {"grace_hours": 10**6}):
        refused = await client.post(f"/admin/keys/{body['id']}/rotate", headers=admin, json=bad)
        assert refused.status_code == 400, refused.text
    assert (await client.post("/admin/keys/999999999/rotate", headers=admin)).status_code == 404


async def test_a_rotated_key_is_not_rotated_again(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser, clock: OffsetClock
) -> None:
    """A second rotation of a key in its grace period would issue a successor living only as long as the old key
    had (its permanence lost) and leave two successors: refused, the successor is the one to rotate."""
    old = (await client.post(f"/admin/users/{target.username}/keys", headers=admin, json={"name": "erp"})).json()
    first = (await client.post(f"/admin/keys/{old['key_id']}/rotate", headers=admin, json={"grace_hours": 2})).json()
    clock.advance(hours=1)
    again = await client.post(f"/admin/keys/{old['key_id']}/rotate", headers=admin)
    assert "successor" in assert_error(again, 409, "rotate_api_key")["message"]
    with pytest.raises(ApiKeyAlreadyRotated):
        await services.credentials.rotate_key(PLATFORM_OPERATOR, old["key_id"], 1)
    keys = (await client.get(f"/admin/users/{target.username}/keys", headers=admin)).json()["keys"]
    listed = {k["key_id"]: k for k in keys}
    assert len(listed) == 2 and listed[old["key_id"]]["replaced_by"] == first["id"]
    assert listed[first["id"]]["replaced_by"] is None and listed[first["id"]]["expires_at"] is None  # still permanent
    assert (await services.credentials.authenticate_key(old["key"])).user_id == target.id  # grace not cut short
    second = await client.post(f"/admin/keys/{first['id']}/rotate", headers=admin)
    assert second.status_code == 200 and second.json()["expires_at"] is None  # the successor rotates as usual


async def test_rotating_a_temporary_key_gives_the_lifetime_again(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser, clock: OffsetClock
) -> None:
    expires = (clock.now() + timedelta(days=10)).replace(microsecond=0)
    old = (
        await client.post(
            f"/admin/users/{target.username}/keys", headers=admin, json={"expires_at": expires.isoformat()}
        )
    ).json()
    clock.advance(days=5)  # the admin's sign-in has ended by now: rotate as the operator
    rotated = await services.credentials.rotate_key(PLATFORM_OPERATOR, old["key_id"], 0)
    assert rotated.issued.row.expires_at is not None
    assert rotated.issued.row.expires_at - clock.now() > timedelta(days=9)
    with pytest.raises(ApiKeyExpired):
        await services.credentials.authenticate_key(old["key"])


async def test_revoke_all_ends_every_key_grace_periods_included(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], target: MadeUser, make_user: UserFactory
) -> None:
    creds = services.credentials
    first = (await client.post(f"/admin/users/{target.username}/keys", headers=admin)).json()
    rotated = (await client.post(f"/admin/keys/{first['key_id']}/rotate", headers=admin)).json()
    legacy = await legacy_key(services, target)
    bystander = await make_user(company="client_co", roles=[Role.BOT])
    kept = await creds.issue_key(PLATFORM_OPERATOR, bystander.username, KeyRequest())
    revoked = await client.post(f"/admin/users/{target.username}/keys/revoke-all", headers=admin)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 3}
    for key in (first["key"], rotated["key"], legacy):
        with pytest.raises(ApiKeyBlocked):
            await creds.authenticate_key(key)
    assert (await creds.authenticate_key(kept.key)).user_id == bystander.id
    again = await client.post(f"/admin/users/{target.username}/keys/revoke-all", headers=admin)
    assert again.json() == {"revoked": 0}
    missing = await client.post("/admin/users/nobody_here/keys/revoke-all", headers=admin)
    assert missing.status_code == 404


async def test_owners_rotate_and_revoke_only_their_company(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, target: MadeUser
) -> None:
    issued = await services.credentials.issue_key(PLATFORM_OPERATOR, target.username, KeyRequest())
    stranger = bearer(await login(client, await make_user(company="other_co", roles=[Role.COMPANYOWNER])))
    support = bearer(await login(client, await make_user(company="ops_co", roles=[Role.SUPPORT])))
    assert (await client.post(f"/admin/keys/{issued.row.id}/rotate", headers=stranger)).status_code == 404
    assert (await client.post(f"/admin/users/{target.username}/keys/revoke-all", headers=stranger)).status_code == 404
    assert (await client.post(f"/admin/keys/{issued.row.id}/rotate", headers=support)).status_code == 403
    owner = bearer(await login(client, await make_user(company="client_co", roles=[Role.COMPANYOWNER])))
    assert (await client.post(f"/admin/keys/{issued.row.id}/rotate", headers=owner)).status_code == 200
    assert (await client.post(f"/admin/users/{target.username}/keys/revoke-all", headers=owner)).json() == {
        "revoked": 2
    }


async def test_a_revoked_key_is_refused_on_the_data_api(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    owner = await make_user(company="acme_corp", roles=[Role.COMPANYOWNER])
    issued = await services.credentials.issue_key(PLATFORM_OPERATOR, owner.username, KeyRequest())
    await services.credentials.allow_network(PLATFORM_OPERATOR, "acme_corp", "127.0.0.0/8")
    ok(await rpc(client, "get.account", {"access_token": issued.key}))
    assert await services.credentials.revoke_all(PLATFORM_OPERATOR, owner.username) == 1
    assert mnemonic(await rpc(client, "get.account", {"access_token": issued.key})) == "access_token_blocked"
