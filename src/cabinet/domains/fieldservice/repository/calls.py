"""Calls: one, a page of the contractor's list, the call feed, and the views that embed tasks and items."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from cabinet.core.db.uow import current_session
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository import call_views
from cabinet.domains.fieldservice.repository.call_counts import CallCounts, count_key
from cabinet.domains.fieldservice.repository.scope import call_scope, expired_clause, plain_rows, whole_rows
from cabinet.domains.fieldservice.schemas import CallListQuery, CallView
from cabinet.models import Call, ChangeSequence, User


class CallRepository:
    def __init__(self) -> None:
        self.counts = CallCounts()  # the lists' totals (``call_counts``): one per service, so per app

    async def add(self, call: Call) -> None:
        """A new call, flushed (its id assigned)."""
        session = current_session()
        session.add(call)
        await session.flush()

    def add_children(self, rows: Iterable[Any]) -> None:
        """Rows that belong to a call just added (its tasks, its expenditure items)."""
        current_session().add_all(rows)

    async def by_id(self, call_id: int) -> Call | None:
        """Any company's call (a field link names it; the link's signature is the proof of access)."""
        return await current_session().get(Call, call_id)

    async def user(self, user_id: int) -> User | None:
        return await current_session().get(User, user_id)

    async def get(self, viewer: Viewer, call_id: int, *, for_update: bool = False) -> Call | None:
        stmt = select(Call).where(Call.id == call_id, *call_scope(viewer))
        if for_update:
            stmt = stmt.with_for_update()
        return await current_session().scalar(stmt)

    async def owner_in_company(self, company_id: int, user_id: int) -> User | None:
        return await current_session().scalar(select(User).where(User.id == user_id, User.company_id == company_id))

    async def view(self, viewer: Viewer, call_id: int, now: datetime) -> CallView | None:
        """One call the viewer may see, with all its view embeds, in one statement (``call_views``)."""
        return await call_views.view_of(viewer, call_id, now)

    async def views(self, calls: Sequence[Any], now: datetime) -> list[CallView]:
        """The calls (ORM objects or plain rows) with their tasks (and their results' attachments), jeopardies,
        expenditure items, visits and current signatures: one statement per child table for the whole page, whatever
        its size (``call_views``)."""
        return await call_views.views_of(calls, now)

    async def list(self, viewer: Viewer, query: CallListQuery, now: datetime) -> tuple[list[Any], int]:
        clauses = call_scope(viewer)
        if query.statuses:
            clauses.append(Call.status.in_([s.value for s in query.statuses]))
        if query.critical is not None:
            clauses.append(Call.critical.is_(query.critical))
        if query.jeopardy is not None:
            clauses.append(Call.jeopardy_open.is_(query.jeopardy))
        if query.expired is not None:
            expired = expired_clause(now)
            clauses.append(expired if query.expired else ~expired)
        if query.text.strip():
            text = query.text.strip()
            searched = (
                Call.number,
                Call.client_name,
                Call.service_object_name,
                Call.service_object_address,
                Call.description_for_field_employee,
            )
            clauses.append(or_(*(column.icontains(text, autoescape=True) for column in searched)))
        version = (
            select(ChangeSequence.last_change)
            .where(ChangeSequence.company_id == viewer.company_id)
            .scalar_subquery()
            .label("company_version")
        )
        connection = await current_session().connection()
        page = whole_rows(Call).add_columns(version).where(*clauses)
        page = page.order_by(*_order(query.sort)).limit(query.limit).offset(query.offset)
        rows = list(await connection.execute(page))
        calls = plain_rows(Call, rows)
        if not rows and query.offset == 0:
            return calls, 0
        key = count_key(viewer, query)
        if key is not None and rows:
            total = self.counts.get(key, rows[0].company_version)
            if total is not None:
                return calls, total
        counted = (await connection.execute(select(func.count(), version).select_from(Call).where(*clauses))).one()
        total = int(counted[0])
        if key is not None and counted[1] is not None:
            self.counts.put(key, counted[1], total)
        return calls, total

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> builtins.list[Any]:
        stmt = (
            whole_rows(Call).where(*call_scope(viewer), Call.change_no > cursor).order_by(Call.change_no).limit(limit)
        )
        # plain rows on the session's connection: a feed page of thousands needs none of the ORM's loading steps
        # (read-only: no pending change to flush first)
        return plain_rows(Call, await (await current_session().connection()).execute(stmt))


def _order(sort: str) -> list[Any]:
    if sort == "default":  # what a contractor wants on top: critical, then the nearest fix deadline
        return [Call.critical.desc(), Call.ttf.is_(None), Call.ttf.asc(), Call.id.desc()]
    descending = sort.startswith("-")
    column = {"created": Call.created, "ttf": Call.ttf, "tto": Call.tto, "number": Call.number, "id": Call.id}[
        sort.lstrip("-")
    ]
    direction = [column.desc() if descending else column.asc(), Call.id.desc() if descending else Call.id.asc()]
    if not column.nullable:
        return direction
    # NULL last ascending, first descending, on every backend
    return [column.is_(None) if not descending else column.is_not(None), *direction]
