"""A small per-process cache of values that may be ``seconds`` stale, loading each missing key once.

Used for definitions read on every request but changed rarely (quota specs, company budgets, IP allow-lists),
where another process's change may be seen up to ``seconds`` late. When an entry expires under load, every
request in flight for that key used to read it again (32 connections: 32 identical reads every expiry, a few
per cent of a request's CPU and a stall of the event loop's queue); here the first caller loads it and the
others wait for that value.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    def __init__(self, seconds: float, max_entries: int) -> None:
        self._seconds = seconds
        self._max_entries = max_entries
        self._values: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Lock] = {}

    def drop(self, key: K) -> None:
        """Forget ``key`` (this process changed what it stands for)."""
        self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        hit = self._values.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        lock = self._loading.get(key)
        if lock is None:
            lock = self._loading[key] = asyncio.Lock()
        try:
            async with lock:
                hit = self._values.get(key)  # loaded while this caller waited
                if hit is not None and hit[0] > time.monotonic():
                    return hit[1]
                value = await load()
                if len(self._values) >= self._max_entries:
                    self._values.clear()
                self._values[key] = (time.monotonic() + self._seconds, value)
                return value
        finally:
            if not lock.locked() and self._loading.get(key) is lock:
                del self._loading[key]
