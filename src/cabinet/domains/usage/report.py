"""XLSX usage reports, written with XlsxWriter in constant-memory mode (row by row, never all in memory)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from cabinet.domains.usage.schemas import UsageRow

SUMMARY_HEADERS = ["Date", "User", "Service", "Process type", "Points", "Unique points", "Elements", "Processes"]
ACTION_HEADERS = [
    "Time (UTC)",
    "User",
    "Service",
    "Process type",
    "Operation",
    "Status",
    "Points",
    "Elements",
    "Duration, s",
    "Process code",
]


# Excel's day 0 for every moment after 1900-03-01 (the 1900 leap-year bug folded in, as XlsxWriter does);
# audit times are UTC-aware
EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)


class ReportWriter:
    def __init__(self, path: Path, *, title: str, period: tuple[date, date]) -> None:
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "remove_timezone": True})
        self.workbook.set_properties({"title": title, "author": "cabinet", "comments": "Usage report"})
        self.bold = self.workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.date = self.workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.time = self.workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.int = self.workbook.add_format({"num_format": "#,##0"})
        self.seconds = self.workbook.add_format({"num_format": "0.000"})
        self.period = period
        self.title = title
        self.totals: dict[tuple[str, str], list[int]] = {}
        # constant_memory writes rows in order, sheet by sheet: summary, then actions, then totals
        self.summary = self.workbook.add_worksheet("Summary")
        self.summary.write_row(0, 0, SUMMARY_HEADERS, self.bold)
        self.summary.freeze_panes(1, 0)
        self.summary.set_column(0, 0, 12)
        self.summary.set_column(1, 3, 18)
        self.summary.set_column(4, 7, 14)
        self.summary_row = 1
        self.actions: Any = None
        self.actions_row = 1

    def add_summary(self, rows: Sequence[UsageRow]) -> None:
        for r in rows:
            n = self.summary_row
            self.summary.write_datetime(n, 0, datetime(r.day.year, r.day.month, r.day.day), self.date)
            self.summary.write_string(n, 1, r.username)
            self.summary.write_string(n, 2, r.service)
            self.summary.write_string(n, 3, r.process_type)
            for col, value in enumerate((r.points, r.unique_points, r.elements, r.processes), start=4):
                self.summary.write_number(n, col, value, self.int)
            self.summary_row += 1
            total = self.totals.setdefault((r.service, r.process_type), [0, 0, 0, 0])
            for i, value in enumerate((r.points, r.unique_points, r.elements, r.processes)):
                total[i] += value
        if self.summary_row > 1:
            self.summary.autofilter(0, 0, self.summary_row - 1, len(SUMMARY_HEADERS) - 1)

    def add_actions(self, rows: Sequence[Any]) -> None:
        if self.actions is None:
            self.actions = self.workbook.add_worksheet("Actions")
            self.actions.write_row(0, 0, ACTION_HEADERS, self.bold)
            self.actions.freeze_panes(1, 0)
            self.actions.set_column(0, 0, 20)
            self.actions.set_column(1, 5, 18)
            self.actions.set_column(6, 8, 12)
            self.actions.set_column(9, 9, 38)
        # 100,000 rows x 10 cells: bound methods and the Excel serial computed here (what write_datetime does,
        # minus its type dispatch) keep the per-cell cost low
        sheet = self.actions
        string, number = sheet.write_string, sheet.write_number
        time_fmt, int_fmt, seconds_fmt = self.time, self.int, self.seconds
        n = self.actions_row
        for _day, _id, started, username, service, ptype, operation, status, points, elements, duration, code in rows:
            number(n, 0, (started - EXCEL_EPOCH).total_seconds() / 86400.0, time_fmt)
            string(n, 1, username)
            string(n, 2, service)
            string(n, 3, ptype)
            string(n, 4, operation)
            string(n, 5, status)
            number(n, 6, points, int_fmt)
            number(n, 7, elements, int_fmt)
            number(n, 8, duration, seconds_fmt)
            string(n, 9, str(code))
            n += 1
        self.actions_row = n

    def close(self) -> None:
        if self.actions is None:
            self.add_actions([])
        totals = self.workbook.add_worksheet("Totals")
        totals.write_row(0, 0, ["Period", f"{self.period[0]:%Y-%m-%d} .. {self.period[1]:%Y-%m-%d}"], self.bold)
        totals.write_row(
            2, 0, ["Service", "Process type", "Points", "Unique points", "Elements", "Processes"], self.bold
        )
        totals.set_column(0, 1, 18)
        totals.set_column(2, 5, 14)
        for i, ((service, ptype), values) in enumerate(sorted(self.totals.items()), start=3):
            totals.write_string(i, 0, service)
            totals.write_string(i, 1, ptype)
            for col, value in enumerate(values, start=2):
                totals.write_number(i, col, value, self.int)
        self.workbook.close()
