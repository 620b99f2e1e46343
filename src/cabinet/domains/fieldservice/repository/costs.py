"""Cost estimates and their lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from cabinet.core.db.uow import current_session
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository.scope import within_call_scope
from cabinet.models import Call, CallCost, Company, ContractorSettings, CostExpense, CostMaterial, ExpenditureItem


class CostRepository:
    def add(self, row: CallCost | CostExpense | CostMaterial) -> None:
        current_session().add(row)

    async def flush(self) -> None:
        """Send what was added (a new estimate gets its id)."""
        await current_session().flush()

    async def delete(self, line: CostExpense | CostMaterial) -> None:
        await current_session().delete(line)

    """Estimates and their lines. The service reaches an estimate through its call (already scoped to the viewer),
    so lines are looked up within that estimate only."""

    async def for_call(self, call_id: int) -> CallCost | None:
        return await current_session().scalar(select(CallCost).where(CallCost.call_id == call_id))

    async def expense(self, cost_id: int, expense_id: int) -> CostExpense | None:
        stmt = select(CostExpense).where(CostExpense.id == expense_id, CostExpense.cost_id == cost_id)
        return await current_session().scalar(stmt)

    async def material(self, cost_id: int, material_id: int) -> CostMaterial | None:
        stmt = select(CostMaterial).where(CostMaterial.id == material_id, CostMaterial.cost_id == cost_id)
        return await current_session().scalar(stmt)

    async def expenses_of(self, cost_id: int) -> list[CostExpense]:
        stmt = select(CostExpense).where(CostExpense.cost_id == cost_id).order_by(CostExpense.id)
        return list(await current_session().scalars(stmt))

    async def materials_of(self, cost_id: int) -> list[CostMaterial]:
        stmt = select(CostMaterial).where(CostMaterial.cost_id == cost_id).order_by(CostMaterial.id)
        return list(await current_session().scalars(stmt))

    async def line_count(self, cost_id: int) -> int:
        session = current_session()
        expenses = await session.scalar(select(func.count()).where(CostExpense.cost_id == cost_id))
        materials = await session.scalar(select(func.count()).where(CostMaterial.cost_id == cost_id))
        return int(expenses or 0) + int(materials or 0)

    async def item_in_catalog(self, call_id: int, item_id: int) -> bool:
        stmt = select(ExpenditureItem.id).where(ExpenditureItem.id == item_id, ExpenditureItem.call_id == call_id)
        return await current_session().scalar(stmt) is not None

    async def deadline_terms(self, company_id: int) -> tuple[int | None, int]:
        """The company's deadline day (None: the default) and its timezone (hours from UTC)."""
        session = current_session()
        day = await session.scalar(
            select(ContractorSettings.call_cost_deadline_day_of_month).where(
                ContractorSettings.company_id == company_id
            )
        )
        tz = await session.scalar(select(Company.timezone).where(Company.id == company_id))
        return day, int(tz or 0)

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[CallCost]:
        stmt = within_call_scope(select(CallCost), CallCost, viewer).where(CallCost.change_no > cursor)
        return list(await current_session().scalars(stmt.order_by(CallCost.change_no).limit(limit)))

    async def lines(
        self, cost_ids: Sequence[int]
    ) -> tuple[dict[int, list[CostExpense]], dict[int, list[CostMaterial]]]:
        """The lines of many estimates: two queries for the whole page."""
        expenses: dict[int, list[CostExpense]] = defaultdict(list)
        materials: dict[int, list[CostMaterial]] = defaultdict(list)
        if cost_ids:
            session = current_session()
            stmt = select(CostExpense).where(CostExpense.cost_id.in_(cost_ids)).order_by(CostExpense.id)
            for expense in await session.scalars(stmt):
                expenses[expense.cost_id].append(expense)
            stmt2 = select(CostMaterial).where(CostMaterial.cost_id.in_(cost_ids)).order_by(CostMaterial.id)
            for material in await session.scalars(stmt2):
                materials[material.cost_id].append(material)
        return expenses, materials

    async def finished_at(self, call_ids: Sequence[int]) -> dict[int, datetime | None]:
        if not call_ids:
            return {}
        stmt = select(Call.id, Call.finished_at).where(Call.id.in_(call_ids))
        return {row.id: row.finished_at for row in await current_session().execute(stmt)}
