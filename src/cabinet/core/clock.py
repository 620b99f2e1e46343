"""Time, injectable: services ask the clock, tests move it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock for tests: stands still until moved."""

    def __init__(self, at: datetime | None = None) -> None:
        self._now = at or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> None:
        self._now += timedelta(**kwargs)


class OffsetClock(Clock):
    """Real time plus an offset that tests can move forward (tokens expire, windows pass)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


# One accepted range for every date-time and date any API or page takes in (README: Security limits). Its ends are
# far enough from datetime's (years 1 and 9999) that converting to any timezone, or adding a day, a month or a
# quarter to an accepted value, never overflows: nothing accepted can later break a page or a report.
MOMENT_MIN = datetime(1900, 1, 1, tzinfo=UTC)
MOMENT_MAX = datetime(8999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
DAY_MIN, DAY_MAX = MOMENT_MIN.date(), MOMENT_MAX.date()
MOMENT_RANGE = "1900-01-01T00:00:00Z .. 8999-12-31T23:59:59Z"
DAY_RANGE = "1900-01-01 .. 8999-12-31"


def moment_in_range(moment: datetime) -> bool:
    """Whether an aware date-time lies within the accepted range (a naive one counts as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return MOMENT_MIN <= aware <= MOMENT_MAX


def day_in_range(day: date) -> bool:
    return DAY_MIN <= day <= DAY_MAX
