"""Pieces several pages share: the usage period, the usage chart, file downloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import anyio
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from cabinet.apis.shared.params import checked_day
from cabinet.apis.web.charts import DailyChart, daily_points
from cabinet.apis.web.i18n import N_
from cabinet.apis.web.i18n import gettext as _
from cabinet.core.errors import FieldIssue, InvalidInput
from cabinet.domains.usage.schemas import UsageQuery, UsageRow
from cabinet.domains.usage.service import UsageService

DEFAULT_DAYS = 30
FIELD_NAMES = {"from": N_("From"), "to": N_("To")}


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date


def period_of(today: date, date_from: str | None, date_to: str | None) -> Period:
    """The period a usage page shows: the last 30 days up to today unless the form says otherwise."""
    end = _day(date_to, "to") or today
    start = _day(date_from, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    return Period(start, end)


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return checked_day(date.fromisoformat(value))
    except ValueError as exc:
        raise InvalidInput(
            _("“%(field)s” is not a date", field=_(FIELD_NAMES.get(name, name))),
            issues=[FieldIssue(name, _("a date YYYY-MM-DD"))],
        ) from exc


def usage_chart(rows: list[UsageRow], start: date, end: date, title: str) -> DailyChart:
    return daily_points(((r.day, r.service, r.points) for r in rows), start, end, title)


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """The period at a glance, above its chart: points, requests, the days anything was used, and who."""

    points: int
    requests: int
    days: int
    users: int


def usage_summary(rows: list[UsageRow]) -> UsageSummary:
    return UsageSummary(
        points=sum(r.points for r in rows),
        requests=sum(r.processes for r in rows),
        days=len({r.day for r in rows}),
        users=len({r.username for r in rows}),
    )


async def usage_report_file(usage: UsageService, query: UsageQuery, label: str) -> FileResponse:
    """The XLSX usage report of ``query``, streamed, then deleted."""
    path = await usage.build_report(query, title=f"Usage of {label}")
    filename = f"usage_{label}_{query.date_from:%Y%m%d}_{query.date_to:%Y%m%d}.xlsx"
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=filename,
        background=BackgroundTask(_remove, path),
    )


async def _remove(path: Path) -> None:
    await anyio.Path(path).unlink(missing_ok=True)


def decimal_of(value: str, name: str) -> Decimal:
    """A number typed in a form (a decimal comma is taken as a point), exact; else a 400 naming the field."""
    try:
        number = Decimal(value.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise _not_a_number(name) from exc
    if not number.is_finite():
        raise _not_a_number(name)
    return number


def _not_a_number(name: str) -> InvalidInput:
    return InvalidInput(_("Enter a number"), issues=[FieldIssue(name, _("Enter a number"))])  # beside its field
