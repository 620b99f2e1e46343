"""The per-process cache of the accounts behind access tokens.

Resolving an access token read the user row on every request (about a third of the event loop's time under
``GET /account/info``). A process now keeps an immutable snapshot of each account it resolved, stamped with the
account's change stamp (``core/stamps.py``) read *before* the row was. Each request reads the stamp (in memory
in the embedded profile, one Redis ``GET`` in the scale-out one) and uses the snapshot only while the stamp is
unchanged and the snapshot is younger than ``TTL_SECONDS``; anything else reads the row again.

Every committed change of a user row (a password change, a lock or disable, new roles, an edit, a deletion)
gives the user a new stamp right after its commit (``repository._note_changed_users`` notes the ids at flush;
``IdentityService`` stamps them from the database's commit observer) and drops the snapshot of this process.
So a snapshot outlives a change by the time between the change's commit and its new stamp (the same request,
microseconds to a Redis round trip), and never by more than ``TTL_SECONDS`` (when Redis could not take the new
stamp).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cabinet.core.stamps import ChangeStamps, user_stamp_key
from cabinet.models import User

TTL_SECONDS = 30.0
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class CompanyRef:
    id: int
    key: str


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What the Account API shows of a user and what resolving a token checks, detached from any session."""

    id: int
    username: str
    company_id: int
    company: CompanyRef
    enabled: bool
    roles: tuple[str, ...]
    timezone: int
    token_version: int
    specification: str | None
    email: str | None
    phone: str | None
    attributes: tuple[dict[str, Any], ...]
    created_at: datetime
    edited_at: datetime

    @classmethod
    def of(cls, user: User) -> AccountSnapshot:
        return cls(
            id=user.id,
            username=user.username,
            company_id=user.company_id,
            company=CompanyRef(user.company.id, user.company.key),
            enabled=user.enabled,
            roles=tuple(user.roles),
            timezone=user.timezone,
            token_version=user.token_version,
            specification=user.specification,
            email=user.email,
            phone=user.phone,
            attributes=tuple(copy.deepcopy(list(user.attributes or []))),
            created_at=user.created_at,
            edited_at=user.edited_at,
        )


def stamp_key(user_id: int) -> str:
    return user_stamp_key(user_id)


class AccountCache:
    def __init__(self, stamps: ChangeStamps, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.stamps = stamps
        self._monotonic = monotonic
        self._entries: dict[int, tuple[str | None, float, AccountSnapshot]] = {}

    async def stamp(self, user_id: int) -> str | None:
        return await self.stamps.read(stamp_key(user_id))

    def get(self, user_id: int, stamp: str | None) -> AccountSnapshot | None:
        entry = self._entries.get(user_id)
        if entry is None:
            return None
        seen, born, snapshot = entry
        if seen != stamp or self._monotonic() - born >= TTL_SECONDS:
            return None
        return snapshot

    def put(self, stamp: str | None, snapshot: AccountSnapshot) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[snapshot.id] = (stamp, self._monotonic(), snapshot)

    async def changed(self, user_ids: Iterable[int]) -> None:
        """Users whose rows a commit changed: forget them here, and give them new stamps for every process."""
        ids = list(user_ids)
        for user_id in ids:
            self._entries.pop(user_id, None)
        await self.stamps.change(stamp_key(user_id) for user_id in ids)

    def clear(self) -> None:
        self._entries.clear()
