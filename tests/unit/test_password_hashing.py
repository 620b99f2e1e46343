"""argon2 hashing yields to other traffic: while other requests are in flight a hashing thread rests after each
hash (so a login storm cannot crowd out everyone else); with none, or only logins, it never rests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from cabinet.core.security.passwords import PasswordHasher, RequestLoad

pytestmark = pytest.mark.real_password_hashing  # the rests are proportional to a hash's real CPU time


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    made = PasswordHasher(time_cost=2, memory_kib=19_456, parallelism=1, concurrency=1, share_under_load=0.5)
    yield made
    made.close()


async def _verify(hasher: PasswordHasher, stored: str, times: int) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(times):
        assert await hasher.verify(stored, "correct horse")
    return loop.time() - started


async def test_no_rest_without_other_traffic(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse")
    await _verify(hasher, stored, 4)
    assert hasher.rested_seconds == 0.0


async def test_rests_while_others_are_served(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse")
    hasher.load.in_flight = 3  # three requests of someone else in flight
    elapsed = await _verify(hasher, stored, 4)
    # share 0.5: after each hash the thread rests as long as the hash took, before the next one
    assert hasher.rested_seconds > 0
    assert hasher.rested_seconds <= elapsed
    hasher.load.in_flight = 0
    rested = hasher.rested_seconds
    await _verify(hasher, stored, 3)
    # the first hash after the traffic ended may still see the rest it was given; none after that
    assert hasher.rested_seconds == rested


async def test_logins_are_not_other_traffic(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse")
    hasher.load.in_flight = 2  # two password logins in flight, nothing else

    async def login() -> None:
        async with hasher.login():
            assert await hasher.verify(stored, "correct horse")

    await asyncio.gather(login(), login())
    await asyncio.gather(login(), login())
    assert hasher.rested_seconds == 0.0
    assert hasher.load.logins == 0


def test_full_share_never_rests() -> None:
    load = RequestLoad()
    load.in_flight = 5
    full = PasswordHasher(time_cost=2, memory_kib=19_456, parallelism=1, concurrency=1, share_under_load=1.0, load=load)
    try:
        assert full.load is load

        async def run() -> None:
            stored = await full.hash("x" * 12)
            for _ in range(3):
                await full.verify(stored, "x" * 12)

        asyncio.run(run())
        assert full.rested_seconds == 0.0
    finally:
        full.close()
