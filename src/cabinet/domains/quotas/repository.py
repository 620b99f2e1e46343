from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from cabinet.core.db.uow import current_session
from cabinet.models import Company, CompanyQuota, Quota, User


class QuotaRepository:
    async def for_user(self, user_id: int) -> Sequence[Quota]:
        result = await current_session().scalars(
            select(Quota).where(Quota.user_id == user_id).order_by(Quota.service, Quota.process_type)
        )
        return result.all()

    async def replace_for_user(self, user_id: int, rows: list[Quota]) -> None:
        session = current_session()
        await session.execute(delete(Quota).where(Quota.user_id == user_id))
        session.add_all(rows)
        await session.flush()

    async def delete_for_user(self, user_id: int) -> int:
        result = await current_session().execute(delete(Quota).where(Quota.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def company_of_user(self, user_id: int) -> int | None:
        return await current_session().scalar(select(User.company_id).where(User.id == user_id))


class CeilingRepository:
    """The quota ceilings of companies (what a COMPANYOWNER may give its users)."""

    async def for_company(self, company_id: int) -> Sequence[CompanyQuota]:
        result = await current_session().scalars(
            select(CompanyQuota)
            .where(CompanyQuota.company_id == company_id)
            .order_by(CompanyQuota.service, CompanyQuota.process_type)
        )
        return result.all()

    async def replace_for_company(self, company_id: int, rows: list[CompanyQuota]) -> None:
        session = current_session()
        await session.execute(delete(CompanyQuota).where(CompanyQuota.company_id == company_id))
        session.add_all(rows)
        await session.flush()

    async def delete_for_company(self, company_id: int) -> int:
        result = await current_session().execute(delete(CompanyQuota).where(CompanyQuota.company_id == company_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def company_exists(self, company_id: int) -> bool:
        return await current_session().scalar(select(Company.id).where(Company.id == company_id)) is not None


class CompanyBudgetRepository:
    async def budget_of(self, company_id: int) -> tuple[int | None, int | None, int] | None:
        row = (
            await current_session().execute(
                select(Company.day_points_limit, Company.minute_points_limit, Company.timezone).where(
                    Company.id == company_id
                )
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])
