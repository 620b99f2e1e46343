"""Calls' views: the call, its tasks, their attachments, jeopardies, expenditure items, visits and current
signature. One call is read as one ``UNION ALL``; a page of calls with one statement per child table.

Each aiosqlite statement is several hand-offs to the driver's thread and back (cursor, execute, fetch, close), and
each asyncpg one a round trip: seven statements per call view were most of ``GET /call/{id}``'s time. Rows of
different tables share one result here through *slots*: every part of the union selects ``kind`` (which table),
``ord`` (its order within the kind) and the same typed columns, each table's columns placed in the slots of their
type (a BigInteger column in an integer slot, a text column in a text slot, ...) and the slots it does not use
``CAST(NULL AS <slot type>)``. The first part decides the result's types, so every slot converts its values the
same way whatever table they came from (time zones, UUIDs, booleans on SQLite).

A page (a list, a feed page of up to 10,000 calls) is the other way round: its six child statements cost little
beside its thousands of rows, and a union row carries all 34 slots (every one converted, NULLs included), so each
child table is read on its own with the page's ids bound as one value (``core/db/id_lists.py``).

The rows come back as named tuples whose attributes are the table's column names (what ``whole_rows`` gives):
the views are read, never changed. Each statement is built once per process.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.types import TypeEngine

from cabinet.core.db.id_lists import id_list, in_ids
from cabinet.core.db.plain import PlainSelect, plain_select
from cabinet.core.db.types import UTCDateTime
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository.scope import (
    bound_call_scope,
    expired_clause,
    is_expired,
    plain_rows,
    row_type,
    whole_rows,
)
from cabinet.domains.fieldservice.schemas import CallView
from cabinet.models import Call, CallJeopardy, CallSignature, CallTask, CallTaskAttachment, CallVisit, ExpenditureItem

# the slot groups: each group's SQL type, and the column types whose values go in its slots
GROUPS: tuple[tuple[str, TypeEngine[Any], tuple[type[TypeEngine[Any]], ...]], ...] = (
    ("int", BigInteger(), (Integer,)),  # BigInteger is an Integer
    ("text", Text(), (String,)),  # Text is a String
    ("time", UTCDateTime(), (UTCDateTime,)),
    ("bool", Boolean(), (Boolean,)),
    ("float", Float(), (Float,)),
    ("uuid", Uuid(), (Uuid,)),
)

CALL, TASK, ATTACHMENT, JEOPARDY, ITEM, VISIT, SIGNATURE = range(7)
TABLES: dict[int, Any] = {
    CALL: Call,
    TASK: CallTask,
    ATTACHMENT: CallTaskAttachment,
    JEOPARDY: CallJeopardy,
    ITEM: ExpenditureItem,
    VISIT: CallVisit,
    SIGNATURE: CallSignature,
}
CHILDREN = (TASK, ATTACHMENT, JEOPARDY, ITEM, VISIT, SIGNATURE)


def _group_of(column_type: TypeEngine[Any]) -> str:
    for name, _, kinds in GROUPS:
        if isinstance(column_type, kinds):
            return name
    raise TypeError(f"no slot group for a column of type {column_type!r}")


@dataclass(frozen=True)
class _Layout:
    """Where each table's columns sit: ``places[kind]`` pairs a column name with its slot's index in a row."""

    slots: tuple[tuple[str, TypeEngine[Any]], ...]  # (group, SQL type) of each slot, in row order after kind, ord
    places: dict[int, tuple[tuple[str, int], ...]]


def _layout() -> _Layout:
    widths: dict[str, int] = {name: 0 for name, _, _ in GROUPS}
    for model in TABLES.values():
        counts: dict[str, int] = defaultdict(int)
        for column in model.__table__.c:
            counts[_group_of(column.type)] += 1
        for name, count in counts.items():
            widths[name] = max(widths[name], count)
    slots: list[tuple[str, TypeEngine[Any]]] = []
    first: dict[str, int] = {}
    for name, sql_type, _ in GROUPS:
        first[name] = len(slots)
        slots.extend((name, sql_type) for _ in range(widths[name]))
    places: dict[int, tuple[tuple[str, int], ...]] = {}
    for kind, model in TABLES.items():
        used: dict[str, int] = defaultdict(int)
        placed = []
        for column in model.__table__.c:
            group = _group_of(column.type)
            placed.append((column.name, 2 + first[group] + used[group]))  # after kind and ord
            used[group] += 1
        places[kind] = tuple(placed)
    return _Layout(tuple(slots), places)


LAYOUT = _layout()


def _part(kind: int, where: list[ColumnElement[bool]], *, first: bool) -> Select[Any]:
    """One table's rows in the slot layout; the union's first part types every slot."""
    model = TABLES[kind]
    by_slot = {slot: model.__table__.c[name] for name, slot in LAYOUT.places[kind]}
    columns: list[Any] = [literal_column(str(kind), Integer()).label("kind"), model.__table__.c.id.label("ord")]
    for index, (_, sql_type) in enumerate(LAYOUT.slots, start=2):
        column = by_slot.get(index)
        if column is None:  # typed, for PostgreSQL's union (on SQLite a CAST of NULL is NULL)
            columns.append(cast(null(), sql_type))
        elif first:  # the slot's type for the result, without a SQL CAST (SQLite's would turn times into numbers)
            columns.append(type_coerce(column, sql_type))
        else:
            columns.append(column)
    return select(*columns).where(*where)


def _children_of(kind: int, of_calls: Callable[[Any], ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """The rows of ``kind`` that belong to the calls ``of_calls`` matches (given a call id column)."""
    if kind == ATTACHMENT:  # an attachment's call is its task's call
        return [CallTaskAttachment.task_id.in_(select(CallTask.id).where(of_calls(CallTask.call_id)))]
    model = TABLES[kind]
    where: list[ColumnElement[bool]] = [of_calls(model.call_id)]
    if kind == SIGNATURE:
        where.append(CallSignature.replaced_at.is_(None))  # the current one
    return where


def _statement(parts: list[Select[Any]]) -> Any:
    return union_all(*parts).order_by(literal_column("kind"), literal_column("ord"))


_statements: dict[tuple[str, int], Any] = {}


def _shaped(shape: tuple[str, int], build: Callable[[], Any]) -> Any:
    """The statement of this shape, built once per process (SQLAlchemy compiles it once per dialect)."""
    known = _statements.get(shape)
    if known is None:
        known = _statements[shape] = build()
    return known


def _one_call_statement(scope: tuple[ColumnElement[bool], ...]) -> Any:
    """The call and its embeds; ``scope`` is the viewer's bound call scope (``scope.bound_call_scope``)."""
    where = [Call.id == bindparam("call_id"), *scope]
    visible = select(Call.id).where(*where).scalar_subquery()
    parts = [_part(CALL, where, first=True)]
    parts += [_part(kind, _children_of(kind, lambda column: column == visible), first=False) for kind in CHILDREN]
    return _statement(parts)


def _row_class(kind: int) -> tuple[Callable[[Any], Any], Callable[[Any], tuple[Any, ...]]]:
    """A read-only row of ``kind``'s table (a named tuple of its columns) and what takes its values from a union
    row (the same type a page's per-table reads give: one row type per table, whichever way it was read)."""
    return row_type(TABLES[kind])._make, itemgetter(*(slot for _, slot in LAYOUT.places[kind]))  # in table order


ROW_CLASSES = {kind: _row_class(kind) for kind in TABLES}


def _rows(result: Any) -> dict[int, list[Any]]:
    by_kind: dict[int, list[Any]] = defaultdict(list)
    classes = ROW_CLASSES
    for row in result:
        kind = row[0]
        make, take = classes[kind]
        by_kind[kind].append(make(take(row)))
    return by_kind


async def _read(statement: PlainSelect, params: dict[str, Any]) -> dict[int, list[Any]]:
    # plain rows by the driver's cursor on the unit's connection (core/db/plain.py): none of the ORM's or of
    # Connection.execute's steps
    return _rows(await plain_select(statement, params))


def _grouped(rows: list[Any], key: str) -> dict[int, list[Any]]:
    """``rows`` (in their order) by the value of their ``key`` attribute."""
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups


def _assemble(calls: Sequence[Any], by_kind: dict[int, list[Any]], now: datetime) -> list[CallView]:
    tasks = _grouped(by_kind[TASK], "call_id")
    attachments = _grouped(by_kind[ATTACHMENT], "task_id")
    jeopardies = _grouped(by_kind[JEOPARDY], "call_id")
    items = _grouped(by_kind[ITEM], "call_id")
    visits = _grouped(by_kind[VISIT], "call_id")
    signatures = {signature.call_id: signature for signature in by_kind[SIGNATURE]}
    views = []
    for c in calls:
        call_tasks = tasks.get(c.id, [])
        views.append(
            CallView(
                c,
                call_tasks,
                jeopardies.get(c.id, []),
                items.get(c.id, []),
                is_expired(c, now),
                {t.id: attachments[t.id] for t in call_tasks if t.id in attachments},  # this call's only
                visits.get(c.id, []),
                signatures.get(c.id),
            )
        )
    return views


class Listed(NamedTuple):
    """What a list's page reads of each call (``listed_columns``): which call, at which version, and whether it is
    expired now."""

    id: int
    change_no: int
    created_at: datetime
    temp_link_id: uuid.UUID | None
    is_expired: bool


def listed_columns(now: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """A page's columns (``Listed``): ``now`` is the clock's time as a bound parameter."""
    c = Call.__table__.c
    return [c.id, c.change_no, c.created_at, c.temp_link_id, expired_clause(now).label("is_expired")]


def _version(call: Any) -> tuple[Any, ...]:
    """What tells one state of a call row from another (``ViewCache``)."""
    return call.change_no, call.created_at, call.temp_link_id


class ViewCache:
    """The views of the calls lists showed lately, kept per process (``GET /call``: a list of 50 calls read six
    child tables and wrote 50 calls' embeds on every request, though they change only when their call does).

    A view is used again only for a call whose ``change_no``, ``created_at`` and ``temp_link_id`` are those it was
    read with. Every change to a call's row or to what its view embeds (tasks, their attachments, jeopardies,
    visits, signatures) stamps the call with the next change number of its company in the same transaction
    (``feed.stamp``: the call feed relies on it, so does this; ``tests/unit/test_rules.py`` holds every write of a
    call's columns to it), save a field link's id (``temp_link_id``, not synced): so the same three values mean the
    same row and the same embeds, with no time bound, in every process, whichever wrote (``created_at`` tells a
    call from another that took a deleted call's id). The clock's part (``is_expired``) is read with the page for
    each request; the rest, and what presenters derive from it (``CallView.memo``), is shared. The oldest views are
    dropped beyond ``size`` calls."""

    def __init__(self, size: int = 2_000) -> None:
        self.size = size
        self._views: OrderedDict[int, tuple[tuple[Any, ...], CallView]] = OrderedDict()

    def get(self, listed: Listed) -> CallView | None:
        known = self._views.get(listed.id)
        if known is None or known[0] != (listed.change_no, listed.created_at, listed.temp_link_id):
            return None
        self._views.move_to_end(listed.id)
        v = known[1]
        return CallView(
            v.call, v.tasks, v.jeopardies, v.items, listed.is_expired, v.attachments, v.visits, v.signature, v.memo
        )

    def put(self, view: CallView) -> None:
        view.memo = {}
        call_id = view.call.id
        self._views[call_id] = (_version(view.call), view)
        self._views.move_to_end(call_id)
        while len(self._views) > self.size:
            self._views.popitem(last=False)

    def __len__(self) -> int:
        return len(self._views)


async def view_of(viewer: Viewer, call_id: int, now: datetime) -> CallView | None:
    """The view of one call the viewer may see (None: no such call in its scope), in one statement."""
    scope, params = bound_call_scope(viewer)
    # one statement per shape (confined to an owner or not); a short indexed read: inline on SQLite (plain.py)
    statement = _shaped(("one", len(scope)), lambda: PlainSelect(_one_call_statement(scope), inline=True))
    by_kind = await _read(statement, {"call_id": call_id, **params})
    calls = by_kind.get(CALL)
    if not calls:
        return None
    return _assemble(calls, by_kind, now)[0]


def _children_statement(kind: int) -> Any:
    """The rows of one child table for a list of calls (bound once as ``ids``), grouped by their parent and in
    table order within it (what ``_grouped`` keeps)."""
    model = TABLES[kind]
    ids = id_list("ids")
    parent = CallTaskAttachment.task_id if kind == ATTACHMENT else model.call_id
    return whole_rows(model).where(*_children_of(kind, lambda column: in_ids(column, ids))).order_by(parent, model.id)


CHILDREN_STATEMENTS = {kind: PlainSelect(_children_statement(kind)) for kind in CHILDREN}


async def views_of(calls: Sequence[Any], now: datetime) -> list[CallView]:
    """The views of calls already read (ORM objects or plain rows): one statement per child table, each with the
    page's ids as one bound value (``core/db/id_lists.py``). A page's thousands of child rows come back with only
    their own table's columns (the one-call union's 34 slots a row cost a fifth of a feed page)."""
    if not calls:
        return []
    ids = [c.id for c in calls]
    by_kind: dict[int, list[Any]] = {}
    for kind, statement in CHILDREN_STATEMENTS.items():  # plain rows (core/db/plain.py): no pending change to flush
        by_kind[kind] = plain_rows(TABLES[kind], await plain_select(statement, {"ids": ids}))
    return _assemble(calls, by_kind, now)


CALLS_BY_ID = PlainSelect(whole_rows(Call).where(in_ids(Call.__table__.c.id, id_list("ids"))))


async def listed_views(listed: Sequence[Listed], cache: ViewCache, now: datetime) -> list[CallView]:
    """The views of a list's page: those ``cache`` holds at the calls' versions read nothing; the others are read
    (the calls' rows, then one statement per child table) and kept. A call gone since the page was read is left
    out."""
    known: dict[int, CallView] = {}
    missing: list[Listed] = []
    for entry in listed:
        view = cache.get(entry)
        if view is None:
            missing.append(entry)
        else:
            known[entry.id] = view
    if missing:
        rows = {
            row.id: row for row in plain_rows(Call, await plain_select(CALLS_BY_ID, {"ids": [m.id for m in missing]}))
        }
        calls = [rows[m.id] for m in missing if m.id in rows]
        for view in await views_of(calls, now):
            cache.put(view)
            known[view.call.id] = view
    return [known[entry.id] for entry in listed if entry.id in known]
