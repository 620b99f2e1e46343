"""The totals of the call lists (``X-Total-Count``), kept per process under the company's change number.

``GET /call`` answers the number of calls its filters match on every page: at 100,000 calls that count was most of
a request, though it changes only when a call does. Every change to a call takes the next number of its company's
change sequence in the same transaction (``feed.stamp``: the feeds rely on it), so the sequence's ``last_change``
is an exact version of the company's calls. A total is kept with the ``last_change`` read by the very statement
that counted it, and used only for a page whose own statement read the same ``last_change``: a total and a page
are always of the same committed state, in every process, with no time bound. A filter that depends on the clock
(``expired``) is always counted.
"""

from __future__ import annotations

from collections.abc import Hashable

from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository.scope import scope_key
from cabinet.domains.fieldservice.schemas import CallListQuery

MAX_ENTRIES = 10_000  # all are dropped when full: the lists asked again are counted again


def count_key(viewer: Viewer, query: CallListQuery) -> Hashable | None:
    """What a list's total depends on besides the company's calls; None when it depends on the time too."""
    if query.expired is not None:
        return None
    statuses = tuple(sorted(status.value for status in query.statuses))
    return (scope_key(viewer), statuses, query.critical, query.jeopardy, query.text.strip())


class CallCounts:
    def __init__(self) -> None:
        self._totals: dict[Hashable, tuple[int, int]] = {}

    def get(self, key: Hashable, version: int) -> int | None:
        """The total counted for ``key`` when the company's calls were at ``version``, if known."""
        known = self._totals.get(key)
        return known[1] if known is not None and known[0] == version else None

    def put(self, key: Hashable, version: int, total: int) -> None:
        if key not in self._totals and len(self._totals) >= MAX_ENTRIES:
            self._totals.clear()
        self._totals[key] = (version, total)
