"""The caller's usage statistics and the XLSX report."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import anyio
from fastapi import Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from cabinet.apis.account.deps import CurrentPrincipal, ServicesDep, account_operation
from cabinet.apis.account.routes import api_router
from cabinet.apis.account.schemas import Service
from cabinet.apis.account.schemas_metering import (
    INTERNAL_SERVICES,
    DateStatistics,
    ProcessStatistics,
    ServiceStatistics,
    UserStatistics,
    wire_service,
)
from cabinet.apis.shared.params import Day
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.core.principal import Principal
from cabinet.domains.usage.schemas import UsageQuery, UsageRow

router = api_router(tags=["Statistics"])

PERIOD_DOC = (
    "If the period is not specified, the current month is returned: from its first day to the present day "
    "(excluding). A given 'to' is included. Days are counted in the user's timezone."
)


def _period(principal: Principal, today: date, date_from: date | None, date_to: date | None) -> tuple[date, date]:
    start = date_from or today.replace(day=1)
    end = date_to if date_to is not None else today - timedelta(days=1)
    return start, end


def _statistics(username: str, rows: list[UsageRow]) -> UserStatistics:
    days: dict[date, dict[str, dict[str, list[int]]]] = {}
    for r in rows:
        per_service = days.setdefault(r.day, {}).setdefault(wire_service(r.service).value, {})
        acc = per_service.setdefault(r.process_type, [0, 0, 0, 0])
        for i, value in enumerate((r.points, r.unique_points, r.elements, r.processes)):
            acc[i] += value
    cap = 100_000_000
    return UserStatistics(
        username=username,
        dates=[
            DateStatistics(
                date=day,
                services=[
                    ServiceStatistics(
                        service=Service(service),
                        processes=[
                            ProcessStatistics(
                                process_type=ProcessType(ptype),
                                points_per_day=min(v[0], cap),
                                unique_points_per_day=min(v[1], cap),
                                elements_per_day=min(v[2], cap),
                                processes_per_day=min(v[3], cap),
                            )
                            for ptype, v in sorted(processes.items())
                        ][:100],
                    )
                    for service, processes in sorted(services.items())
                ][:8],
            )
            for day, services in sorted(days.items())
        ][:3653],
    )


def _query(
    principal: Principal,
    svc: ServicesDep,
    date_from: date | None,
    date_to: date | None,
    service: Service | None,
    process_type: ProcessType | None,
) -> UsageQuery:
    today = (svc.audit.clock.now() + timedelta(hours=principal.timezone)).date()
    start, end = _period(principal, today, date_from, date_to)
    return UsageQuery(
        date_from=start,
        date_to=end,
        user_id=principal.user_id,
        company_id=principal.company_id,
        services=tuple(s.value for s in INTERNAL_SERVICES.get(service, [])) if service else None,
        process_type=process_type.value if process_type else None,
    )


@router.get(
    "/statistics",
    **account_operation("generate_statistics", ProcessType.NOTRACE),
    summary="User statistics for the period.",
    description=PERIOD_DOC,
    response_model=UserStatistics,
)
async def generate_statistics(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    date_from: Day | None = Query(default=None, alias="from"),
    date_to: Day | None = Query(default=None, alias="to"),
    service: Service | None = None,
    process_type: ProcessType | None = None,
) -> UserStatistics:
    rows = await svc.usage.daily(_query(principal, svc, date_from, date_to, service, process_type))
    result = _statistics(principal.username, rows)
    set_result_elements(len(result.dates))
    return result


@router.get(
    "/report",
    **account_operation("generate_report", ProcessType.NOTRACE),
    summary="Creating report with usage statistics.",
    description=PERIOD_DOC + " The XLSX file has three sheets: Summary (per day, service and process type), "
    "Actions (every process of the period) and Totals.",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "description": "File with data in XLSX format.",
        }
    },
)
async def generate_report(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    date_from: Day | None = Query(default=None, alias="from"),
    date_to: Day | None = Query(default=None, alias="to"),
    service: Service | None = None,
    process_type: ProcessType | None = None,
) -> FileResponse:
    query = _query(principal, svc, date_from, date_to, service, process_type)
    path = await svc.usage.build_report(query, title=f"Usage of {principal.username}")
    name = f"usage_{principal.username}_{query.date_from:%Y%m%d}_{query.date_to:%Y%m%d}.xlsx"
    return FileResponse(
        path, media_type="application/octet-stream", filename=name, background=BackgroundTask(_remove, path)
    )


async def _remove(path: Path) -> None:
    await anyio.Path(path).unlink(missing_ok=True)
