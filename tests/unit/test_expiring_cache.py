"""``core/cache.py``: concurrent misses of one key load it once; entries expire, can be dropped, stay bounded."""

from __future__ import annotations

import asyncio

import pytest

from cabinet.core import cache as cache_module
from cabinet.core.cache import ExpiringCache


async def test_concurrent_misses_load_once_and_entries_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    cache: ExpiringCache[str, int] = ExpiringCache(2.0, 10)
    loads = 0
    gate = asyncio.Event()

    async def load() -> int:
        nonlocal loads
        loads += 1
        await gate.wait()
        return loads

    waiting = [asyncio.create_task(cache.get("k", load)) for _ in range(32)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [1] * 32
    assert loads == 1
    now[0] += 1.9
    assert await cache.get("k", load) == 1 and loads == 1
    now[0] += 0.2  # expired: read again
    assert await cache.get("k", load) == 2
    cache.drop("k")
    assert await cache.get("k", load) == 3
    assert not cache._loading  # no lock left behind


async def test_a_failed_load_is_not_cached_and_the_cache_stays_bounded() -> None:
    cache: ExpiringCache[int, int] = ExpiringCache(60.0, 3)

    async def fail() -> int:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        await cache.get(1, fail)

    async def one() -> int:
        return 1

    assert await cache.get(1, one) == 1
    for key in range(10):
        await cache.get(key, one)
    assert len(cache) <= 3
