"""The user lists' overall counters cached per scope (``domains/identity/counters.py``), on both backends: not
counted again while no user of the scope changed, and every committed change of a user (created, locked, given an
admin role, moved to another company, deleted), made by another process (here: a second identity and directory
service on the same database and the same stamps, Redis on the scale-out backend), shows in the next list."""

from __future__ import annotations

from typing import Any

import pytest

from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.roles import Role
from cabinet.domains.identity.counters import TTL_SECONDS
from cabinet.domains.identity.directory import DirectoryService
from cabinet.domains.identity.errors import UserInvalid
from cabinet.domains.identity.schemas import ListQuery, UserCounters, UserCreate, UserUpdate
from cabinet.domains.registry import Services
from tests.apis.admin.test_directory import PLATFORM
from tests.helpers import identity_elsewhere, table_reads

PASSWORD = "correct_horse_battery"


def other_process(app: Any) -> DirectoryService:
    """A directory with an identity service (and so counters) of its own, as another process has."""
    resources = app.state.runtime.resources
    return DirectoryService(
        resources.db, clock=resources.clock, hasher=resources.hasher, identity=identity_elsewhere(app)
    )


async def owner_of(services: Services, company: str) -> Principal:
    user = await services.identity.create_user(
        UserCreate(
            username=f"{company}_owner",
            password=PASSWORD,
            company_key=company,
            roles=[Role.COMPANYOWNER],
            create_company=True,
        )
    )
    return Principal(user.id, user.username, user.company_id, company, (Role.COMPANYOWNER,), 0, CredentialKind.ACCESS)


async def add_user(services: Services, username: str, company: str, **extra: Any) -> None:
    await services.identity.create_user(
        UserCreate(username=username, password=PASSWORD, company_key=company, roles=[Role.USER], **extra)
    )


async def overall(directory: DirectoryService, principal: Principal, **query: Any) -> UserCounters:
    _, counters, _ = await directory.list_users(principal, ListQuery(**query))
    return counters


async def test_the_overall_counters_are_not_counted_again(app: Any, services: Services) -> None:
    owner = await owner_of(services, "count_co")
    await add_user(services, "count_one", "count_co")
    with table_reads(app, "user_account") as first:
        assert await overall(services.directory, owner) == UserCounters(2, 2, 0, 1)
    with table_reads(app, "user_account") as again:
        _, counters, listed = await services.directory.list_users(owner, ListQuery(text="count_one"))
    assert counters == UserCounters(2, 2, 0, 1)  # the company's, from the cache
    assert listed == UserCounters(1, 1, 0, 0)  # the filter's matches: counted on every request
    assert len(again) == len(first) - 1


async def test_every_change_elsewhere_shows_in_the_next_list(app: Any, services: Services) -> None:
    owner = await owner_of(services, "moves_co")
    other_owner = await owner_of(services, "other_co")
    other = other_process(app)
    assert await overall(other, owner) == UserCounters(1, 1, 0, 1)
    platform_before = await overall(other, PLATFORM)

    await add_user(services, "moves_new", "moves_co")
    assert await overall(other, owner) == UserCounters(2, 2, 0, 1)
    await services.directory.update_user(PLATFORM, UserUpdate(username="moves_new", enabled=False))
    assert await overall(other, owner) == UserCounters(2, 1, 1, 1)
    await services.directory.update_user(PLATFORM, UserUpdate(username="moves_new", roles=[Role.COMPANYOWNER]))
    assert await overall(other, owner) == UserCounters(2, 1, 1, 2)
    assert (await overall(other, PLATFORM)).total == platform_before.total + 1
    # moved to another company: both companies' counters change
    assert await overall(other, other_owner) == UserCounters(1, 1, 0, 1)
    await services.directory.update_user(PLATFORM, UserUpdate(username="moves_new", company_key="other_co"))
    assert await overall(other, owner) == UserCounters(1, 1, 0, 1)
    assert await overall(other, other_owner) == UserCounters(2, 1, 1, 2)
    await services.directory.delete_user(PLATFORM, "moves_new")
    assert await overall(other, other_owner) == UserCounters(1, 1, 0, 1)
    assert await overall(other, PLATFORM) == platform_before


async def test_a_refused_change_keeps_the_counters(app: Any, services: Services) -> None:
    owner = await owner_of(services, "kept_co")
    await overall(services.directory, owner)
    with pytest.raises(UserInvalid):  # rolled back: nothing committed, no new stamp
        await services.directory.update_user(PLATFORM, UserUpdate(username="kept_co_owner", email="not an e-mail"))
    with table_reads(app, "user_account") as reads:
        await overall(services.directory, owner)
    assert len(reads) == 2  # the page and the filter's counters, not the company's


async def test_the_counters_are_counted_again_after_their_time(app: Any, services: Services, monkeypatch: Any) -> None:
    owner = await owner_of(services, "ttl_co")
    cache = services.identity.user_counters
    now = [1000.0]
    monkeypatch.setattr(cache, "_monotonic", lambda: now[0])
    await overall(services.directory, owner)
    now[0] += TTL_SECONDS + 0.1
    with table_reads(app, "user_account") as reads:
        await overall(services.directory, owner)
    assert len(reads) == 3
