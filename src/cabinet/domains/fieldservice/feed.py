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

from sqlalchemy import insert, update

from cabinet.core.db.uow import current_session
from cabinet.models import Call, ChangeSequence


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
    session = current_session()
    await session.flush()
    statement = (
        update(ChangeSequence)
        .where(ChangeSequence.company_id == company_id)
        .values(
            last_change=ChangeSequence.last_change + len(unique),
            last_call_number=ChangeSequence.last_call_number + len(calls),
        )
        .returning(ChangeSequence.last_change, ChangeSequence.last_call_number)
    )
    found = (await session.execute(statement)).one_or_none()
    if found is None:
        await _create_sequence(company_id)
        found = (await session.execute(statement)).one()
    last_change, last_number = int(found[0]), int(found[1])
    first = last_change - len(unique) + 1
    for offset, row in enumerate(unique):
        row.change_no = first + offset
    first_number = last_number - len(calls) + 1
    for offset, call in enumerate(calls):
        call.number = format_call_number(first_number + offset)
    await session.flush()
    return last_change


def format_call_number(value: int) -> str:
    return f"{value:08d}"


async def _create_sequence(company_id: int) -> None:
    """The company's sequence row, created on first use (a concurrent creator wins harmlessly)."""
    session = current_session()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(ChangeSequence).on_conflict_do_nothing(index_elements=["company_id"])
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(ChangeSequence).on_conflict_do_nothing(index_elements=["company_id"])
    else:  # pragma: no cover - only the two supported backends
        stmt = insert(ChangeSequence)
    await session.execute(stmt.values(company_id=company_id, last_change=0, last_call_number=0))
