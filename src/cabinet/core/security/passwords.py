"""argon2id password hashing, always off the event loop and with a cap on concurrent hashes.

Unknown users are verified against a dummy hash of the same cost, so the time an answer takes does not say
whether a username exists.

Hashes run on a pool of their own whose threads have a lower scheduling priority (nice +10): argon2 is
designed to eat a whole core per hash, and on a small machine a storm of logins would otherwise take the CPU
the event loop and the database threads need to answer everyone else. Logins get what is left over, which
on an idle machine is everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=_lower_thread_priority
        )
        self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(24))
        self.verify_calls = 0  # observable: every login attempt runs exactly one verify

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored_hash``; a missing hash costs the same as a wrong one."""
        self.verify_calls += 1
        target = stored_hash or self._dummy_hash
        ok = await self._run(self._verify_sync, target, password)
        return ok and stored_hash is not None

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def _lower_thread_priority() -> None:
    """Linux schedules threads one by one: nice only the hashing thread, not the process."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
