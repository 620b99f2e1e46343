"""``in_ids`` (a list of ids bound as one value: a JSON array on SQLite, ``bigint[]`` on PostgreSQL) matches the
same rows as SQLAlchemy's expanding ``IN`` on the backend under test, for lists of any size, with duplicates,
negative and 64-bit values; anything but whole numbers is refused before it reaches SQL."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, MetaData, Table, bindparam, select
from sqlalchemy.exc import StatementError

from cabinet.core.db.id_lists import id_list, in_ids

metadata = MetaData()
probe = Table("id_list_probe", metadata, Column("n", BigInteger, primary_key=True), prefixes=["TEMPORARY"])
STORED = [-(2**63), -5, 0, 1, 2, 3, 7, 1000, 2**31, 2**53 + 1, 2**63 - 1, *range(10_000, 12_000)]


async def test_in_ids_matches_the_expanding_in(app: Any) -> None:
    engine = app.state.runtime.resources.db.engine
    chosen = select(probe.c.n).where(in_ids(probe.c.n, id_list("ids"))).order_by(probe.c.n)
    expanded = select(probe.c.n).where(probe.c.n.in_(bindparam("ids", expanding=True))).order_by(probe.c.n)
    draw = random.Random(21)
    lists: list[list[int]] = [[], [1], [4], [1, 1, 1], [2**63 - 1, -(2**63)], STORED, list(range(-3, 13_000))]
    for _ in range(60):
        lists.append([draw.choice(STORED) if draw.random() < 0.7 else draw.randint(-50, 20_000) for _ in range(30)])
    async with engine.connect() as conn:
        await conn.run_sync(lambda sync: probe.create(sync))
        await conn.execute(probe.insert(), [{"n": n} for n in STORED])
        for ids in lists:
            got = list((await conn.execute(chosen, {"ids": ids})).scalars())
            if ids:  # (an expanding IN of nothing is SQLAlchemy's own empty-set form)
                assert got == list((await conn.execute(expanded, {"ids": ids})).scalars()), ids
            assert got == sorted(set(ids) & set(STORED)), ids
        for wrong in (["1"], [1.0], [True], [2**63], [-(2**63) - 1], None):
            with pytest.raises(StatementError, match="id list"):
                await conn.execute(chosen, {"ids": wrong})
        await conn.rollback()
