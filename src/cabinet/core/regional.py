"""Regional settings of companies and people: an IANA time zone, a language (ru|en), an ISO 4217 currency.

The seeds' integer ``timezone`` (hours from UTC, -12..12) stays on the APIs; a person's IANA zone and that number
are kept in step (``offset_hours`` of the zone; ``zone_of_offset`` names a fixed-offset zone for a number).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.numbers import is_currency

LOCALES = ("ru", "en")
ZONE_MAX = 64
OFFSET_MIN, OFFSET_MAX = -12, 12


def zone_issue(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone, or None."""
    if not name or len(name) > ZONE_MAX or name.startswith(("/", ".")) or ".." in name or "\\" in name:
        return "must be an IANA time zone such as Europe/Moscow"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "must be an IANA time zone such as Europe/Moscow"
    return None


def locale_issue(code: str) -> str | None:
    return None if code in LOCALES else f"must be one of {', '.join(LOCALES)}"


def currency_issue(code: str) -> str | None:
    if len(code) == 3 and code.isascii() and code.isupper() and is_currency(code):
        return None
    return "must be an ISO 4217 currency code such as RUB"


def offset_hours(zone: str, moment: datetime | None = None) -> int:
    """The whole hours ``zone`` is ahead of UTC at ``moment`` (now), rounded, within the seeds' -12..12."""
    offset = (moment or datetime.now(UTC)).astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    seconds = offset.total_seconds()
    hours = int((abs(seconds) + 1800) // 3600) * (1 if seconds >= 0 else -1)
    return max(OFFSET_MIN, min(OFFSET_MAX, hours))


def zone_of_offset(hours: int) -> str:
    """The IANA fixed-offset zone of ``hours`` from UTC (``Etc/GMT-3`` is UTC+3: POSIX signs are inverted)."""
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{-hours:+d}"


def known_zones() -> list[str]:
    """The IANA zones people choose from (areas/cities; no legacy aliases), sorted."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/")))
