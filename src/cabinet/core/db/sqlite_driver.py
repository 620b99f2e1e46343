"""SQLAlchemy's aiosqlite adapter with one trip to the driver's thread per statement.

aiosqlite runs every call on its connection's thread: the caller queues it and awaits a future the thread
resolves through the event loop (a thread wake-up each way, and the GIL handed over twice). SQLAlchemy's adapter
makes four such trips for one SELECT: open a cursor, execute, fetch all rows, close the cursor. A profile of the
contractor's ``GET /call/{id}`` (one statement) had the event loop's thread spend more time queuing those trips
than running the request. This adapter's buffered cursor does the four steps in one function on the driver's
thread and keeps what SQLAlchemy reads afterwards (the description, the rows, ``rowcount``, ``lastrowid``).

Server-side cursors (``stream()``) keep SQLAlchemy's own class: they fetch in chunks by design. Errors are those of
the stock adapter (the same ``_handle_exception``). Used by ``engine._sqlite_engine`` through
``create_async_engine(module=...)``; ``tests/unit/test_sqlite_driver.py`` counts the trips.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, Sequence[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the driver's thread: the whole statement, its rows read and its cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else ()
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor that opens no driver cursor of its own: each statement is one trip (``_run``)."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: Any) -> None:  # no ``cursor()`` trip, unlike the stock one
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # close() has no driver cursor to close
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # None before an INSERT, as sqlite3's

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await driver._execute(_run, driver._conn, operation, parameters, many)  # type: ignore[no-untyped-call]  # aiosqlite leaves it untyped
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        return None  # nothing is open on the driver's side after a trip


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """What ``create_async_engine(module=...)`` takes for the aiosqlite dialect: its connections use
    ``OneTripCursor``."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def one_trip_dbapi() -> OneTripDbapi:
    return OneTripDbapi(aiosqlite, sqlite3)
