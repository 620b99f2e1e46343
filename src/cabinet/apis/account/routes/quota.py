"""The caller's own quotas."""

from __future__ import annotations

from cabinet.apis.account.deps import CurrentPrincipal, ServicesDep, account_operation
from cabinet.apis.account.routes import api_router
from cabinet.apis.account.schemas_metering import (
    ProcessQuota,
    QuotaBase,
    QuotasResult,
    ServiceQuota,
    wire_service,
)
from cabinet.core.metering import ProcessType
from cabinet.domains.quotas.schemas import MAX_CONCURRENT, MAX_POINTS_PER_DAY, MAX_POINTS_PER_REQUEST

router = api_router(tags=["Quota"])


@router.get(
    "/quota",
    **account_operation("read_quota", ProcessType.NOTRACE),
    summary="Obtaining the quotas for the user.",
    description="Without a quota of its own, a user is limited by nothing but the largest values the API can "
    "express, which this answer then shows for the Account service.",
    response_model=QuotasResult,
)
async def read_quota(principal: CurrentPrincipal, svc: ServicesDep) -> QuotasResult:
    specs = await svc.quotas.list_for_user(principal.user_id)
    grouped: dict[str, list[ProcessQuota]] = {}
    for spec in specs:
        grouped.setdefault(wire_service(spec.service.value).value, []).append(
            ProcessQuota(
                process_type=spec.process_type,
                points_per_request=spec.points_per_request,
                points_per_day=spec.points_per_day,
                max_concurrent_execution=spec.max_concurrent_execution,
            )
        )
    if not grouped:
        grouped["ACCOUNT"] = [
            ProcessQuota(
                process_type=ptype,
                points_per_request=MAX_POINTS_PER_REQUEST,
                points_per_day=MAX_POINTS_PER_DAY,
                max_concurrent_execution=MAX_CONCURRENT,
            )
            for ptype in (ProcessType.NOTRACE, ProcessType.TRACE)
        ]
    services = [ServiceQuota(service=s, processes=p[:100]) for s, p in grouped.items()][:8]
    return QuotasResult(base=QuotaBase(services=services))
