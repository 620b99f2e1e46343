"""The SQLite engine's adapter (``core/db/sqlite_driver.py``): one trip to aiosqlite's thread per statement, and
everything SQLAlchemy reads from a cursor as the stock adapter gives it (rows, description, rowcount, lastrowid,
errors, executemany, streaming)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from cabinet.core.db.sqlite_driver import OneTripCursor
from tests.helpers import sqlite_engine

metadata = MetaData()
things = Table(
    "things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True, nullable=False)
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with sqlite_engine(tmp_path / "driver.db", metadata, pool_size=2) as engine:
        yield engine


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many calls were queued to aiosqlite's thread since the last look."""
    count = [0]
    queue = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    def look() -> int:
        seen, count[0] = count[0], 0
        return seen

    return look


async def test_a_statement_is_one_trip(engine: AsyncEngine, trips: Callable[[], int]) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection's first use (its pragmas) is not counted
        trips()
        rows = (await conn.execute(text("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'"))).all()
        assert [tuple(r) for r in rows] == [(1, "x"), (2, "y")]
        assert trips() == 1  # the stock adapter: cursor, execute, fetchall, close = 4
        assert type(conn.sync_connection.connection.dbapi_connection.cursor()) is OneTripCursor  # type: ignore[union-attr]


async def test_writes_keep_rowcount_lastrowid_and_errors(engine: AsyncEngine, trips: Callable[[], int]) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(insert(things).values(name="one"))
        assert first.inserted_primary_key == (1,) and first.rowcount == 1
        many = await conn.execute(insert(things), [{"name": "two"}, {"name": "three"}])
        assert many.rowcount == 2
        renamed = await conn.execute(text("UPDATE things SET name = name || '!' WHERE id > 1"))
        assert renamed.rowcount == 2
        returned = (await conn.execute(insert(things).values(name="four").returning(things.c.id))).scalar_one()
        assert returned == 4
    async with engine.connect() as conn:
        names = (await conn.execute(select(things.c.name).order_by(things.c.id))).scalars().all()
        assert names == ["one", "two!", "three!", "four"]
        empty = await conn.execute(select(things).where(things.c.id < 0))
        assert empty.all() == [] and list(empty.keys()) == ["id", "name"]  # the description of no rows
        with pytest.raises(IntegrityError):
            await conn.execute(insert(things).values(name="one"))
        with pytest.raises(OperationalError, match="no such table"):
            await conn.execute(text("SELECT * FROM nothing_here"))
        assert (await conn.execute(text("SELECT count(*) FROM things"))).scalar_one() == 4  # still usable


async def test_streaming_and_partial_fetches(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(things), [{"name": f"n{i}"} for i in range(250)])
    async with engine.connect() as conn:
        streamed = [row.id async for row in await conn.stream(select(things.c.id).order_by(things.c.id))]
        assert streamed == list(range(1, 251))
        result = await conn.execute(select(things.c.id).order_by(things.c.id))
        assert result.fetchone() == (1,)
        assert [r.id for r in result.fetchmany(3)] == [2, 3, 4]
        assert len(result.fetchall()) == 246
