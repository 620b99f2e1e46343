"""The Data API's local date-time text: ``format_local`` (isoformat for four-digit years) writes exactly what the
plain ``strftime`` of ``DATETIME_FORMAT`` writes, for any aware moment, any whole-hour offset, and at both ends
of datetime's range (where the shift overflows, the moment is shown in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from cabinet.core.query.model import DATETIME_FORMAT, format_local


def reference(moment: datetime, tz_hours: int) -> str:
    try:
        return (moment.astimezone(UTC) + timedelta(hours=tz_hours)).strftime(DATETIME_FORMAT)
    except OverflowError:
        return moment.astimezone(UTC).strftime(DATETIME_FORMAT)


zones = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(timezones=st.just(UTC) | zones, allow_imaginary=False), st.integers(-30, 30))
def test_as_the_format_writes_it(moment: datetime, tz_hours: int) -> None:
    try:
        moment.astimezone(UTC)
    except OverflowError:  # (an offset moment at datetime's very ends has no UTC time to store)
        return
    assert format_local(moment, tz_hours) == reference(moment, tz_hours)


def test_ends_of_the_range_and_none() -> None:
    assert format_local(None, 3) is None
    assert format_local(datetime(2026, 12, 6, 21, 30, 59, 999999, tzinfo=UTC), 3) == "2026-12-07 00:30:59"
    assert format_local(datetime(9999, 12, 31, 23, 0, tzinfo=UTC), 3) == "9999-12-31 23:00:00"  # overflow: UTC
    assert format_local(datetime(1, 1, 1, 1, 0, tzinfo=UTC), -3) == reference(datetime(1, 1, 1, 1, tzinfo=UTC), -3)
    assert format_local(datetime(999, 5, 1, tzinfo=UTC), 0) == datetime(999, 5, 1).strftime(DATETIME_FORMAT)
