"""Usage statistics and XLSX reports (read side of the audit records)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import date
from pathlib import Path

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only
from cabinet.core.query import Query
from cabinet.domains.usage.errors import UsagePeriodInvalid
from cabinet.domains.usage.report import ReportWriter
from cabinet.domains.usage.repository import UsageRepository
from cabinet.domains.usage.schemas import UsageQuery, UsageRow

MAX_DAYS = 3653
BATCH = 5000


class UsageService:
    def __init__(self, db: Database, *, clock: Clock, scratch_dir: Path) -> None:
        self.db = db
        self.clock = clock
        self.scratch_dir = scratch_dir
        self.usage = UsageRepository()

    @staticmethod
    def check_period(date_from: date, date_to: date) -> None:
        if (date_from - date_to).days > 1:  # from == to + 1 is an empty period, not an error (no overflow at 9999)
            raise UsagePeriodInvalid("'from' is after 'to'")
        if (date_to - date_from).days + 1 > MAX_DAYS:
            raise UsagePeriodInvalid(f"the period is longer than {MAX_DAYS} days")

    @read_only
    async def daily(self, query: UsageQuery) -> list[UsageRow]:
        self.check_period(query.date_from, query.date_to)
        return await self.usage.daily(query)

    @read_only
    async def query_daily(self, usage: UsageQuery, query: Query) -> tuple[list[UsageRow], int]:
        """Daily usage in ``usage``'s period and scope as a Data API query filters, sorts and pages it."""
        self.check_period(usage.date_from, usage.date_to)
        return await self.usage.query_daily(usage, query)

    async def build_report(self, query: UsageQuery, *, title: str) -> Path:
        """Write the XLSX report to a temporary file and return its path (the caller streams and deletes it)."""
        self.check_period(query.date_from, query.date_to)
        path = await asyncio.to_thread(self._scratch_file)
        try:
            writer = await asyncio.to_thread(ReportWriter, path, title=title, period=(query.date_from, query.date_to))
            await self._fill(writer, query)
            await asyncio.to_thread(writer.close)
        except BaseException:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            raise
        return path

    def _scratch_file(self) -> Path:
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="report-", suffix=".xlsx", dir=self.scratch_dir)
        os.close(fd)
        return Path(name)

    @read_only
    async def _fill(self, writer: ReportWriter, query: UsageQuery) -> None:
        summary = await self.usage.daily(query)
        await asyncio.to_thread(writer.add_summary, summary)
        async for page in self.usage.stream_actions(query, batch=BATCH):
            await asyncio.to_thread(writer.add_actions, page)
