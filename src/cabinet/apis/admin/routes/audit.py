"""Audit of everyone in the caller's scope (A11) and the data a process received or sent (A12).

ADMIN, OVERLORD and SUPPORT see every company; a COMPANYOWNER sees its own company only: a company_key or
username of another company finds nothing, and another company's process is not found.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Query
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from cabinet.apis.admin.deps import Reader, ServicesDep, admin_read
from cabinet.apis.admin.routes import api_router
from cabinet.apis.admin.schemas import (
    AuditAction,
    AuditList,
    AuditStatistics,
    ListStats,
    SortDirection,
    TotalCounter,
    Tracedata,
)
from cabinet.apis.shared.params import parse_datetime, plain_text
from cabinet.core.clock import MOMENT_RANGE
from cabinet.core.errors import FieldIssue, InvalidInput
from cabinet.core.metering import ProcessType, Service, set_result_elements
from cabinet.domains.audit.errors import PayloadNotFound
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.domains.audit.schemas import FlowType as DomainFlow
from cabinet.domains.identity.policies import read_scope
from cabinet.models import AuditAction as ActionRow

router = api_router(tags=["Audit"])

MAX_ACTIONS = 10_000  # at most this many actions per answer, whatever `limit` says: page with `offset`
DateTimeParam = Annotated[
    str | None,
    Query(
        json_schema_extra={"format": "date-time"},
        max_length=64,
        description=f"ISO 8601 (without an offset: your timezone), within {MOMENT_RANGE}.",
    ),
]

# wire sort_field -> the audit domain's sort field
SORT_FIELDS = {
    "time": "time",
    "username": "username",
    "company_key": "company_key",
    "service_name": "service",
    "operation_id": "operation",
    "method_group": "process_type",
    "points_count": "points",
    "duration": "duration",
    "status": "status",
}


class FlowType(enum.StrEnum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class FlowConvert(enum.StrEnum):
    ORIGIN = "ORIGIN"
    JSON = "JSON"
    XLSX = "XLSX"


def iso_duration(seconds: float) -> str:
    """Seconds as an ISO 8601 duration, to the millisecond: ``PT0.012S``, ``PT2H12M34.3S``, ``P1DT1S``."""
    millis = max(0, round(seconds * 1000))
    days, millis = divmod(millis, 86_400_000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    time_part = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if millis:
        time_part += f"{secs}.{millis:03d}".rstrip("0") + "S"
    elif secs or not (days or time_part):
        time_part += f"{secs}S"
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")


def action_out(row: ActionRow) -> AuditAction:
    return AuditAction(
        username=row.username,
        company_key=row.company_key,
        tracedata=Tracedata(
            code=row.process_code,
            client=f"{row.company_key}_|_{row.username}",
            server=row.pod,
            service=Service(row.service),
            operation=row.operation,
            time=row.started_at,
        ),
        method_group=ProcessType(row.process_type),
        statistics=AuditStatistics(points_count=row.request_points, duration=iso_duration(row.duration_seconds)),
    )


@router.get(
    "/audit",
    **admin_read("read_audit", ProcessType.NOTRACE),
    summary="User actions for the period.",
    description="If the period is not specified, records for the current day are returned: from the beginning "
    "of the day (in the caller's timezone) to the current time. Date-times without an offset are in the caller's "
    "timezone. company_key and username match the actions as recorded (the trail of a deleted user stays "
    "findable). A COMPANYOWNER sees its own company only; SUPPORT, ADMIN and OVERLORD see every company. "
    f"At most {MAX_ACTIONS} actions are returned per answer whatever `limit` says: page with `offset`. "
    f"sort_field: one of {', '.join(sorted(SORT_FIELDS))} (default time; ties in time order). "
    "statistics.overall counts every action in the caller's scope, statistics.filter those matching the query.",
    response_model=AuditList,
)
async def read_audit(
    principal: Reader,
    svc: ServicesDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000_000)] = 100,
    date_from: Annotated[DateTimeParam, Query(alias="from")] = None,
    date_to: Annotated[DateTimeParam, Query(alias="to")] = None,
    company_key: Annotated[str | None, Query(min_length=3, max_length=256, pattern=r"^\w+$")] = None,
    username: Annotated[str | None, Query(min_length=2, max_length=256, pattern=r"^\w+$")] = None,
    service_name: Service | None = None,
    operation_id: Annotated[str | None, Query(min_length=3, max_length=256)] = None,
    method_group: ProcessType | None = None,
    sort_field: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    sort_direction: SortDirection = SortDirection.ASC,
) -> AuditList:
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
            company_id=read_scope(principal),
            company_key=company_key,
            username=username,
            services=(service_name,) if service_name else None,
            operation=plain_text(operation_id, name="operation_id"),
            process_type=method_group,
            sort_field=SORT_FIELDS[sort_field or "time"],
            descending=sort_direction is SortDirection.DESC,
            offset=offset,
            limit=min(limit, MAX_ACTIONS),
        )
    )
    actions = [action_out(row) for row in rows]
    set_result_elements(len(actions))
    return AuditList(
        actions=actions, statistics=ListStats(overall=TotalCounter(total=overall), filter=TotalCounter(total=filtered))
    )


@router.get(
    "/data/{tracecode}",
    **admin_read("read_data", ProcessType.NOTRACE),
    summary="Receiving an incoming request by tracecode.",
    description="The data of a process as received (INPUT) or sent (OUTPUT), of any user in the caller's scope. "
    "Only writes (TRACE processes) keep data, for the retention period. data_flow_stage: 0 is the raw data, "
    "the only stage kept (1..3 are not found). data_flow_convert (deprecated): ORIGIN, the bytes as stored "
    "(application/octet-stream); JSON, the same data as application/json; XLSX, JSON data flattened into one "
    "sheet of Path/Value rows (application/octet-stream). JSON and XLSX of data that is not JSON are a 400.",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {}},
            },
            "description": "File with data (as stored, JSON, or XLSX).",
        }
    },
)
async def read_data(
    tracecode: uuid.UUID,
    principal: Reader,
    svc: ServicesDep,
    data_flow_type: FlowType = FlowType.INPUT,
    data_flow_stage: Annotated[int, Query(ge=0, le=3)] = 0,
    data_flow_convert: Annotated[FlowConvert, Query(deprecated=True)] = FlowConvert.ORIGIN,
) -> Response:
    if data_flow_stage != 0:  # only the raw data (stage 0) is kept
        raise PayloadNotFound(resource=str(tracecode))
    flow = DomainFlow(data_flow_type.value)
    scope = read_scope(principal)
    name = f"{tracecode}.{data_flow_type.value.lower()}"
    if data_flow_convert is FlowConvert.XLSX:
        path = await svc.audit.payload_workbook(tracecode, flow, company_id=scope, user_id=None)
        set_result_elements(1)
        return FileResponse(
            path,
            media_type="application/octet-stream",
            filename=f"{name}.xlsx",
            background=BackgroundTask(_remove, path),
        )
    if data_flow_convert is FlowConvert.JSON:
        data = await svc.audit.read_payload_json(tracecode, flow, company_id=scope, user_id=None)
        set_result_elements(1)
        return Response(data, media_type="application/json")
    data = await svc.audit.read_payload(tracecode, flow, company_id=scope, user_id=None)
    set_result_elements(1)
    return Response(
        data, media_type="application/octet-stream", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


async def _remove(path: Path) -> None:
    await anyio.Path(path).unlink(missing_ok=True)
