"""argon2id password hashing, always off the event loop and with a cap on concurrent hashes.

Unknown users are verified against a dummy hash of the same cost, so the time an answer takes does not say
whether a username exists.

Hashes run on a pool of their own whose threads have a lower scheduling priority (nice +10): argon2 is
designed to eat a whole core per hash, and on a small machine a storm of logins would otherwise take the CPU
the event loop and the database threads need to answer everyone else. Logins get what is left over, which
on an idle machine is everything.

Priority alone is not enough: argon2 streams 19 MiB through the caches shared with the event loop's core, so a
hashing thread slows every other request even when the scheduler favours them. So while other requests are in
flight (``RequestLoad``, counted by the HTTP middleware, minus the password logins themselves), each hashing
thread works at most ``share_under_load`` of the time: after a hash that took d seconds of CPU it rests
d * (1/share - 1) before the next one. With no other traffic, logins run at full speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")
MAX_REST_SECONDS = 1.0


@functools.lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """A hash of a random secret with these parameters, made once per process (each costs a full argon2 run;
    every app built in one process, as the tests do, shares it)."""
    hasher = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    return hasher.hash(secrets.token_urlsafe(24))


class RequestLoad:
    """The requests this process is serving now (the HTTP middleware counts them) and, among them, the password
    logins (``PasswordHasher.login``): work that can wait yields to the others."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.logins = 0

    def others(self) -> int:
        return self.in_flight - self.logins


class PasswordHasher:
    def __init__(
        self,
        *,
        time_cost: int,
        memory_kib: int,
        parallelism: int,
        concurrency: int,
        share_under_load: float = 1.0,
        load: RequestLoad | None = None,
    ) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=_lower_thread_priority
        )
        # what an unknown user's login verifies against, so it costs what a known user's does
        self._dummy_hash = _dummy_hash(time_cost, memory_kib, parallelism)
        self._rest_factor = 1.0 / share_under_load - 1.0
        self._local = threading.local()  # per hashing thread: when it may hash again under load
        self.load = load or RequestLoad()
        self.verify_calls = 0  # observable: every login attempt runs exactly one verify
        self.rested_seconds = 0.0  # observable: time the hashing threads gave way to other requests

    @contextlib.asynccontextmanager
    async def login(self) -> AsyncIterator[None]:
        """Mark a password login (its whole request, not only the hash) so it does not count as other traffic."""
        self.load.logins += 1
        try:
            yield
        finally:
            self.load.logins -= 1

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored_hash``; a missing hash costs the same as a wrong one."""
        self.verify_calls += 1
        target = stored_hash or self._dummy_hash
        ok = await self._run(self._verify_sync, target, password)
        return ok and stored_hash is not None

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._paced, fn, *args)

    def _paced(self, fn: Callable[..., T], *args: object) -> T:
        """In a hashing thread: rest first if the last hash ran while others were served, then hash."""
        if self._rest_factor > 0:
            rest = getattr(self._local, "not_before", 0.0) - time.monotonic()
            if rest > 0 and self.load.others() > 0:
                rest = min(rest, MAX_REST_SECONDS)
                time.sleep(rest)
                self.rested_seconds += rest
        cpu_started = time.thread_time()  # the hash's own CPU time: waiting for a core is not hashing
        result = fn(*args)
        worked = time.thread_time() - cpu_started
        busy = self._rest_factor > 0 and self.load.others() > 0
        self._local.not_before = time.monotonic() + worked * self._rest_factor if busy else 0.0
        return result

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
