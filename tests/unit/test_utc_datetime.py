"""``UTCDateTime`` reads every time back as an aware UTC datetime on SQLite, whatever text the row holds: what
SQLAlchemy writes (naive UTC, with or without microseconds), ISO 8601 with an offset (rows written by other tools),
a bare date, and NULL; its one-function result processor on SQLite agrees with the generic path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from cabinet.core.db.types import UTCDateTime
from tests.helpers import sqlite_engine

metadata = MetaData()
times = Table("times", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime, nullable=True))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with sqlite_engine(tmp_path / "times.db", metadata, pool_size=1) as engine:
        yield engine


async def test_times_round_trip_as_aware_utc(engine: AsyncEngine) -> None:
    now = datetime(2026, 12, 6, 4, 29, 51, 753368, tzinfo=UTC)
    moscow = datetime(2026, 12, 6, 7, 29, 51, tzinfo=timezone(timedelta(hours=3)))
    async with engine.begin() as conn:
        await conn.execute(
            insert(times),
            [
                {"id": 1, "at": now},
                {"id": 2, "at": None},
                {"id": 3, "at": now.replace(microsecond=0)},
                {"id": 4, "at": moscow},
            ],
        )
        await conn.execute(
            text(
                "INSERT INTO times VALUES (5, '2026-12-06 07:23:08+03:00'), (6, '2026-12-06'),"
                " (7, '2026-12-06T04:23:08.5Z')"
            )
        )
        stored = dict((await conn.execute(text("SELECT id, at FROM times WHERE id IN (1, 4)"))).all())
        read = dict((await conn.execute(select(times.c.id, times.c.at))).all())
    assert stored == {1: "2026-12-06 04:29:51.753368", 4: "2026-12-06 04:29:51.000000"}  # naive UTC text
    assert read == {
        1: now,
        2: None,
        3: now.replace(microsecond=0),
        4: datetime(2026, 12, 6, 4, 29, 51, tzinfo=UTC),
        5: datetime(2026, 12, 6, 4, 23, 8, tzinfo=UTC),
        6: datetime(2026, 12, 6, tzinfo=UTC),
        7: datetime(2026, 12, 6, 4, 23, 8, 500000, tzinfo=UTC),
    }
    assert all(value is None or value.tzinfo is UTC for value in read.values())


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_sqlite_processor_agrees_with_the_generic_one(value: datetime) -> None:
    """What SQLite's one function makes of the text SQLAlchemy binds equals the bound value."""
    dialect = sqlite.dialect()
    column = UTCDateTime().dialect_impl(dialect)
    stored = column._cached_bind_processor(dialect)(value)
    assert isinstance(stored, str)
    assert column._cached_result_processor(dialect, None)(stored) == value


def test_other_backends_keep_the_generic_processor() -> None:
    dialect = postgresql.dialect()
    process = UTCDateTime().dialect_impl(dialect)._cached_result_processor(dialect, None)
    moscow = datetime(2026, 12, 6, 7, 0, tzinfo=timezone(timedelta(hours=3)))
    assert process(moscow) == datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
    assert process(moscow).tzinfo is UTC
    assert process(None) is None
