"""Query parameters the REST APIs parse alike, beyond what FastAPI does: lenient ISO 8601 date-times."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from cabinet.core.errors import FieldIssue, InvalidInput

_SPACE_OFFSET = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_datetime(value: str | None, *, name: str, tz_hours: int) -> datetime | None:
    """Every ISO 8601 form clients send: ``Z``, ``+03:00``, ``+0300``, microseconds, no offset (= the given
    timezone), a bare date (its start), and a ``+`` that arrived as a space because it was not escaped.
    Anything else, or a moment outside what UTC can hold (year 1 with a positive offset), is a 400."""
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
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            f"'{name}' is not an ISO 8601 date-time", issues=[FieldIssue(f"query.{name}", "not an ISO 8601 date-time")]
        ) from exc


def plain_text(value: str | None, *, name: str) -> str | None:
    """A free-text query value; a NUL can be stored and compared nowhere (PostgreSQL refuses it), so it is a 400."""
    if value is not None and "\x00" in value:
        raise InvalidInput(
            f"'{name}' must not contain the NUL character (U+0000)",
            issues=[FieldIssue(f"query.{name}", "must not contain the NUL character (U+0000)")],
        )
    return value
