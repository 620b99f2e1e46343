"""Calls: one, a page of the contractor's list, the call feed, and the views that embed tasks and items."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, bindparam, func, or_, select

from cabinet.core.db.like import LIKE_ESCAPE, like_escaped
from cabinet.core.db.plain import PlainSelect, plain_select
from cabinet.core.db.types import UTCDateTime
from cabinet.core.db.uow import current_session
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository import call_views
from cabinet.domains.fieldservice.repository.call_counts import CallCounts, count_key
from cabinet.domains.fieldservice.repository.scope import (
    bound_call_scope,
    bound_call_scope_clauses,
    call_scope,
    company_version,
    expired_clause,
    expiry_bound,
    is_confined,
    plain_rows,
    whole_rows,
)
from cabinet.domains.fieldservice.schemas import CallListQuery, CallView
from cabinet.models import Call, User


class CallRepository:
    def __init__(self) -> None:
        self.counts = CallCounts()  # the lists' totals (``call_counts``): one per service, so per app
        self.listed = call_views.ViewCache()  # the views lists showed lately (``call_views.ViewCache``)

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

    async def listed_views(self, calls: Sequence[call_views.Listed], now: datetime) -> list[CallView]:
        """The views of a list's page (``list``): those it showed lately, of calls that did not change since, are
        not read again (``call_views.ViewCache``)."""
        return await call_views.listed_views(calls, self.listed, now)

    async def list(
        self, viewer: Viewer, query: CallListQuery, now: datetime
    ) -> tuple[builtins.list[call_views.Listed], int]:
        """A page of the calls the viewer may see (which calls, at which version: ``listed_views`` reads their
        views) and how many match."""
        text = query.text.strip()
        statuses = sorted({status.value for status in query.statuses})  # a status asked twice is one shape
        shape = _ListShape(
            is_confined(viewer),
            len(statuses),
            query.critical,
            query.jeopardy,
            query.expired,
            bool(text),
            query.sort,
        )
        page, walk, count = _list_statements(shape)
        if walk is not None and query.offset + query.limit <= INLINE_ROWS:
            page = walk
        _, params = bound_call_scope(viewer)
        params.update({f"status_{n}": value for n, value in enumerate(statuses)})
        params.update(now=now, text=like_escaped(text), limit=query.limit, offset=query.offset)
        # a statement of this shape built once (plain.py: no statement to build, hash and compile per request)
        rows = await plain_select(page, params)
        calls = [call_views.Listed._make(row[:_WIDTH]) for row in rows]
        if not rows and query.offset == 0:
            return calls, 0
        key = count_key(viewer, query)
        version = rows[0][_WIDTH] if rows else None  # the company's change number, read with the page
        if version is not None:
            total = self.counts.get(key, version, now)
            if total is not None:
                return calls, total
        return calls, self.counts.noted(key, (await plain_select(count, params))[0])

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> builtins.list[Any]:
        stmt = (
            whole_rows(Call).where(*call_scope(viewer), Call.change_no > cursor).order_by(Call.change_no).limit(limit)
        )
        # plain rows on the session's connection: a feed page of thousands needs none of the ORM's loading steps
        # (read-only: no pending change to flush first)
        return plain_rows(Call, await (await current_session().connection()).execute(stmt))


class _ListShape(NamedTuple):
    """What a list's statement depends on besides its bound values."""

    confined: bool  # to the calls of one owner
    statuses: int  # how many statuses it takes (0: any)
    critical: bool | None
    jeopardy: bool | None
    expired: bool | None
    text: bool
    sort: str


# a page of the default order without filters, ending at most this far into the list, is read inline on SQLite: an
# index walk of up to this many rows (~0.3 ms for 50 of 100,000 calls), where handing it to the driver's thread
# under load cost more than the read (the threads trading the GIL at every row)
INLINE_ROWS = 1_000
_WIDTH = len(call_views.Listed._fields)  # a page row: what the list needs of a call, then the company's version


@functools.cache
def _list_statements(shape: _ListShape) -> tuple[PlainSelect, PlainSelect | None, PlainSelect]:
    """A page, the same page read inline on SQLite (``plain.py``) when its shape is a walk of an index (the default
    order, no filter: ``ix_contractor_call_company_order``, ``ix_contractor_call_owner_order``), and its count, for
    lists of this shape (their values bound: scope, statuses, now, text, limit, offset), built once per process.
    Each read also reads the company's change number (``call_counts``)."""
    now = bindparam("now", type_=UTCDateTime())  # the clock, for the expired filter and flag
    clauses: list[Any] = list(bound_call_scope_clauses(shape.confined))
    if shape.statuses:
        clauses.append(Call.status.in_([bindparam(f"status_{n}") for n in range(shape.statuses)]))
    if shape.critical is not None:
        clauses.append(Call.critical.is_(shape.critical))
    if shape.jeopardy is not None:
        clauses.append(Call.jeopardy_open.is_(shape.jeopardy))
    if shape.expired is not None:
        expired = expired_clause(now)
        clauses.append(expired if shape.expired else ~expired)
    if shape.text:
        searched = (
            Call.number,
            Call.client_name,
            Call.service_object_name,
            Call.service_object_address,
            Call.description_for_field_employee,
        )
        text = bindparam("text", type_=String())
        clauses.append(or_(*(column.icontains(text, escape=LIKE_ESCAPE) for column in searched)))
    version = company_version(bindparam("scope_company"))
    page = select(*call_views.listed_columns(now), version).where(*clauses).order_by(*_order(shape.sort))
    page = page.limit(bindparam("limit", type_=Integer())).offset(bindparam("offset", type_=Integer()))
    count = select(func.count(), version).select_from(Call).where(*clauses)
    if shape.expired is not None:  # a total of the clock: until when it holds (``call_counts``)
        count = count.add_columns(*expiry_bound(bindparam("scope_company"), now))
    unfiltered = shape == _ListShape(shape.confined, 0, None, None, None, False, "default")
    return PlainSelect(page), PlainSelect(page, inline=True) if unfiltered else None, PlainSelect(count)


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
