"""core.query: random filter trees compiled to SQL select exactly the rows a plain Python evaluation of the same
tree selects, over a small data set, on the backend under test (SQLite, or PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, func, select

from cabinet.core.db.engine import build_engine
from cabinet.core.db.types import JSONDoc, UTCDateTime
from cabinet.core.db.uow import Database, unit_of_work
from cabinet.core.query import Condition, FieldType, Group, Node, Query, QueryField, QueryValueInvalid, SortKey
from cabinet.core.query.compiler import ANY, ONE, _counted, like_tokens, run_query
from cabinet.core.query.model import DATETIME_FORMAT
from cabinet.settings import Settings
from tests.helpers import TEST_SECRET

metadata = MetaData()
things = Table(
    "query_compiler_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=True),
    Column("score", Integer, nullable=True),
    Column("ratio", Float, nullable=True),
    Column("flag", Boolean, nullable=True),
    Column("at", UTCDateTime, nullable=True),
    Column("tags", JSONDoc, nullable=True),
)
T0 = datetime(2026, 5, 4, 10, 20, 30, tzinfo=UTC)
NAMES = ["alpha", "Alpha", "beta_1", "b%c", "gamma", "a_c", "abc", "", "x\\y", "zeta"]
TAGS = ["red", "green", "blue"]
ROWS: list[dict[str, Any]] = []
for i in range(14):
    ROWS.append(
        {
            "id": i + 1,
            "name": None if i % 7 == 3 else NAMES[i % len(NAMES)],
            "score": None if i % 5 == 4 else (i * 7) % 11 - 3,
            "ratio": None if i % 6 == 5 else round((i % 4) * 0.5, 1),
            "flag": None if i % 4 == 2 else i % 3 == 0,
            "at": None if i % 6 == 1 else T0 + timedelta(seconds=i * 37, microseconds=(i * 130_001) % 1_000_000),
            "tags": None if i % 8 == 5 else [TAGS[j] for j in range(3) if (i >> j) & 1],
        }
    )
T = FieldType
CATALOG = {
    "id": QueryField(things.c.id, T.INTEGER),
    "name": QueryField(things.c.name, T.STRING),
    "score": QueryField(things.c.score, T.INTEGER),
    "ratio": QueryField(things.c.ratio, T.NUMBER),
    "flag": QueryField(things.c.flag, T.BOOLEAN),
    "at": QueryField(things.c.at, T.DATETIME),
    "tags": QueryField(things.c.tags, T.STRING_ARRAY),
}
TZ = 3  # the caller's timezone: filter values are local times


class Probe:
    def __init__(self, url: str, schema: str | None) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = build_engine(url, pool_size=2, schema=schema)
        self.db = Database(self.engine)
        self.run(self._setup())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _setup(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
            await conn.execute(things.insert(), ROWS)

    async def ids(self, node: Node | None, sort: tuple[SortKey, ...] = (), limit: int = 1000) -> tuple[list[int], int]:
        async with unit_of_work(self.db, write=False):
            rows, total = await run_query(
                select(things),
                CATALOG,
                Query(filter=node, sort=sort, limit=limit, tz_hours=TZ),
                [things.c.id],
                scalars=False,
            )
        return [r.id for r in rows], total

    def close(self) -> None:
        async def down() -> None:
            async with self.engine.begin() as conn:
                await conn.run_sync(metadata.drop_all)
            await self.engine.dispose()

        self.run(down())
        self.loop.close()


@pytest.fixture(scope="module")
def probe(backend: dict[str, Any]) -> Iterator[Probe]:
    config = Settings(
        data_dir=backend["data_dir"],
        database_url=backend["database_url"],
        database_schema=backend["schema"],
        secret_key=TEST_SECRET,
    )
    made = Probe(config.async_database_url, backend["schema"])
    try:
        yield made
    finally:
        made.close()


# --- the reference: the documented semantics in plain Python --------------------------------------------------
def _pattern(value: str) -> re.Pattern[str]:
    parts = [".*" if t is ANY else "." if t is ONE else re.escape(str(t)) for t in like_tokens(value)]
    return re.compile("".join(parts), re.DOTALL)


def _local(value: str) -> datetime:
    return datetime.strptime(value, DATETIME_FORMAT).replace(tzinfo=UTC) - timedelta(hours=TZ)


def holds(node: Node, row: dict[str, Any]) -> bool:
    if isinstance(node, Group):
        results = [holds(child, row) for child in node.children]
        return all(results) if node.condition == "and" else any(results)
    col, op, value = row[node.field], node.operator, node.value
    kind = CATALOG[node.field].type
    if op == "is_null" or (op == "=" and value is None):
        return col is None or (kind is T.STRING_ARRAY and col == [])
    if op == "is_not_null" or (op == "!=" and value is None):
        return not (col is None or (kind is T.STRING_ARRAY and col == []))
    if col is None:
        return False  # SQL: a comparison with NULL is never true
    if op in ("overlap", "not_overlap"):
        wanted = value if isinstance(value, list) else [value]
        hit = any(v in col for v in wanted)
        return hit if op == "overlap" else not hit
    if op in ("in", "not_in"):
        return (col in value) == (op == "in")
    if op in ("like", "not_like"):
        return bool(_pattern(value).fullmatch(col)) == (op == "like")
    if op in ("ilike", "not_ilike"):
        return bool(_pattern(value.lower()).fullmatch(col.lower())) == (op == "ilike")
    if op == "regexp":
        return re.search(value, col) is not None
    if kind is T.DATETIME:
        start, after = _local(value), _local(value) + timedelta(seconds=1)
        return {
            "=": start <= col < after,
            "!=": not start <= col < after,
            "<": col < start,
            "<=": col < after,
            ">": col >= after,
            ">=": col >= start,
        }[op]
    return {
        "=": col == value,
        "!=": col != value,
        "<": col < value,
        ">": col > value,
        "<=": col <= value,
        ">=": col >= value,
    }[op]


# --- random trees ---------------------------------------------------------------------------------------------
def _shown(moment: datetime) -> str:
    return (moment + timedelta(hours=TZ)).strftime(DATETIME_FORMAT)


MOMENTS = [r["at"] for r in ROWS if r["at"]]
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": st.integers(-1, 16),
    "name": st.sampled_from([n for n in NAMES if n] + ["ALPHA", "beta", "nope"]),
    "score": st.integers(-4, 8),
    "ratio": st.sampled_from([0, 0.5, 1, 1.5, 2.0, -1]),
    "flag": st.booleans(),
    "at": st.builds(lambda m, d: _shown(m + timedelta(seconds=d)), st.sampled_from(MOMENTS), st.integers(-1, 1)),
}
PATTERNS = st.sampled_from(
    ["a%", "%a", "%b%", "A%", "%_%", "_", "%\\%%", "%\\_%", "", "%", "a_c", "x\\\\y", "%ET%", "b%c", "%c"]
)
REGEXPS = st.sampled_from(["^a", "a$", "[0-9]", "a.c", "^$", "(al|ze)", "^[A-Z]", "%"])


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    field = draw(st.sampled_from(sorted(CATALOG)))
    kind = CATALOG[field].type
    from cabinet.core.query import allowed_operators

    op = draw(st.sampled_from(allowed_operators(kind)))
    if op in ("is_null", "is_not_null"):
        value: Any = None
    elif op in ("in", "not_in"):
        value = draw(st.lists(VALUES[field], min_size=1, max_size=4))
    elif op in ("overlap", "not_overlap"):
        value = draw(
            st.one_of(st.sampled_from(TAGS + ["pink"]), st.lists(st.sampled_from(TAGS), min_size=1, max_size=2))
        )
    elif op in ("like", "ilike", "not_like", "not_ilike"):
        value = draw(PATTERNS)
    elif op == "regexp":
        value = draw(REGEXPS)
    elif op in ("=", "!="):
        value = draw(st.one_of(st.none(), VALUES[field]))
    else:
        value = draw(VALUES[field])
    return Condition(field, op, value)


trees = st.recursive(
    conditions(),
    lambda children: st.builds(
        lambda kids, how: Group(how, tuple(kids)),
        st.lists(children, min_size=1, max_size=3),
        st.sampled_from(["and", "or"]),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=trees)
def test_random_trees_match_the_reference(probe: Probe, node: Node) -> None:
    expected = [r["id"] for r in ROWS if holds(node, r)]
    got, total = probe.run(probe.ids(node))
    assert got == expected, repr(node)
    assert total == len(expected)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=trees, field=st.sampled_from(["id", "name", "score", "ratio", "flag", "at"]), desc=st.booleans())
def test_paging_and_sort_keep_the_total(probe: Probe, node: Node, field: str, desc: bool) -> None:
    everything, total = probe.run(probe.ids(node, (SortKey(field, desc),)))
    first, first_total = probe.run(probe.ids(node, (SortKey(field, desc),), limit=2))
    assert first == everything[:2] and first_total == total == len(everything)
    values = [next(r[field] for r in ROWS if r["id"] == i) for i in everything]
    present = [v for v in values if v is not None]
    nulls = len(values) - len(present)
    if field != "name":  # text order is the database's collation; numbers, booleans and times are not
        assert present == sorted(present, reverse=desc)
    # NULLs last ascending, first descending, on every backend
    assert all(v is None for v in (values[:nulls] if desc else values[len(present) :]))


@pytest.mark.parametrize(
    "condition",
    [
        Condition("tags", "jsquery", {"a": 1}),
        Condition("name", "regexp", "(["),
        Condition("name", ">", "a"),
        Condition("score", "=", "1"),
        Condition("score", "=", True),
        Condition("flag", "=", 1),
        Condition("at", "<", "2026-05-04"),
        Condition("at", "<", "2026-02-30 00:00:00"),
        Condition("score", "in", []),
        Condition("score", "in", 3),
        Condition("score", "is_null", 3),
        Condition("tags", "overlap", 5),
        Condition("name", "like", 5),
        Condition("name", "=", "nul\x00"),
    ],
)
def test_values_breaking_the_operator_table(probe: Probe, condition: Condition) -> None:
    with pytest.raises(QueryValueInvalid) as refused:
        probe.run(probe.ids(condition))
    assert refused.value.extra["field"] == "filter.value"


def test_regexp_is_linear_time() -> None:
    import time

    from cabinet.core.regexp import regexp

    started = time.perf_counter()
    assert regexp("(a+)+$", "a" * 20_000 + "!") is False  # catastrophic for a backtracking engine
    assert time.perf_counter() - started < 1.0
    assert regexp("^a.c$", "abc") is True and regexp("x", None) is None


def test_patterns_both_backends_refuse(probe: Probe) -> None:
    for pattern in (r"(a)\1", "(?=a)b", "(["):  # back-references and look-arounds: not RE2
        with pytest.raises(QueryValueInvalid):
            probe.run(probe.ids(Condition("name", "regexp", pattern)))


def test_a_plain_select_is_counted_in_place_a_grouped_or_distinct_one_as_a_subquery() -> None:
    """The total of a page (``run_query``): ``SELECT count(*) FROM ... WHERE ...`` for a plain SELECT (one row per
    match: the count an index alone can answer), the rows of a subquery where grouping or DISTINCT make rows of
    their own (the totals above hold either way)."""
    plain = str(_counted(select(things).where(things.c.score > 1).order_by(things.c.name)))
    assert plain.startswith("SELECT count(*)") and "(SELECT" not in plain and "ORDER BY" not in plain
    assert "WHERE query_compiler_probe.score >" in plain
    grouped = select(things.c.name, func.count()).group_by(things.c.name)
    assert "(SELECT" in str(_counted(grouped))
    assert "(SELECT" in str(_counted(select(things.c.name).distinct()))
