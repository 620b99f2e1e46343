"""The API key cache (``domains/credentials/key_cache.py``), on both backends: a key seen twice is not read again
while its and its owner's change stamps hold, and a change committed by another process (here: a second
credentials service on the same database and the same stamps, Redis on the scale-out backend) is seen by the
next request: a block, a rotation's grace period, a deletion, the owner's lock or move, a revoke-all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cabinet.core.roles import Role
from cabinet.domains.credentials import key_cache
from cabinet.domains.credentials.errors import ApiKeyBlocked, ApiKeyExpired, ApiKeyInvalid, ApiKeyOwnerInactive
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.credentials.service import CredentialService
from cabinet.domains.identity.schemas import UserCreate, UserUpdate
from cabinet.domains.registry import Services
from tests.helpers import UserFactory, table_reads

PASSWORD = "correct_horse_battery"


def other_process(app: Any) -> CredentialService:
    """A second credentials service with a cache of its own, as another process has: same database and stamps."""
    resources = app.state.runtime.resources
    other = CredentialService(resources.db, clock=resources.clock, secret=resources.secret, stamps=resources.stamps)
    resources.db.commit_observers.remove(other._keys_committed)  # another process hears of no commit but its own
    return other


async def issued(services: Services, username: str, company: str = "keycache_co") -> tuple[str, int]:
    await services.identity.create_user(
        UserCreate(username=username, password=PASSWORD, company_key=company, roles=[Role.BOT], create_company=True)
    )
    key = await services.credentials.issue_key(PLATFORM_OPERATOR, username, KeyRequest(name="erp"))
    return key.key, key.row.id


async def seen_twice(credentials: CredentialService, key: str) -> None:
    """The first sight learns the owner; the second reads under the stamps and keeps the key."""
    await credentials.authenticate_key(key)
    await credentials.authenticate_key(key)


async def test_a_key_seen_twice_is_not_read_again(app: Any, services: Services) -> None:
    key, key_id = await issued(services, "cached_bot")
    await seen_twice(services.credentials, key)
    with table_reads(app, "api_key") as reads:
        principal = await services.credentials.authenticate_key(key)
    assert reads == []
    assert (principal.username, principal.credential_id, principal.roles) == ("cached_bot", str(key_id), (Role.BOT,))
    with pytest.raises(ApiKeyInvalid):  # the secret is still checked on every request
        await services.credentials.authenticate_key(key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB"))


async def test_a_block_elsewhere_refuses_the_next_request(app: Any, services: Services) -> None:
    key, key_id = await issued(services, "cached_blocked")
    other = other_process(app)
    await seen_twice(other, key)
    await services.credentials.set_blocked(PLATFORM_OPERATOR, key_id, True)
    with pytest.raises(ApiKeyBlocked):
        await other.authenticate_key(key)
    await services.credentials.set_blocked(PLATFORM_OPERATOR, key_id, False)
    assert (await other.authenticate_key(key)).username == "cached_blocked"


async def test_a_rotation_or_deletion_elsewhere_is_seen_at_once(app: Any, services: Services, clock: Any) -> None:
    key, key_id = await issued(services, "cached_rotated")
    other = other_process(app)
    await seen_twice(other, key)
    await services.credentials.rotate_key(PLATFORM_OPERATOR, key_id, 1)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(ApiKeyExpired):  # the grace period the rotation set, not the cached "permanent"
        await other.authenticate_key(key)
    second, second_id = await issued(services, "cached_deleted", "keycache_del")
    await seen_twice(other, second)
    await services.credentials.delete_key(PLATFORM_OPERATOR, second_id)
    with pytest.raises(ApiKeyInvalid):
        await other.authenticate_key(second)


async def test_the_owners_lock_or_revoke_all_elsewhere_is_seen_at_once(app: Any, services: Services) -> None:
    key, _ = await issued(services, "cached_owner")
    other = other_process(app)
    await seen_twice(other, key)
    await services.identity.set_enabled("cached_owner", False)
    with pytest.raises(ApiKeyOwnerInactive):
        await other.authenticate_key(key)
    await services.identity.set_enabled("cached_owner", True)
    assert (await other.authenticate_key(key)).username == "cached_owner"
    await services.credentials.revoke_all(PLATFORM_OPERATOR, "cached_owner")
    with pytest.raises(ApiKeyBlocked):
        await other.authenticate_key(key)


async def test_a_role_change_elsewhere_reaches_the_cached_principal(
    app: Any, services: Services, make_user: UserFactory
) -> None:
    key, _ = await issued(services, "cached_roles")
    other = other_process(app)
    await seen_twice(other, key)
    admin = await make_user(roles=[Role.ADMIN])
    signed = await services.identity.sign_in(admin.username, admin.password, client_ip=None, ttl=timedelta(minutes=5))
    operator = await services.identity.resolve_access_token(signed.token)
    await services.directory.update_user(operator, UserUpdate(username="cached_roles", roles=[Role.USER]))
    assert (await other.authenticate_key(key)).roles == (Role.USER,)


async def test_an_entry_lives_at_most_its_ttl(app: Any, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    key, _ = await issued(services, "cached_ttl")
    now = [1000.0]
    services.credentials.key_cache._monotonic = lambda: now[0]
    await seen_twice(services.credentials, key)
    with table_reads(app, "api_key") as reads:
        await services.credentials.authenticate_key(key)
        now[0] += key_cache.TTL_SECONDS
        await services.credentials.authenticate_key(key)
    assert len(reads) == 1  # read again once the entry is older than the bound
