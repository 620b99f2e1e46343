"""Server-rendered SVG charts (no JavaScript): daily points per service as grouped bars.

Colours are SVG presentation attributes (the pages' Content-Security-Policy forbids inline styles); each bar has
a <title> (a tooltip, and what a screen reader reads), and the chart a title and a description.
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
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour_index: int
    points: dict[date, int]


@dataclass(frozen=True, slots=True)
class DailyChart:
    svg: Markup
    series: list[Series]
    total: int


def daily_points(rows: Iterable[tuple[date, str, int]], start: date, end: date, title: str) -> DailyChart:
    """A bar chart of points per day (``start``..``end``, inclusive) and service; ``rows`` are (day, service,
    points) and may repeat a (day, service) pair (summed)."""
    per_service: dict[str, dict[date, int]] = {}
    for day, service, points in rows:
        if start <= day <= end:
            bucket = per_service.setdefault(service, {})
            bucket[day] = bucket.get(day, 0) + points
    series = [Series(name, i % len(PALETTE), per_service[name]) for i, name in enumerate(sorted(per_service))]
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)] if end >= start else []
    top = max((v for s in series for v in s.points.values()), default=0)
    scale_max = _nice_ceiling(top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_description(series, days, top))}</desc>',
    ]
    for k in range(5):  # horizontal grid lines and their values
        value = scale_max * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_short(value)}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>')
    if days:
        slot = plot_w / len(days)
        bar = max(1.0, (slot * 0.8) / max(1, len(series)))
        label_every = max(1, len(days) // 10)
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
                    f'<text x="{x0 + slot * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                    f"{escape(format_skeleton('Md', day, locale=current_locale()))}</text>"
                )
    parts.append("</svg>")
    total = sum(v for s in series for v in s.points.values())
    return DailyChart(Markup("".join(parts)), series, total)


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
