"""``plain_select`` (core/db/plain.py: a SELECT compiled once, run by the driver's cursor) gives the rows
``Connection.execute`` gives, converted by the same types, on the backend under test; inline on SQLite (on the
event loop's thread) or through the driver's adapter; repeated and list parameters bound; what it cannot run the
same way (an expanding ``IN``, anything but a SELECT) is refused; statement listeners still see each statement."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    MetaData,
    Numeric,
    Table,
    Text,
    Uuid,
    bindparam,
    event,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import DBAPIError

from cabinet.core.db.id_lists import id_list, in_ids
from cabinet.core.db.plain import PlainSelect, plain_select
from cabinet.core.db.types import UTCDateTime
from cabinet.core.db.uow import current_session, unit_of_work

metadata = MetaData()
probe = Table(
    "plain_probe",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("name", Text),
    Column("at", UTCDateTime),
    Column("code", Uuid),
    Column("price", Numeric(12, 2)),
    Column("ratio", Float),
    Column("flag", Boolean),
    prefixes=["TEMPORARY"],
)
T0 = datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC)
ROWS = [
    {
        "id": n,
        "name": f"имя {n}",
        "at": T0 + timedelta(hours=n),
        "code": uuid.UUID(int=n),
        "price": Decimal(n) / 4,
        "ratio": n / 3,
        "flag": n % 2 == 0,
    }
    for n in range(1, 40)
] + [{"id": 40, "name": None, "at": None, "code": None, "price": None, "ratio": None, "flag": None}]

low = bindparam("low")
STATEMENTS = [
    (select(probe).where(probe.c.id > low, probe.c.id < low + 10).order_by(probe.c.id), {"low": 3}),  # low twice
    (
        select(probe.c.at, probe.c.id).where(in_ids(probe.c.id, id_list("ids"))).order_by(probe.c.id.desc()),
        {"ids": [40, 2, 2, 17, 99]},
    ),
    (
        union_all(
            select(probe.c.id, probe.c.at).where(probe.c.id == bindparam("a")),
            select(probe.c.id, literal(T0, UTCDateTime())).where(or_(probe.c.id == bindparam("b"), probe.c.flag)),
        ).order_by("id"),
        {"a": 5, "b": 40},
    ),
    (
        select(probe.c.name).where(probe.c.at > bindparam("since", type_=UTCDateTime())),
        {"since": T0 + timedelta(hours=30)},
    ),
]


@pytest.mark.parametrize("inline", [False, True])
async def test_plain_rows_equal_sqlalchemy_s(app: Any, inline: bool) -> None:
    db = app.state.runtime.resources.db
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "plain_probe" in statement:  # not the background jobs' own statements on the same engine
            seen.append(statement)

    async with unit_of_work(db) as session:
        connection = await session.connection()
        await connection.run_sync(lambda sync: probe.create(sync))
        await connection.execute(insert(probe), ROWS)
        for statement, params in STATEMENTS:
            expected = [tuple(row) for row in await connection.execute(statement, params)]
            assert expected, statement
            plain = PlainSelect(statement, inline=inline)
            event.listen(db.engine.sync_engine, "before_cursor_execute", note)
            try:
                assert await plain_select(plain, params) == expected
                assert await plain_select(plain, params) == expected  # compiled once, then the same
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", note)
            assert len(seen) == 2 and seen[0] == seen[1] and "SELECT" in seen[0]
            seen.clear()
        with pytest.raises(ValueError, match="expanding"):
            await plain_select(PlainSelect(select(probe.c.id).where(probe.c.id.in_([1, 2]))), {})
        with pytest.raises(TypeError, match="SELECT"):
            PlainSelect(insert(probe))  # type: ignore[arg-type]
        await current_session().rollback()
    nowhere = select(Table("plain_nowhere", MetaData(), Column("id", BigInteger)).c.id)
    with pytest.raises(DBAPIError) as through_execute:
        async with unit_of_work(db, write=False) as session:
            await (await session.connection()).execute(nowhere)
    with pytest.raises(DBAPIError) as through_plain:  # SQLAlchemy's error, from either path, as execute's
        async with unit_of_work(db, write=False):
            await plain_select(PlainSelect(nowhere, inline=inline), {})
    assert type(through_plain.value) is type(through_execute.value)
    assert type(through_plain.value.orig) is type(through_execute.value.orig)
