"""A Core SELECT of a hot read path, compiled once per dialect and run by the driver's cursor on the unit of work's
connection: the rows come back as plain tuples with SQLAlchemy's own type conversions applied.

SQLAlchemy's ``Connection.execute`` costs about 120 µs of Python a statement beside the driver's own work (a
contractor's ``GET /call/{id}`` reads one statement of 5 rows in 32 µs of SQLite): hashing the statement's cache
key (a nested tuple of the whole statement: 14 µs for the call view's union), an execution context, result
metadata and a ``Row`` per row. Under load that was 40 % of the request. Here a statement built once at import
(``PlainSelect``) is compiled once per dialect; each run binds its parameters through the types' bind processors,
executes on the adapted DBAPI cursor of the connection the unit already holds (the same driver adapter SQLAlchemy
uses: the same transaction, locking and error translation) and converts each column with the processor SQLAlchemy
would use for it (chosen from the first run's cursor description, as SQLAlchemy does).

Only SELECTs with plain bound parameters are taken (no expanding ``IN``: bind a list with ``id_lists.in_ids``).
``before_cursor_execute`` listeners see the statement, and its errors are SQLAlchemy's, as through ``execute``
(a lost connection invalidated). The rows equal those of
``Connection.execute`` on both backends (``tests/unit/test_plain_select.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import CompoundSelect, Select
from sqlalchemy.sql.compiler import SQLCompiler

from cabinet.core.db.uow import current_session

_Processor = Callable[[Any], Any]


@dataclass(slots=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, _Processor | None], ...]  # in the SQL's placeholder order
    given: dict[str, Any]  # the values the statement holds itself (its literals)
    types: tuple[Any, ...]  # each result column's type, in select order
    converters: tuple[tuple[int, _Processor], ...] | None = None  # (column, processor), from the first run


@dataclass(eq=False)
class PlainSelect:
    """``statement`` (a SELECT or a UNION of SELECTs), read as plain tuples by ``plain_select``."""

    statement: Select[Any] | CompoundSelect[Any]
    # SQLite: run on the event loop's thread, not the driver's. For a short indexed read only (one call's view:
    # ~30 µs of SQLite): under 32 concurrent requests, handing a statement to the driver's thread and back cost
    # ~400 µs of CPU (the two threads trading the GIL as sqlite3 releases it around each step), ten times the
    # statement; inline it blocks the loop for the statement's own time. Never for a read that may run long. (A
    # reader in WAL mode waits on no writer; it could wait only while another connection recovers the WAL index
    # after a crash, and then the loop waits with it, up to the busy timeout.)
    inline: bool = False
    _by_dialect: dict[str, _Compiled] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.statement, Select | CompoundSelect):
            raise TypeError("a plain read is a SELECT")

    def compiled(self, dialect: Dialect) -> _Compiled:
        key = dialect.name
        known = self._by_dialect.get(key)
        if known is None:
            known = self._by_dialect[key] = _compile(self.statement, dialect)
        return known


def _compile(statement: Any, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled._post_compile_expanded_state is not None or "POSTCOMPILE" in compiled.string:
        raise ValueError("a plain read binds no expanding IN (bind a list with in_ids)")
    names = compiled.positiontup
    if names is None:
        raise ValueError(f"the {dialect.name} dialect binds by name; a plain read binds by position")
    processors = compiled._bind_processors  # what Connection.execute applies to each value
    binds: list[tuple[str, _Processor | None]] = []
    for name in names:
        processor = processors.get(name)
        if processor is not None and not callable(processor):  # a tuple's value: one processor per member
            raise ValueError("a plain read binds no tuple values")
        binds.append((name, processor))
    given = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
    types = tuple(entry[3] for entry in compiled._result_columns)  # (key, name, objects, type)
    return _Compiled(compiled.string, tuple(binds), given, types)


def _converters(
    compiled: _Compiled, dialect: Dialect, description: Sequence[Any]
) -> tuple[tuple[int, _Processor], ...]:
    found = []
    for index, (type_, column) in enumerate(zip(compiled.types, description, strict=True)):
        processor = type_._cached_result_processor(dialect, column[1])  # SQLAlchemy's own choice
        if processor is not None:
            found.append((index, processor))
    return tuple(found)


def _run(connection: Connection, plain: PlainSelect, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """In SQLAlchemy's greenlet: the statement on the connection's DBAPI cursor, rows converted."""
    dialect = connection.dialect
    compiled = plain.compiled(dialect)
    args = _bound(compiled, params)
    pooled = connection.connection
    adapted: Any = pooled.dbapi_connection
    inline = plain.inline and dialect.name == "sqlite"
    # inline: sqlite3's own cursor, on this (the event loop's) thread; else the adapter's, on the driver's thread
    cursor = pooled.driver_connection._conn.cursor() if inline else adapted.cursor()  # type: ignore[union-attr]
    try:
        if connection._has_events or connection.engine._has_events:  # as Connection.execute does
            connection.dispatch.before_cursor_execute(connection, cursor, compiled.sql, args, None, False)
        try:
            try:
                cursor.execute(compiled.sql, args)
                rows = cursor.fetchall()
            except Exception as error:
                if inline:
                    adapted._handle_exception(error)  # the adapter's error types, as from the driver's thread
                raise
        except Exception as error:
            # as Connection.execute: wrapped in SQLAlchemy's DBAPIError (what the error handlers map to 503 and
            # the like), and a connection the error shows dead invalidated
            connection._handle_dbapi_exception(error, compiled.sql, args, cursor, None)
        if compiled.converters is None:
            compiled.converters = _converters(compiled, dialect, cursor.description)
    finally:
        cursor.close()
    converters = compiled.converters
    if not converters:
        return [tuple(row) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for index, processor in converters:
            values[index] = processor(values[index])
        out.append(tuple(values))
    return out


def _bound(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[Any, ...]:
    given = compiled.given
    values = [params[name] if name in params else given[name] for name, _ in compiled.binds]
    return tuple(v if p is None else p(v) for v, (_, p) in zip(values, compiled.binds, strict=True))


async def plain_select(plain: PlainSelect, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of ``plain`` on the active unit of work's connection (read-only or not: no pending ORM change is
    flushed first, as with a Core statement on ``session.connection()``)."""
    connection = await current_session().connection()
    return await connection.run_sync(_run, plain, params)
