"""A ``get`` method's page is written by ``rows_out`` (every attribute read in one ``attrgetter``, only the typed
fields converted): the same objects as each field's own ``FieldSpec.value``, whatever fields are chosen."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from cabinet.apis.data.methods.calls import CALL_FIELD_SPECS as CALL_FIELDS
from cabinet.apis.data.registry import FieldSpec, rows_out
from cabinet.core.query import FieldType as T

Inner = namedtuple("Inner", "at day tags n")
Row = namedtuple("Row", "call is_expired label")
SPECS = [
    FieldSpec("at", T.DATETIME, "", path="call.at"),
    FieldSpec("day", T.DATE, "", path="call.day"),
    FieldSpec("tags", T.STRING_ARRAY, "", path="call.tags"),
    FieldSpec("n", T.INTEGER, "", path="call.n"),
    FieldSpec("is_expired", T.BOOLEAN, "", path="is_expired"),
    FieldSpec("label", T.STRING, ""),
    FieldSpec("shouted", T.STRING, "", read=lambda row: row.label.upper()),
]
rows = st.lists(
    st.builds(
        Row,
        call=st.builds(
            Inner,
            at=st.none() | st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)),
            day=st.none() | st.dates() | st.datetimes(),
            tags=st.none() | st.lists(st.text(max_size=3), max_size=3) | st.just(()),
            n=st.integers(),
        ),
        is_expired=st.booleans(),
        label=st.text(max_size=5),
    ),
    max_size=5,
)


@given(rows=rows, chosen=st.lists(st.sampled_from(SPECS), unique=True), tz=st.integers(-12, 14))
def test_rows_out_equals_each_field_s_value(rows: list[Row], chosen: list[FieldSpec], tz: int) -> None:
    assert rows_out(chosen, rows, tz) == [{spec.name: spec.value(row, tz) for spec in chosen} for row in rows]


def test_get_calls_reads_its_fields_by_path() -> None:
    """Every get.calls field is read by attribute (the page is read together), none by a function."""
    assert CALL_FIELDS and all(spec.read is None for spec in CALL_FIELDS)
    assert {spec.attribute for spec in CALL_FIELDS} >= {"call.id", "is_expired"}
