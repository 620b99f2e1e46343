"""Per-company settings of the contractor area (external system)."""

from __future__ import annotations

from cabinet.apis.contractor.deps import Caller, ServicesDep, contractor_operation
from cabinet.apis.contractor.keys import KeyedRoute
from cabinet.apis.contractor.routes import api_router
from cabinet.apis.contractor.schemas import PatchSystemSettingsInputDTO
from cabinet.core.metering import ProcessType

router = api_router(prefix="/systemSettings", tags=["SystemSettings"], route_class=KeyedRoute)


@router.patch(
    "",
    **contractor_operation("patchSystemSettings", ProcessType.TRACE),
    summary="Set the day (1..28) of the month after completion until which cost estimates may be sent; per "
    "company. Returns the day in force (the field and the body are optional: without them nothing changes).",
    response_model=int,
)
async def patch_settings(principal: Caller, svc: ServicesDep, body: PatchSystemSettingsInputDTO | None = None) -> int:
    day = body.callCostDeadlineDayOfMonth if body is not None else None
    return await svc.contractor_settings.set_cost_deadline_day(principal, day)
