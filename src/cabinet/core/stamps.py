"""Change stamps shared by the processes: one value per key that changes whenever what the key stands for
changes, so a process can tell with one cheap read whether what it cached is still current.

Embedded (one process): a counter in memory. Scale-out: a random value per key in Redis (``SET`` with a long
expiry, read with one ``GET``). Random rather than a counter, so a key that expired and was set again never
shows a value that an older cache entry was stamped with.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable
from typing import Any, Protocol

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

STAMP_TTL_SECONDS = 30 * 86_400  # far longer than any cache entry lives


def user_stamp_key(user_id: int) -> str:
    """A user's stamp: changed after every commit that changes the user (identity), read by what caches things
    acting as the user (accounts behind tokens, API keys)."""
    return f"user:{user_id}"


class ChangeStamps(Protocol):
    async def read(self, key: str) -> str | None:
        """The key's current stamp (None: never changed, or forgotten)."""

    async def read_many(self, keys: list[str]) -> list[str | None]:
        """The keys' current stamps, in order (one round trip)."""

    async def change(self, keys: Iterable[str]) -> None:
        """Give each key a new stamp."""

    async def close(self) -> None:
        """Let go of the connections (at shutdown)."""


class LocalStamps:
    """One process's stamps (the embedded profile runs one process)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._next = itertools.count(1)

    async def read(self, key: str) -> str | None:
        return self._values.get(key)

    async def read_many(self, keys: list[str]) -> list[str | None]:
        return [self._values.get(key) for key in keys]

    async def change(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._values[key] = str(next(self._next))

    async def close(self) -> None:
        return None


class RedisStamps:
    """Stamps every process sees: ``<prefix>:stamp:<key>`` in Redis."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}:stamp:"

    async def read(self, key: str) -> str | None:
        return _text(await self._client.get(self._prefix + key))

    async def read_many(self, keys: list[str]) -> list[str | None]:
        return [_text(value) for value in await self._client.mget([self._prefix + key for key in keys])]

    async def change(self, keys: Iterable[str]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.set(self._prefix + key, secrets.token_hex(8), ex=STAMP_TTL_SECONDS)
        await pipe.execute()

    async def close(self) -> None:
        await self._client.aclose()


def _text(value: Any) -> str | None:
    return None if value is None else value.decode() if isinstance(value, bytes) else str(value)


def build_change_stamps(redis_url: str | None, *, key_prefix: str) -> ChangeStamps:
    """Redis stamps in the scale-out profile, else this process's own. A pooled connection left from before a
    Redis restart is reconnected and the command sent once more (as the limits store does)."""
    if redis_url is None:
        return LocalStamps()
    client = redis.asyncio.Redis.from_url(redis_url, retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError])
    return RedisStamps(client, key_prefix)
