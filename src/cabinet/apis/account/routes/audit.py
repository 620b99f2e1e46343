"""The caller's own actions and the data it sent and received."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from cabinet.apis.account.deps import CurrentPrincipal, ServicesDep, account_operation
from cabinet.apis.account.routes import api_router
from cabinet.apis.account.schemas import OPERATION_PATTERN, Service, Tracedata
from cabinet.apis.account.schemas_metering import (
    INTERNAL_SERVICES,
    AccountAuditResult,
    AuditAction,
    AuditActionStatistics,
    AuditCounters,
    AuditCountersDetail,
    CalculationInfo,
    FlowStage,
    FlowType,
    SortDirection,
    iso_duration,
    wire_service,
)
from cabinet.apis.shared.params import parse_datetime
from cabinet.core.clock import MOMENT_RANGE
from cabinet.core.errors import FieldIssue, InvalidInput
from cabinet.core.metering import CalculationStatus, ProcessType, set_result_elements
from cabinet.domains.audit.schemas import SORT_FIELDS, AuditQuery
from cabinet.domains.audit.schemas import FlowType as DomainFlow
from cabinet.models import AuditAction as ActionRow

router = api_router(tags=["Audit"])

DateTimeParam = Annotated[
    str | None,
    Query(
        json_schema_extra={"format": "date-time"},
        max_length=64,
        description=f"ISO 8601 (without an offset: your timezone), within {MOMENT_RANGE}.",
    ),
]


def action_out(row: ActionRow) -> AuditAction:
    service = wire_service(row.service)
    time = row.started_at
    return AuditAction(
        process_code=row.process_code,
        process_type=ProcessType(row.process_type),
        username=row.username,
        company=row.company_key,
        service=service,
        time=time,
        requests=[
            Tracedata(
                process_code=row.process_code,
                request_code=row.request_code,
                username=row.username,
                company=row.company_key,
                service=service,
                operation=row.operation,
                env=row.env,
                pod=row.pod,
                time=time,
            )
        ],
        statistics=AuditActionStatistics(
            request_points_count=row.request_points,
            result_elements_count=row.result_elements,
            calculation_info=CalculationInfo(
                status=CalculationStatus(row.status),
                message=(row.message or None) and row.message[:10_000],
                result_version=0,
                calculation_time=iso_duration(row.duration_seconds),
            ),
        ),
        input_file_exists=row.input_blob is not None,
        output_file_exists=row.output_blob is not None,
    )


@router.get(
    "/audit",
    **account_operation("read_audit", ProcessType.NOTRACE),
    summary="User actions for the period.",
    description="If the period is not specified, data for the current day is returned: from the beginning of the "
    "day (in the user's timezone) to the current time inclusive. Date-times without an offset are in the user's "
    f"timezone. sort_field: one of {', '.join(sorted(SORT_FIELDS))} (default time).",
    response_model=AccountAuditResult,
)
async def read_audit(
    principal: CurrentPrincipal,
    svc: ServicesDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=2001)] = 100,
    date_from: Annotated[DateTimeParam, Query(alias="from")] = None,
    date_to: Annotated[DateTimeParam, Query(alias="to")] = None,
    service: Service | None = None,
    operation: Annotated[str | None, Query(min_length=3, max_length=256, pattern=OPERATION_PATTERN)] = None,
    process_type: ProcessType | None = None,
    status: CalculationStatus | None = None,
    sort_field: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    sort_direction: SortDirection = SortDirection.ASC,
) -> AccountAuditResult:
    tz = principal.timezone
    now = svc.audit.clock.now()
    start = parse_datetime(date_from, name="from", tz_hours=tz)
    end = parse_datetime(date_to, name="to", tz_hours=tz) or now
    if start is None:
        local_now = now + timedelta(hours=tz)
        start = datetime.combine(local_now.date(), datetime.min.time(), now.tzinfo) - timedelta(hours=tz)
    if sort_field is not None and sort_field not in SORT_FIELDS:
        raise InvalidInput(
            f"sort_field must be one of {', '.join(sorted(SORT_FIELDS))}",
            issues=[FieldIssue("query.sort_field", "unknown sort field")],
        )
    rows, overall, filtered = await svc.audit.search(
        AuditQuery(
            date_from=start,
            date_to=end,
            company_id=principal.company_id,
            user_id=principal.user_id,
            services=tuple(INTERNAL_SERVICES.get(service, [])) if service else None,
            operation=operation,
            process_type=process_type,
            status=status,
            sort_field=sort_field or "time",
            descending=sort_direction is SortDirection.DESC,
            offset=offset,
            limit=limit,
        )
    )
    actions = [action_out(row) for row in rows]
    set_result_elements(len(actions))
    return AccountAuditResult(
        actions=actions,
        counters=AuditCounters(
            overall=AuditCountersDetail(total=min(overall, 100_000_000)),
            filter=AuditCountersDetail(total=min(filtered, 100_000_000)),
        ),
    )


@router.get(
    "/data/{process_code}",
    **account_operation("read_data", ProcessType.NOTRACE),
    summary="Receiving an incoming request by tracedata.process_code.",
    description="The data of one of the caller's own processes, as received (INPUT) or sent (OUTPUT). Only "
    "writes (TRACE processes) keep data, for the retention period.",
    response_class=Response,
    responses={
        200: {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "description": "File with data (octet-stream).",
        }
    },
)
async def read_data(
    process_code: uuid.UUID,
    principal: CurrentPrincipal,
    svc: ServicesDep,
    data_flow_type: FlowType = FlowType.INPUT,
    data_flow_stage: FlowStage = FlowStage.RAW,
) -> Response:
    del data_flow_stage  # RAW is the only stage kept
    data = await svc.audit.read_payload(
        process_code, DomainFlow(data_flow_type.value), company_id=principal.company_id, user_id=principal.user_id
    )
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{process_code}.{data_flow_type.value.lower()}"'},
    )
