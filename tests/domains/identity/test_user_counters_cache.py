"""The user lists' overall counters cached per scope (``domains/identity/counters.py``), on both backends: not
counted again while no user of the scope changed, and every committed change of a user (created, locked, given an
admin role, moved to another company, deleted), made by another process (here: a second identity and directory
service on the same database and the same stamps, Redis on the scale-out backend), shows in the next list."""

from __future__ import annotations

from typing import Any

import pytest

from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.roles import Role
from cabinet.core.stamps import LocalStamps
from cabinet.domains.identity.counters import MAX_ENTRIES, TTL_SECONDS, CounterCache
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
    assert len(first) == 2  # the company's counters (an unfiltered list's are the same) and the page
    with table_reads(app, "user_account") as searched:
        _, counters, listed = await services.directory.list_users(owner, ListQuery(text="count_one"))
    assert counters == UserCounters(2, 2, 0, 1)  # the company's, from the cache
    assert listed == UserCounters(1, 1, 0, 0)  # the search's matches: counted the first time
    assert len(searched) == 2
    with table_reads(app, "user_account") as again:
        _, counters, listed = await services.directory.list_users(owner, ListQuery(text="count_one", offset=1))
    assert (counters, listed) == (UserCounters(2, 2, 0, 1), UserCounters(1, 1, 0, 0))
    assert len(again) == 1  # the next page of the same search: both counters from the cache, only the page read


async def test_a_search_is_counted_again_after_any_change_elsewhere(app: Any, services: Services) -> None:
    """A filter's counters are kept under the scope's stamp: a user created, locked or deleted by another process
    shows in the next page of the same search, and of the same group."""
    owner = await owner_of(services, "search_co")
    await add_user(services, "search_ann", "search_co")
    other = other_process(app)

    async def listed(**query: Any) -> UserCounters:
        return (await other.list_users(owner, ListQuery(**query)))[2]

    assert await listed(text="search_") == UserCounters(2, 2, 0, 1)
    assert await listed(user_group="BLOCKED") == UserCounters(0, 0, 0, 0)
    await add_user(services, "search_bob", "search_co")
    assert await listed(text="search_") == UserCounters(3, 3, 0, 1)
    await services.directory.update_user(PLATFORM, UserUpdate(username="search_bob", enabled=False))
    assert await listed(text="search_", offset=2) == UserCounters(3, 2, 1, 1)
    assert await listed(user_group="BLOCKED") == UserCounters(1, 0, 1, 0)
    await services.directory.delete_user(PLATFORM, "search_bob")
    assert await listed(text="search_") == UserCounters(2, 2, 0, 1)
    assert await listed(text="search_ann") == UserCounters(1, 1, 0, 0)  # another filter: counted apart


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
    assert len(reads) == 1  # the page only: not the counters


async def test_the_counters_are_counted_again_after_their_time(app: Any, services: Services, monkeypatch: Any) -> None:
    owner = await owner_of(services, "ttl_co")
    cache = services.identity.user_counters
    now = [1000.0]
    monkeypatch.setattr(cache, "_monotonic", lambda: now[0])
    await overall(services.directory, owner)
    now[0] += TTL_SECONDS + 0.1
    with table_reads(app, "user_account") as reads:
        await overall(services.directory, owner)
    assert len(reads) == 2  # the counters (an unfiltered list's are the company's) and the page


def test_the_cache_holds_at_most_max_entries() -> None:
    """Counters of many filters in many companies never hold more than MAX_ENTRIES in all."""
    cache = CounterCache(LocalStamps())
    for n in range(MAX_ENTRIES + 5):
        cache.put(n % 7, "s", UserCounters(n, n, 0, 0), ("key", f"text {n}", "TOTAL"))
        assert cache._size == sum(len(kept) for kept in cache._entries.values()) <= MAX_ENTRIES
    assert cache.get((MAX_ENTRIES + 4) % 7, "s", ("key", f"text {MAX_ENTRIES + 4}", "TOTAL")) is not None
    assert cache.get(0, "s", ("key", "text 0", "TOTAL")) is None  # dropped when the cache was full
