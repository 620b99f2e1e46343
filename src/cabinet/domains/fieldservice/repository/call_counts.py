"""The totals of the call lists (``X-Total-Count``), kept per process under the company's change number.

``GET /call`` answers the number of calls its filters match on every page: at 100,000 calls that count was most of
a request, though it changes only when a call does. Every change to a call takes the next number of its company's
change sequence in the same transaction (``feed.stamp``: the feeds rely on it), so the sequence's ``last_change``
is an exact version of the company's calls. A total is kept with the ``last_change`` read by the very statement
that counted it, and used only for a page whose own statement read the same ``last_change``: a total and a page
are always of the same committed state, in every process, with no time bound. A total that depends on the clock
(a filter on ``isExpired``) changes also when time passes a deadline: it is kept only until the first moment a call
of the company could become expired (``scope.expiry_bound``, read by the same statement as the total), and counted
again from then on.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository.scope import earliest, scope_key
from cabinet.domains.fieldservice.schemas import CallListQuery

MAX_ENTRIES = 10_000  # all are dropped when full: the lists asked again are counted again


def count_key(viewer: Viewer, query: CallListQuery) -> Hashable:
    """What a list's total depends on besides the company's calls (and, with ``expired``, the clock)."""
    statuses = tuple(sorted(status.value for status in query.statuses))
    return (scope_key(viewer), statuses, query.critical, query.jeopardy, query.expired, query.text.strip())


class CallCounts:
    def __init__(self) -> None:
        self._totals: dict[Hashable, tuple[int, int, datetime | None]] = {}

    def get(self, key: Hashable, version: int, now: datetime) -> int | None:
        """The total counted for ``key`` when the company's calls were at ``version``, if known and, for a total
        of the clock, not yet past the moment it holds until."""
        known = self._totals.get(key)
        if known is None or known[0] != version or (known[2] is not None and now >= known[2]):
            return None
        return known[1]

    def noted(self, key: Hashable, counted: Sequence[Any]) -> int:
        """The total of a counting statement's row (the count, the company's version, then the moments of
        ``scope.expiry_bound`` when the total is of the clock), kept for ``key``."""
        total, version, *bound = counted
        if version is not None:
            # a total of the clock holds until a call can next become expired (no bound: no open call has a
            # deadline ahead, so only a change of a call moves it, as any other total)
            self.put(key, version, total, until=earliest(*bound))
        return int(total)

    def put(self, key: Hashable, version: int, total: int, until: datetime | None = None) -> None:
        """``until``: the moment a total of the clock stops holding (None: the total does not depend on it)."""
        if key not in self._totals and len(self._totals) >= MAX_ENTRIES:
            self._totals.clear()
        self._totals[key] = (version, total, until)
