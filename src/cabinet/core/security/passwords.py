"""argon2id password hashing, always off the event loop and with a cap on concurrent hashes.

Unknown users are verified against a dummy hash of the same cost, so the time an answer takes does not say
whether a username exists.
"""

from __future__ import annotations

import secrets

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(24))
        self.verify_calls = 0  # observable: every login attempt runs exactly one verify

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._argon2.hash, password, limiter=self._limiter)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored_hash``; a missing hash costs the same as a wrong one."""
        self.verify_calls += 1
        target = stored_hash or self._dummy_hash
        ok = await anyio.to_thread.run_sync(self._verify_sync, target, password, limiter=self._limiter)
        return ok and stored_hash is not None

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
