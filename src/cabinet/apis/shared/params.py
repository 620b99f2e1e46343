"""Parameters the APIs parse alike, beyond what FastAPI does: lenient ISO 8601 date-times, and the one accepted
range of date-times and dates (``core.clock``) as validators for query parameters and wire DTOs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated

from pydantic import AfterValidator

from cabinet.core.clock import DAY_RANGE, MOMENT_RANGE, day_in_range, moment_in_range
from cabinet.core.errors import FieldIssue, InvalidInput

INT64_MAX = 2**63 - 1  # the largest id (a BIGINT) any API takes
OUT_OF_RANGE = f"outside the accepted range {MOMENT_RANGE}"
DAY_OUT_OF_RANGE = f"outside the accepted range {DAY_RANGE}"

_SPACE_OFFSET = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_datetime(value: str | None, *, name: str, tz_hours: int) -> datetime | None:
    """Every ISO 8601 form clients send: ``Z``, ``+03:00``, ``+0300``, microseconds, no offset (= the given
    timezone), a bare date (its start), and a ``+`` that arrived as a space because it was not escaped.
    Anything else, or a moment outside the accepted range (``core.clock.MOMENT_RANGE``), is a 400."""
    if value is None:
        return None
    text = value.strip()
    match = _SPACE_OFFSET.match(text)
    if match:
        text = f"{match.group(1)}+{match.group(2)}"
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone(timedelta(hours=tz_hours)))
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            f"'{name}' is not an ISO 8601 date-time", issues=[FieldIssue(f"query.{name}", "not an ISO 8601 date-time")]
        ) from exc
    if not moment_in_range(parsed):
        raise InvalidInput(f"'{name}' is {OUT_OF_RANGE}", issues=[FieldIssue(f"query.{name}", OUT_OF_RANGE)])
    return parsed


def checked_moment(value: datetime) -> datetime:
    """A date-time of a wire DTO or query parameter, in UTC (without an offset: UTC), within the accepted range."""
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if not moment_in_range(moment):
        raise ValueError(OUT_OF_RANGE)
    return moment.astimezone(UTC)


def checked_day(value: date) -> date:
    if not day_in_range(value):
        raise ValueError(DAY_OUT_OF_RANGE)
    return value


Moment = Annotated[datetime, AfterValidator(checked_moment)]
Day = Annotated[date, AfterValidator(checked_day)]


def plain_text(value: str | None, *, name: str) -> str | None:
    """A free-text query value; a NUL can be stored and compared nowhere (PostgreSQL refuses it), so it is a 400."""
    if value is not None and "\x00" in value:
        raise InvalidInput(
            f"'{name}' must not contain the NUL character (U+0000)",
            issues=[FieldIssue(f"query.{name}", "must not contain the NUL character (U+0000)")],
        )
    return value
