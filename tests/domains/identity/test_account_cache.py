"""The account cache behind access tokens (``domains/identity/accounts.py``), on both backends: a resolved account
is not read again while its change stamp holds, and a change committed by another process (here: a second
identity service on the same database and the same stamps, Redis on the scale-out backend) is seen at once."""

from __future__ import annotations

from typing import Any

import pytest

from cabinet.core.principal import CredentialKind
from cabinet.core.roles import Role
from cabinet.domains.identity.accounts import TTL_SECONDS, AccountSnapshot
from cabinet.domains.identity.errors import AccessTokenRevoked, AccountInactive, UserInvalid
from cabinet.domains.identity.schemas import AccountPatch, UserCreate
from cabinet.domains.identity.service import DEFAULT_TOKEN_TTL, IdentityService
from cabinet.domains.registry import Services
from tests.helpers import identity_elsewhere, table_reads

PASSWORD = "correct_horse_battery"


def other_process(app: Any) -> IdentityService:
    """A second identity service with a cache of its own, as another process has: same database, same stamps."""
    other: IdentityService = identity_elsewhere(app)
    return other


async def signed_in(services: Services, username: str) -> str:
    await services.identity.create_user(
        UserCreate(username=username, password=PASSWORD, company_key="cache_co", roles=[Role.USER], create_company=True)
    )
    return (await services.identity.sign_in(username, PASSWORD, client_ip=None, ttl=DEFAULT_TOKEN_TTL)).token


async def test_a_resolved_account_is_not_read_again(app: Any, services: Services) -> None:
    token = await signed_in(services, "cached_once")
    first = await services.identity.resolve_access_token(token)
    with table_reads(app, "user_account") as reads:
        again = await services.identity.resolve_access_token(token)
        shown = await services.identity.account_view(again)
    assert reads == []
    assert isinstance(again.account, AccountSnapshot) and isinstance(shown, AccountSnapshot)
    assert (again.user_id, again.username, again.company_key, again.roles, again.credential) == (
        first.user_id,
        "cached_once",
        "cache_co",
        (Role.USER,),
        CredentialKind.ACCESS,
    )


async def test_a_password_change_elsewhere_kills_the_cached_token_at_once(app: Any, services: Services) -> None:
    token = await signed_in(services, "cached_pw")
    other = other_process(app)
    principal = await other.resolve_access_token(token)
    await other.resolve_access_token(token)  # cached there now
    await services.identity.change_password(
        await services.identity.resolve_access_token(token), PASSWORD, "another_horse_battery"
    )
    with pytest.raises(AccessTokenRevoked):
        await other.resolve_access_token(token)
    assert principal.username == "cached_pw"


async def test_a_disable_elsewhere_is_seen_at_once(app: Any, services: Services) -> None:
    token = await signed_in(services, "cached_off")
    other = other_process(app)
    await other.resolve_access_token(token)
    await services.identity.set_enabled("cached_off", False)
    with pytest.raises((AccountInactive, AccessTokenRevoked)):
        await other.resolve_access_token(token)


async def test_an_edit_elsewhere_shows_in_the_next_view(app: Any, services: Services) -> None:
    token = await signed_in(services, "cached_edit")
    other = other_process(app)
    await other.resolve_access_token(token)
    await services.identity.update_account(
        await services.identity.resolve_access_token(token), AccountPatch(email="new@example.com")
    )
    view = await other.account_view(await other.resolve_access_token(token))
    assert view.email == "new@example.com"


async def test_a_refused_edit_keeps_the_cached_account(app: Any, services: Services) -> None:
    token = await signed_in(services, "cached_rollback")
    principal = await services.identity.resolve_access_token(token)
    with pytest.raises(UserInvalid):  # the unit rolls back: nothing committed, no new stamp
        await services.identity.update_account(principal, AccountPatch(email="x@example.com", locale="not a locale"))
    with table_reads(app, "user_account") as reads:
        await services.identity.resolve_access_token(token)
    assert reads == []


async def test_a_snapshot_is_read_again_after_its_time(app: Any, services: Services, monkeypatch: Any) -> None:
    token = await signed_in(services, "cached_ttl")
    cache = services.identity.accounts
    now = [1000.0]
    monkeypatch.setattr(cache, "_monotonic", lambda: now[0])
    await services.identity.resolve_access_token(token)
    now[0] += TTL_SECONDS + 0.1
    with table_reads(app, "user_account") as reads:
        await services.identity.resolve_access_token(token)
    assert len(reads) == 1


async def test_a_snapshot_shows_what_the_row_shows(services: Services) -> None:
    """The Account API answers from the cached snapshot: every field it shows must be the row's (a field added to
    the user and to ``user_out`` but not copied into the snapshot would fail here)."""
    from cabinet.apis.account.routes.info import user_out
    from cabinet.core.db.uow import unit_of_work

    token = await signed_in(services, "snapshot_user")
    patch = AccountPatch(
        specification="Snapshot Person",
        email="snap@example.com",
        phone="+74950000000",
        attributes=[{"key": "team", "value": "north"}],
    )
    await services.identity.update_account(await services.identity.resolve_access_token(token), patch)
    async with unit_of_work(services.identity.db):
        row = await services.identity.users.get_by_username("snapshot_user")
        assert row is not None
        assert user_out(AccountSnapshot.of(row)) == user_out(row)
        assert user_out(row).attributes and user_out(row).email == "snap@example.com"
