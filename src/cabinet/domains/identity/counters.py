"""The per-process cache of the user lists' counters (all, active, blocked, admins): a company's (or every
company's, for a platform operator), and those of a filter's matches in it.

``GET /admin/users`` shows them on every page: counting a company of 100,000 users read 100,000 index entries
(9 ms on SQLite) on every request, though they change only when a user is created, changed or deleted. A process
now keeps them per scope, stamped with the scope's change stamp (``core/stamps.py``) read *before* they were
counted; a request uses them while the stamp is unchanged and the entry is younger than ``TTL_SECONDS``.

Every commit that inserts, updates or deletes a user row (or deletes a company, whose users go with it) gives the
user's company and the platform-wide scope a new stamp right after the commit (``repository._note_changed_users``
notes them at flush; ``IdentityService`` stamps them from the commit observer). So the counters outlive a change
by the time between its commit and its new stamp, and never by more than ``TTL_SECONDS`` (when Redis could not
take the stamp).

A filter's counters (a search's matches, a company's, a group's) are kept the same way, under the same stamp, keyed
by the filter: counting 11,111 matches of a search among 100,000 users was most of a request (11 ms on SQLite,
23 ms on PostgreSQL), and an operator paging through a search asks for them on every page. A filter seen for the
first time since the scope's last change is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable

from cabinet.core.stamps import ChangeStamps
from cabinet.domains.identity.schemas import UserCounters

TTL_SECONDS = 30.0
MAX_ENTRIES = 10_000  # counters kept in all (every one is dropped when full: they are counted again as asked)
EVERY_COMPANY = "*"
OVERALL: Hashable = ()  # the key of a scope's own counters (no filter)


def stamp_key(scope: int | str | None) -> str:
    """The stamp of a scope's users: a company id, or None / ``EVERY_COMPANY`` for all of them."""
    return f"company-users:{EVERY_COMPANY if scope is None else scope}"


class CounterCache:
    def __init__(self, stamps: ChangeStamps, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.stamps = stamps
        self._monotonic = monotonic
        self._entries: dict[int | None, dict[Hashable, tuple[str | None, float, UserCounters]]] = {}
        self._size = 0

    async def stamp(self, scope: int | None) -> str | None:
        return await self.stamps.read(stamp_key(scope))

    def get(self, scope: int | None, stamp: str | None, listed: Hashable = OVERALL) -> UserCounters | None:
        """The counters of ``scope`` (``listed``: of a filter's matches in it) counted under ``stamp``, if fresh."""
        entry = self._entries.get(scope, {}).get(listed)
        if entry is None:
            return None
        seen, born, counters = entry
        if seen != stamp or self._monotonic() - born >= TTL_SECONDS:
            return None
        return counters

    def put(self, scope: int | None, stamp: str | None, counters: UserCounters, listed: Hashable = OVERALL) -> None:
        if listed not in self._entries.get(scope, {}):
            if self._size >= MAX_ENTRIES:
                self.clear()
            self._size += 1
        self._entries.setdefault(scope, {})[listed] = (stamp, self._monotonic(), counters)

    async def changed(self, company_ids: Iterable[int]) -> None:
        """Companies whose users a commit changed: forget their counters (and every company's) here, and give
        their scopes new stamps for every process."""
        ids = list(company_ids)
        for company_id in (*ids, None):
            self._size -= len(self._entries.pop(company_id, {}))
        await self.stamps.change([*(stamp_key(company_id) for company_id in ids), stamp_key(None)])

    def clear(self) -> None:
        self._entries.clear()
        self._size = 0
