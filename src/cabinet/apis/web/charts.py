"""Server-rendered SVG charts (no JavaScript): daily points per service as grouped bars.

Colours are SVG presentation attributes (the pages' Content-Security-Policy forbids inline styles); each bar has
a <title> (a tooltip, and what a screen reader reads), and the chart a title and a description. A service has one
colour on every chart (``SERVICE_COLOURS``), whichever services a period shows. Each chart is drawn twice: for a
desk and for a phone (narrower, fewer day labels, so its text stays readable at 360 px); the stylesheet shows one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from babel.dates import format_skeleton
from markupsafe import Markup

from cabinet.apis.web import formats
from cabinet.apis.web.i18n import current_locale, gettext, label, ngettext

# the stylesheet's .s0.. swatches use the same colours, in the same order (legend)
PALETTE = ("#0b5cad", "#b3261e", "#1e7b34", "#8a4b00", "#5a2a82", "#00696f", "#6b4a00", "#37474f")
# one colour per service on every chart (the metered four first); an unknown name takes a free one by its name
SERVICE_COLOURS = {
    name: index for index, name in enumerate(("ACCOUNT", "ADMIN", "REGISTRY", "STUDIO", "UNIVERSAL", "ROUTING"))
}
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40


@dataclass(frozen=True, slots=True)
class Layout:
    """One drawing of a chart: its size in SVG units and how many day labels fit under it."""

    name: str
    width: int
    height: int
    day_labels: int


WIDE = Layout("wide", 720, 300, 10)
NARROW = Layout("narrow", 296, 240, 4)  # a 360 px phone's card is ~294 px wide: one unit ~ one CSS px there


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour_index: int
    points: dict[date, int]


@dataclass(frozen=True, slots=True)
class DailyChart:
    svg: Markup  # for a desk
    svg_narrow: Markup  # for a phone
    series: list[Series]
    total: int


def colour_of(service: str) -> int:
    index = SERVICE_COLOURS.get(service)
    return index if index is not None else len(SERVICE_COLOURS) + sum(map(ord, service)) % 2


def daily_points(rows: Iterable[tuple[date, str, int]], start: date, end: date, title: str) -> DailyChart:
    """A bar chart of points per day (``start``..``end``, inclusive) and service; ``rows`` are (day, service,
    points) and may repeat a (day, service) pair (summed)."""
    per_service: dict[str, dict[date, int]] = {}
    for day, service, points in rows:
        if start <= day <= end:
            bucket = per_service.setdefault(service, {})
            bucket[day] = bucket.get(day, 0) + points
    series = [Series(name, colour_of(name), per_service[name]) for name in sorted(per_service, key=colour_of)]
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)] if end >= start else []
    top = max((v for s in series for v in s.points.values()), default=0)
    description = _description(series, days, top)
    total = sum(v for s in series for v in s.points.values())
    return DailyChart(
        _svg(WIDE, series, days, top, title, description),
        _svg(NARROW, series, days, top, title, description),
        series,
        total,
    )


def _svg(layout: Layout, series: list[Series], days: list[date], top: int, title: str, description: str) -> Markup:
    width, height, name = layout.width, layout.height, layout.name
    scale_max = _nice_ceiling(top)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    parts = [
        f'<svg class="chart {name}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title-{name} chart-desc-{name}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title-{name}">{escape(title)}</title>',
        f'<desc id="chart-desc-{name}">{escape(description)}</desc>',
    ]
    for k in range(5):  # horizontal grid lines and their values
        value = scale_max * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_short(value)}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{width - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>')
    if days:
        slot = plot_w / len(days)
        bar = max(1.0, (slot * 0.8) / max(1, len(series)))
        label_every = max(1, -(-len(days) // layout.day_labels))
        for d, day in enumerate(days):
            x0 = LEFT + d * slot + slot * 0.1
            for s_index, s in enumerate(series):
                value = s.points.get(day, 0)
                if value <= 0:
                    continue
                h = plot_h * value / scale_max
                x = x0 + s_index * bar
                parts.append(
                    f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[s.colour_index]}"><title>{escape(label("service", s.name))} {formats.day(day)}: '
                    f"{escape(_points(value))}</title></rect>"
                )
            if d % label_every == 0:
                parts.append(
                    f'<text x="{x0 + slot * 0.4:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle">'
                    f"{escape(format_skeleton('Md', day, locale=current_locale()))}</text>"
                )
    parts.append("</svg>")
    return Markup("".join(parts))


def _description(series: list[Series], days: list[date], top: int) -> str:
    if not series:
        return gettext("No points were spent in this period.")
    totals = ", ".join(f"{label('service', s.name)}: {_points(sum(s.points.values()))}" for s in series)
    return gettext(
        "%(days)s; %(totals)s; the busiest day of one service had %(top)s.",
        days=ngettext("%(num)s day", "%(num)s days", len(days)),
        totals=totals,
        top=_points(top),
    )


def _points(value: int) -> str:
    return ngettext("%(num)s point", "%(num)s points", value, num=formats.number(value))


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10^k not below ``value`` (at least 4, so the grid has whole steps)."""
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        ceiling = int(step * magnitude)
        if ceiling >= value and ceiling % 4 == 0:
            return ceiling
    return int(10 * magnitude)


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"
