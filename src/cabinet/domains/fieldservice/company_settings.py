"""The contractor area's per-company settings (the cost estimates' deadline day)."""

from __future__ import annotations

from cabinet.core.db.uow import read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.principal import Principal
from cabinet.domains.fieldservice.calls import CallWork
from cabinet.domains.fieldservice.errors import SettingsInvalid
from cabinet.domains.fieldservice.policies import require_external
from cabinet.domains.fieldservice.schemas import DEFAULT_COST_DEADLINE_DAY
from cabinet.models import ContractorSettings


class ContractorSettingsService(CallWork):
    """A contractor company's settings, set by its external system."""

    @transactional
    async def set_cost_deadline_day(self, principal: Principal, day: int | None) -> int:
        """Sets the day and answers it; None (the seed marks the field optional) changes nothing and answers the
        day in force."""
        viewer = require_external(principal)
        if day is None:
            row = await self.settings.get(viewer.company_id)
            return row.call_cost_deadline_day_of_month if row else DEFAULT_COST_DEADLINE_DAY
        if not 1 <= day <= 28:
            raise SettingsInvalid(issues=[FieldIssue("callCostDeadlineDayOfMonth", "must be 1..28")])
        row = await self.settings.get(viewer.company_id, for_update=True)
        if row is None:
            self.settings.add(
                ContractorSettings(
                    company_id=viewer.company_id, call_cost_deadline_day_of_month=day, edited_at=self.clock.now()
                )
            )
        else:
            row.call_cost_deadline_day_of_month = day
            row.edited_at = self.clock.now()
        return day

    @read_only
    async def cost_deadline_day(self, company_id: int) -> int:
        row = await self.settings.get(company_id)
        return row.call_cost_deadline_day_of_month if row else DEFAULT_COST_DEADLINE_DAY
