"""Counters on a shared store (the ``limits`` library): in-process memory (embedded) or Redis (scale-out).

Used for login throttling now and for quotas and Data API limits later; both backends are atomic, and Redis
makes them exact across processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
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
    """Sign-in attempts per key in a window, reserved atomically *before* the check they guard.

    ``reserve`` takes a slot with one atomic increment on the shared store (a lock in-process, ``INCRBY`` +
    ``EXPIRE`` in one Lua script on Redis) and says whether it was within the limit, so a burst of any size gets
    at most the limit's number of checks: there is no gap between asking and counting. A failed attempt keeps
    its slot (it is the failure's record); a successful one gives it back (``release``) or, for the username,
    empties the counter (``reset``). The window starts at the key's first attempt and ends ``window_seconds``
    later (the counter's expiry)."""

    def __init__(self, storage: Storage, spec: str, namespace: str) -> None:
        self._storage = storage
        self._item: RateLimitItem = parse(spec)
        self._namespace = namespace

    @property
    def limit(self) -> int:
        return int(self._item.amount)

    @property
    def window_seconds(self) -> int:
        return int(self._item.get_expiry())

    def _key(self, key: str) -> str:
        # a digest: any key (a username of any length, an address) makes a short store key
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"attempts:{self._namespace}:{digest}"

    async def reserve(self, key: str) -> bool:
        """Take a slot for one attempt; False (the slot is not kept) once the window's slots are all taken."""
        count = await self._storage.incr(self._key(key), self.window_seconds, amount=1)
        if count > self.limit:
            await self._storage.incr(self._key(key), self.window_seconds, amount=-1)
            return False
        return True

    async def release(self, key: str) -> None:
        """Give back a slot ``reserve`` took (the attempt succeeded, or never came to its check)."""
        await self._storage.incr(self._key(key), self.window_seconds, amount=-1)

    async def reset(self, key: str) -> None:
        """Forget every attempt of this key in the window."""
        await self._storage.clear(self._key(key))


async def reserve_attempt(user: AttemptThrottle, user_key: str, client: AttemptThrottle, client_key: str) -> bool:
    """Reserve one attempt on both a name's and a client's throttle, or on neither (False: throttled)."""
    if not await user.reserve(user_key):
        return False
    if not await client.reserve(client_key):
        await user.release(user_key)
        return False
    return True


async def give_back_attempt(user: AttemptThrottle, user_key: str, client: AttemptThrottle, client_key: str) -> None:
    """Undo ``reserve_attempt`` (the attempt came to no verdict)."""
    await user.release(user_key)
    await client.release(client_key)


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
