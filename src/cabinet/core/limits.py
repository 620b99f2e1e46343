"""Counters on a shared store (the ``limits`` library): in-process memory (embedded) or Redis (scale-out).

Used for login throttling now and for quotas and Data API limits later; both backends are atomic, and Redis
makes them exact across processes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def build_limit_storage(redis_url: str | None, *, key_prefix: str) -> Storage:
    if redis_url is None:
        return MemoryStorage()
    scheme, sep, rest = redis_url.partition("://")
    uri = f"async+{scheme}://{rest}" if not scheme.startswith("async+") else redis_url
    # wrap_exceptions: an unreachable Redis raises limits.errors.StorageError, which every API answers as 503.
    # retry: a pooled connection left over from before a Redis restart fails on its first use; it is reconnected
    # and the command sent once more (redis-py retries only the errors listed), while a Redis that is away still
    # fails at once. A command the old server ran before dying may so count twice: a limit then errs on the
    # strict side, a concurrency slot frees itself at its expiry.
    # (the options go to the redis-py client; limits annotates them as scalars only)
    client_options: dict[str, Any] = {"retry": Retry(NoBackoff(), 1), "retry_on_error": [RedisConnectionError]}
    return RedisStorage(
        uri, implementation="redispy", key_prefix=f"{key_prefix}:limits", wrap_exceptions=True, **client_options
    )


class AttemptThrottle:
    """Counts failed attempts per key in a moving window; refuses once the window is full."""

    def __init__(self, storage: Storage, spec: str, namespace: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._item: RateLimitItem = parse(spec)
        self._namespace = namespace

    @property
    def window_seconds(self) -> int:
        return int(self._item.get_expiry())

    async def allowed(self, key: str) -> bool:
        return await self._limiter.test(self._item, self._namespace, key)

    async def record_failure(self, key: str) -> None:
        await self._limiter.hit(self._item, self._namespace, key)

    async def reset(self, key: str) -> None:
        await self._limiter.clear(self._item, self._namespace, key)


class JobLease:
    """Runs of a periodic job shared by every process on the same store: the first process to ask in a period
    gets the run, the others skip it (one atomic increment per period on the limits store: Redis in scale-out,
    in-process memory in the embedded profile's single process)."""

    def __init__(self, storage: Storage, name: str, period_seconds: float, clock: Callable[[], float]) -> None:
        self._storage = storage
        self._name = name
        self._period = max(1, int(period_seconds))
        self._clock = clock

    async def claim(self) -> bool:
        period = int(self._clock()) // self._period
        count = await self._storage.incr(f"job:{self._name}:{period}", self._period * 2, amount=1)
        return count == 1
