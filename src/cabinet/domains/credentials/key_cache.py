"""API keys resolved once per process, kept while nothing about them changed.

Every request of an integration presents its key: reading the key and its owner each time was one query per
request (and the query, with its ORM objects, cost more than the rest of the check). A process now keeps what
authenticating a key needs (``CachedKey``: the keyed hash of its secret, its state, its owner's state and the
principal it acts as), stamped with two change stamps (``core/stamps.py``) read *before* the row: the key's own
(``apikey:<prefix>``, changed after every commit that changes or deletes the key: block, unblock, rotate, revoke,
delete) and its owner's (``user:<id>``, which identity changes after every commit that changes the user: roles,
company, lock, deletion). A request reads both stamps (one ``MGET`` in the scale-out profile) and uses the entry
only while both are the ones it was stamped with, and for at most ``TTL_SECONDS`` (the bound when Redis is away
and a stamp could not be set). A key's owner never changes, so the owner is known from the first sight of a key;
an entry is made from the second (its stamps are then read before its row).

What is checked stays checked on every request, against the entry: the secret's hash, the expiry (time moves),
the block, the owner's company and state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from cabinet.core.principal import CredentialKind, Principal, principal_of
from cabinet.core.stamps import ChangeStamps, user_stamp_key
from cabinet.models import ApiKey, User

TTL_SECONDS = 30.0
MAX_ENTRIES = 50_000

Stamps = tuple[str | None, str | None]


def key_stamp(prefix: str) -> str:
    return f"apikey:{prefix}"


@dataclass(frozen=True, slots=True)
class CachedKey:
    """What authenticating one key needs, detached from any session."""

    key_id: int
    secret_hash: str
    blocked: bool
    expires_at: datetime | None
    last_used_at: datetime | None
    owner_enabled: bool
    owner_company_id: int
    key_company_id: int
    principal: Principal

    @classmethod
    def of(cls, key: ApiKey, owner: User) -> CachedKey:
        return cls(
            key_id=key.id,
            secret_hash=key.secret_hash,
            blocked=key.blocked,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            owner_enabled=owner.enabled,
            owner_company_id=owner.company_id,
            key_company_id=key.company_id,
            principal=principal_of(owner, CredentialKind.API_KEY, str(key.id)),
        )


class KeyCache:
    def __init__(self, stamps: ChangeStamps, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.stamps = stamps
        self._monotonic = monotonic
        self._owners: dict[str, int] = {}  # prefix -> its owner's id (never changes)
        self._entries: dict[str, tuple[Stamps, float, CachedKey]] = {}

    async def stamps_of(self, prefix: str) -> Stamps | None:
        """The key's and its owner's stamps, or None when the owner is not known yet (or the stamps cannot be
        read: then the row is read, as without a cache)."""
        owner = self._owners.get(prefix)
        if owner is None:
            return None
        key_value, owner_value = await self.stamps.read_many([key_stamp(prefix), user_stamp_key(owner)])
        return key_value, owner_value

    def get(self, prefix: str, stamps: Stamps | None) -> CachedKey | None:
        entry = self._entries.get(prefix)
        if entry is None or stamps is None:
            return None
        seen, born, cached = entry
        if seen != stamps or self._monotonic() - born >= TTL_SECONDS:
            return None
        return cached

    def put(self, prefix: str, owner_id: int, stamps: Stamps | None, cached: CachedKey) -> None:
        """Keep ``cached`` under the stamps read before its row; without them only learn its owner."""
        if len(self._owners) >= MAX_ENTRIES:
            self._owners.clear()
            self._entries.clear()
        self._owners[prefix] = owner_id
        if stamps is not None:
            self._entries[prefix] = (stamps, self._monotonic(), cached)

    async def changed(self, prefixes: Iterable[str]) -> None:
        """Keys a commit changed or deleted: forget them here, and give them new stamps for every process."""
        changed = list(prefixes)
        for prefix in changed:
            self._entries.pop(prefix, None)
        await self.stamps.change(key_stamp(prefix) for prefix in changed)
