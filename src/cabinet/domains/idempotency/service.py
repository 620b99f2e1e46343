"""Idempotent requests (``Idempotency-Key``): a request that carries a key is applied at most once per caller and
key; a repeat gets the first answer again, and the key on a different request is refused.

The key is claimed by the request's own transaction, as its first statement (a unique row), and the answer is
stored in that same transaction before it commits (``cabinet.core.db.uow.held_writes``): the change, the claim and
the answer commit together, so a committed claim always has its answer and two concurrent requests with one key
cannot both apply (the second waits for the first's claim, then replays its answer). A request that fails changes
nothing and leaves the key unused: sending it again runs it again.

What a request asks is kept only as a keyed digest (HMAC-SHA256 with a key derived from the server secret) of its
method, path, query and body, so a stored fingerprint reveals nothing of the body (a password, say). Rows are kept
``retention`` (at least 7 days) and then purged.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, transactional
from cabinet.domains.idempotency.errors import IdempotencyKeyReused
from cabinet.domains.idempotency.repository import IdempotencyRepository
from cabinet.domains.idempotency.schemas import AlreadyAnswered, KeyClaim, StoredAnswer

PURGE_BATCH = 5000


class IdempotencyService:
    def __init__(self, db: Database, *, clock: Clock, secret: bytes, retention: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.retention = retention
        self._key = hmac.new(secret, b"cabinet/idempotency/v1", hashlib.sha256).digest()
        self.requests = IdempotencyRepository()

    def fingerprint(self, *parts: bytes) -> str:
        """The keyed digest of a request's parts (each length-prefixed, so no two part lists collide)."""
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in parts:
            mac.update(len(part).to_bytes(8, "big"))
            mac.update(part)
        return mac.hexdigest()

    async def claim(self, claim: KeyClaim) -> None:
        """Claim the key in the active unit of work (its first statement). A key that already answered this very
        request raises AlreadyAnswered with that answer; one that answered another request, IdempotencyKeyReused."""
        if await self.requests.claim(claim, self.clock.now()):
            return
        row = await self.requests.find(claim.scope, claim.key)
        if row is None or row.status_code is None:  # cannot be: a claim commits with its answer
            raise RuntimeError("an idempotency key's row vanished or has no answer")
        if not hmac.compare_digest(row.fingerprint, claim.fingerprint):
            raise IdempotencyKeyReused()
        headers = [(str(name), str(value)) for name, value in row.headers or []]
        raise AlreadyAnswered(StoredAnswer(row.status_code, headers, row.body or b""))

    @transactional
    async def store(self, claim: KeyClaim, answer: StoredAnswer) -> None:
        """Keep the answer with the claim (joins the request's held unit of work, before it commits)."""
        row = await self.requests.find(claim.scope, claim.key)
        if row is None:
            raise RuntimeError("store() without claim() in the same unit of work")
        row.status_code = answer.status_code
        row.headers = [[name, value] for name, value in answer.headers]
        row.body = answer.body
        await self.requests.flush()

    async def purge_expired(self) -> int:
        """Delete the answers older than the retention, a batch per unit of work; returns how many went."""
        cutoff = self.clock.now() - self.retention
        total = 0
        while True:
            gone = await self._purge_batch(cutoff)
            total += gone
            if gone < PURGE_BATCH:
                return total

    @transactional
    async def _purge_batch(self, cutoff: datetime) -> int:
        return await self.requests.delete_before(cutoff, PURGE_BATCH)
