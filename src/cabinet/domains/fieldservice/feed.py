"""The change sequence behind the incremental sync feeds.

Every synced row (call, task, message, jeopardy) carries ``change_no`` from one per-company sequence. A feed
returns the rows with ``change_no > cursor`` in ascending order, page by page.

Why no change is ever skipped: numbers are handed out by ``UPDATE contractor_sequence ... RETURNING`` as the
*last* statement of the writing transaction, and the row lock that UPDATE takes is held until the transaction
commits. A second writer of the same company blocks on that row until the first has committed, so numbers are
taken in commit order and a reader (any isolation level) only ever sees a fully committed prefix
1..k of the sequence: a row with a smaller number can never appear after the reader moved its cursor past
it. On SQLite, writes are serialised anyway (one writer at a time). The lock is held only for the few
statements between the stamp and the commit.

A row changed twice keeps only its latest number: the feed returns each row's latest state once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cabinet.domains.fieldservice.repository import ChangeSequenceRepository
from cabinet.models import Call


async def stamp(company_id: int, rows: Iterable[Any], *, new_calls: Iterable[Call] = ()) -> int:
    """Give each row the next change number (in the given order) and each new call its number; returns the
    last change number. Call it as the last step of a writing unit of work."""
    unique: list[Any] = []
    seen: set[int] = set()
    for row in rows:
        if id(row) not in seen:
            seen.add(id(row))
            unique.append(row)
    calls = list(new_calls)
    sequence = ChangeSequenceRepository()
    last_change, last_number = await sequence.take(company_id, changes=len(unique), call_numbers=len(calls))
    first = last_change - len(unique) + 1
    for offset, row in enumerate(unique):
        row.change_no = first + offset
    first_number = last_number - len(calls) + 1
    for offset, call in enumerate(calls):
        call.number = format_call_number(first_number + offset)
    await sequence.flush()
    return last_change


def format_call_number(value: int) -> str:
    return f"{value:08d}"
