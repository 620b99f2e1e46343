"""Per-company rows: the contractor settings and the change sequence behind the feeds (see feed.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cabinet.core.db.uow import current_session
from cabinet.models import ChangeSequence, Company, ContractorSettings


class SettingsRepository:
    """A contractor company's settings (one row per company, absent until first set)."""

    async def get(self, company_id: int, *, for_update: bool = False) -> ContractorSettings | None:
        return await current_session().get(ContractorSettings, company_id, with_for_update=for_update)

    def add(self, row: ContractorSettings) -> None:
        current_session().add(row)

    async def regional(self, company_id: int) -> tuple[str | None, str | None, str | None]:
        """The company's IANA zone, language and currency (None: the deployment's default)."""
        stmt = select(Company.zone, Company.locale, Company.currency).where(Company.id == company_id)
        row = (await current_session().execute(stmt)).one_or_none()
        return (row[0], row[1], row[2]) if row is not None else (None, None, None)


class ChangeSequenceRepository:
    """Each company's change-number and call-number sequence (see feed.py for why no change is skipped)."""

    async def take(self, company_id: int, *, changes: int, call_numbers: int) -> tuple[int, int]:
        """Advance the sequence by ``changes`` and ``call_numbers`` (creating it on first use) after flushing the
        unit of work; the last change number and the last call number taken. The row stays locked until the
        transaction ends."""
        session = current_session()
        await session.flush()
        statement = (
            update(ChangeSequence)
            .where(ChangeSequence.company_id == company_id)
            .values(
                last_change=ChangeSequence.last_change + changes,
                last_call_number=ChangeSequence.last_call_number + call_numbers,
            )
            .returning(ChangeSequence.last_change, ChangeSequence.last_call_number)
        )
        found = (await session.execute(statement)).one_or_none()
        if found is None:
            await self._create(company_id)
            found = (await session.execute(statement)).one()
        return int(found[0]), int(found[1])

    async def flush(self) -> None:
        await current_session().flush()

    async def _create(self, company_id: int) -> None:
        """The company's sequence row, created on first use (a concurrent creator wins harmlessly)."""
        session = current_session()
        dialect = session.get_bind().dialect.name
        stmt: Any
        if dialect == "postgresql":
            stmt = pg_insert(ChangeSequence).on_conflict_do_nothing(index_elements=["company_id"])
        elif dialect == "sqlite":
            stmt = sqlite_insert(ChangeSequence).on_conflict_do_nothing(index_elements=["company_id"])
        else:  # pragma: no cover - only the two supported backends
            stmt = insert(ChangeSequence)
        await session.execute(stmt.values(company_id=company_id, last_change=0, last_call_number=0))
