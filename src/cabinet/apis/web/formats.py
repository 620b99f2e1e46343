"""Numbers, money, times and deadlines as the pages show them: Babel's formats of the request's language
(thousands separators; a decimal comma in Russian), times in the viewer's time zone with the zone's label
("МСК", "UTC+5"), deadlines also relative ("через 3 ч", "просрочено на 2 ч 10 мин")."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_timedelta, get_timezone_location
from babel.numbers import format_currency, format_decimal, get_currency_name, get_currency_symbol

from cabinet.apis.web.i18n import current_locale, gettext

# Zones people call by a name rather than by their offset (else "UTC+5").
ZONE_NAMES = {"Europe/Moscow": {"ru": "МСК", "en": "MSK"}}


def zone_of(name: str | None, fallback_hours: int = 0) -> tzinfo:
    """The IANA zone ``name``, or (unset or unknown) the fixed offset ``fallback_hours``."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fixed_zone(fallback_hours)


def fixed_zone(hours: int) -> tzinfo:
    return timezone(timedelta(hours=hours))


def zone_label(zone: tzinfo, moment: datetime | None = None) -> str:
    """ "МСК" (Moscow) or "UTC+3" / "UTC+5:30" / "UTC" at ``moment`` (now by default)."""
    key = getattr(zone, "key", None)
    if key in ZONE_NAMES:
        names = ZONE_NAMES[key]
        return names.get(current_locale(), names["en"])
    return _offset_label(zone, moment or datetime.now(UTC))


def _offset_label(zone: tzinfo, moment: datetime) -> str:
    offset = _shown_in(moment, zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_choices(zones: Sequence[str]) -> list[tuple[str, str]]:
    """The zones as a person picks one, in the page's language: "Москва (UTC+3) · Europe/Moscow", sorted by the
    place's name (typing a city's first letters in the list finds it). Offsets are today's (summer time moves
    them), so the list is made again each hour."""
    return _zone_choices(current_locale(), tuple(zones), datetime.now(UTC).strftime("%Y%m%d%H"))


# what the currency field suggests first (any ISO 4217 code is taken): the region's and the world's usual ones
SUGGESTED_CURRENCIES = (
    *("RUB", "BYN", "KZT", "UZS", "KGS", "AMD", "AZN", "GEL", "TJS"),
    *("CNY", "TRY", "AED", "USD", "EUR"),
)


def currency_choices() -> list[tuple[str, str]]:
    """The suggested currencies as "RUB · Российский рубль", in the page's language."""
    return _currency_choices(current_locale())


@functools.lru_cache(maxsize=8)
def _currency_choices(locale: str) -> list[tuple[str, str]]:
    return [(code, f"{code} · {get_currency_name(code, locale=locale)}") for code in SUGGESTED_CURRENCIES]


def zone_title(name: str) -> str:
    """One zone as ``zone_choices`` names it: "Москва (UTC+3) · Europe/Moscow"."""
    return _zone_title(current_locale(), name, datetime.now(UTC))


_PLACELESS = re.compile(r"(Etc/)?(GMT|UTC|UCT|Zulu|Universal|Greenwich)([+-]?\d{1,2})?")  # the offset zones


def _zone_title(locale: str, name: str, now: datetime) -> str:
    offset = _offset_label(zone_of(name), now)
    if _PLACELESS.fullmatch(name):  # no place: the offset says it ("Etc/GMT-2" is UTC+2)
        return f"{offset} · {name}"
    try:
        place = get_timezone_location(name, locale=locale, return_city=True)
    except (LookupError, ValueError):  # a zone Babel's data does not know: its own name's last part
        place = name.rsplit("/", 1)[-1].replace("_", " ")
    return f"{place} ({offset}) · {name}"


@functools.lru_cache(maxsize=8)
def _zone_choices(locale: str, zones: tuple[str, ...], hour: str) -> list[tuple[str, str]]:
    now = datetime.now(UTC)
    titled = sorted((_zone_title(locale, name, now), name) for name in zones)  # the title starts with the place
    return [(name, title) for title, name in sorted(titled, key=lambda pair: pair[0].casefold())]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shown_in(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` in ``zone``; a moment at the very end of what a datetime holds (stored before inputs had one
    accepted range) cannot be moved east or west of UTC: it is shown in UTC rather than failing the page."""
    try:
        return _aware(moment).astimezone(zone)
    except OverflowError:
        return _aware(moment).astimezone(UTC)


def when(
    moment: datetime | None, zone: tzinfo, *, label: bool = True, seconds: bool = False, now: datetime | None = None
) -> str:
    """A moment in ``zone``: "4 дек. 2026, 22:38 МСК" / "Dec 4, 2026, 10:38 PM MSK"; given ``now``, a moment of
    the current year (in ``zone``) leaves the year out, as mail and issue trackers do: "4 дек., 22:38 МСК"."""
    if moment is None:
        return ""
    shown = _shown_in(moment, zone)
    zone = shown.tzinfo or UTC
    this_year = now is not None and _shown_in(now, zone).year == shown.year
    if seconds:
        pattern = _seconds_datetime() if this_year else "medium"
    else:
        pattern = _short_datetime(with_year=not this_year)
    text = format_datetime(shown, pattern, tzinfo=zone, locale=current_locale())
    return f"{text} {zone_label(zone, shown)}" if label else text


def _seconds_datetime() -> str:
    return "d MMM, HH:mm:ss" if current_locale() == "ru" else "MMM d, h:mm:ss a"


def _short_datetime(*, with_year: bool = True) -> str:
    if current_locale() == "ru":
        return "d MMM y, HH:mm" if with_year else "d MMM, HH:mm"
    return "MMM d, y, h:mm a" if with_year else "MMM d, h:mm a"


def day(value: date | datetime | None, zone: tzinfo | None = None) -> str:
    """A calendar day: "4 дек. 2026 г." / "Dec 4, 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _shown_in(value, zone or UTC).date()
    return format_date(value, "medium", locale=current_locale())


def span(delta: timedelta) -> str:
    """A length of time, two units at most: "2 ч 10 мин", "3 д 4 ч", "5 мин"."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    parts = [
        format_timedelta(timedelta(**{f"{unit}s": amount}), format="short", locale=current_locale(), threshold=1)
        for amount, unit in units
        if amount
    ]
    if not parts:
        return format_timedelta(timedelta(minutes=0), format="short", locale=current_locale(), granularity="minute")
    return " ".join(parts[:2])


# A short word of an address or a number sign and what follows it stay on one line ("д.\u00a07", "№\u00a042"), as
# Russian typesetting wants: a line never ends on "д." with the house number on the next one.
_KEPT_WITH_NEXT = re.compile(
    r"(?<![\w-])(№|(?:г|ул|д|дом|стр|корп|к|кв|оф|пом|пер|пр|просп|наб|пл|ш|б-р|мкр)\.) +(?=\w)"
)


def kept_together(text: str | None) -> str:
    """``text`` with a no-break space after each address abbreviation and "№" (for the pages, any language)."""
    return _KEPT_WITH_NEXT.sub("\\1\u00a0", text or "")


def overdue(deadline: datetime | None, now: datetime) -> bool:
    """The deadline has passed (what ``relative`` words as "overdue by ...")."""
    return deadline is not None and _aware(deadline) < _aware(now)


def relative(deadline: datetime | None, now: datetime) -> str:
    """ "через 3 ч" / "in 3 h" before the deadline, "просрочено на 2 ч 10 мин" / "overdue by 2 h 10 min" after."""
    if deadline is None:
        return ""
    left = _aware(deadline) - _aware(now)
    if left >= timedelta(0):
        return gettext("in %(span)s", span=span(left))
    return gettext("overdue by %(span)s", span=span(left))


def number(value: int | float | Decimal | None, digits: int | None = None) -> str:
    """A number with the language's separators ("12 345,5"); ``digits`` fixes the decimals."""
    if value is None:
        return ""
    pattern = None if digits is None else ("#,##0." + "0" * digits if digits else "#,##0")
    return format_decimal(value, format=pattern, locale=current_locale())


def money(value: int | float | Decimal | None, currency: str) -> str:
    """An amount in ``currency`` (ISO 4217): "12 345,50 ₽" / "RUB 12,345.50"."""
    if value is None:
        return ""
    return format_currency(value, currency, locale=current_locale())


_DROPPED = re.compile(r"(?is)<(script|style)\b.*?</\1\s*>|<!--.*?-->")
_BREAKS = re.compile(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr|blockquote|pre)\s*>")
_ITEMS = re.compile(r"(?i)<li\b[^>]*>")
_TAGS = re.compile(r"<[^>]*>")


def html_text(value: str | None) -> str:
    """An ERP's HTML description as plain text that keeps its lines and paragraphs (shown in a ``keep-lines``
    block, escaped by the template like any text): breaks and block ends become new lines, list items bullets,
    every tag and its scripts and styles go."""
    if not value:
        return ""
    text = _DROPPED.sub("", value)
    text = _ITEMS.sub("• ", _BREAKS.sub("\n", text))
    text = html.unescape(_TAGS.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def input_number(value: int | float | Decimal | None) -> str:
    """A number as a person types it back into a form: the locale's decimal separator, no grouping, no trailing
    zeros ("1234,5" / "1234.5"); ``views.decimal_of`` reads it back exactly."""
    if value is None:
        return ""
    return format_decimal(value, format="0.##########", locale=current_locale())


def currency_symbol(currency: str) -> str:
    return get_currency_symbol(currency, locale=current_locale())
