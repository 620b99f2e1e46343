"""Usage statistics (A13) and the XLSX report (A14) of one user, or of every user in the caller's scope."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from cabinet.apis.admin.deps import Reader, ServicesDep, admin_read
from cabinet.apis.admin.routes import api_router
from cabinet.apis.admin.schemas import (
    DateStatistics,
    MethodStatistics,
    ServiceStatistics,
    StatisticsResult,
    UserStatistics,
)
from cabinet.apis.shared.params import Day
from cabinet.core.metering import ProcessType, Service, set_result_elements
from cabinet.core.principal import Principal
from cabinet.domains.identity.policies import read_scope
from cabinet.domains.usage.schemas import UsageQuery, UsageRow

router = api_router(tags=["Statistics"])

PERIOD_DOC = (
    "If username is empty, every user in the caller's scope is processed (a COMPANYOWNER: its own company's; "
    "SUPPORT, ADMIN, OVERLORD: everyone's). If the period is not specified, the current month: from its first day "
    "to the present day (excluding). A given 'to' is included. Days are billing days in each user's timezone; "
    "'today' is the named user's day, or the caller's when username is empty."
)
UsernameParam = Annotated[str | None, Query(min_length=2, max_length=256, pattern=r"^\w+$")]


async def _query(
    principal: Principal, svc: ServicesDep, username: str | None, date_from: date | None, date_to: date | None
) -> tuple[UsageQuery, str | None]:
    """The usage query and the named user's username (None: every user in scope)."""
    user_id, tz = None, principal.timezone
    if username is not None:
        user = await svc.directory.find_user(principal, username, write=False)
        user_id, tz, username = user.id, user.timezone, user.username
    today = (svc.usage.clock.now() + timedelta(hours=tz)).date()
    start = date_from or today.replace(day=1)
    end = date_to if date_to is not None else today - timedelta(days=1)
    query = UsageQuery(date_from=start, date_to=end, user_id=user_id, company_id=read_scope(principal))
    return query, username


def _statistics(rows: list[UsageRow], username: str | None) -> StatisticsResult:
    users: dict[str, dict[date, dict[str, list[MethodStatistics]]]] = {}
    if username is not None:
        users[username] = {}
    for r in rows:  # ordered by username, day, service, process type
        methods = users.setdefault(r.username, {}).setdefault(r.day, {}).setdefault(r.service, [])
        methods.append(
            MethodStatistics(
                method_group=ProcessType(r.process_type),
                unique_points_per_day=r.unique_points,
                points_per_day=r.points,
            )
        )
    return StatisticsResult(
        users=[
            UserStatistics(
                username=name,
                dates=[
                    DateStatistics(
                        date=day,
                        services=[ServiceStatistics(service=Service(s), methods=m) for s, m in services.items()],
                    )
                    for day, services in days.items()
                ],
            )
            for name, days in users.items()
        ]
    )


@router.get(
    "/statistics",
    **admin_read("generate_statistics", ProcessType.NOTRACE),
    summary="User statistics for the period.",
    description=PERIOD_DOC + " A named user without usage in the period is listed with no dates; with username "
    "empty, only users with usage are listed (by username). A username not in the caller's scope is not found.",
    response_model=StatisticsResult,
)
async def generate_statistics(
    principal: Reader,
    svc: ServicesDep,
    username: UsernameParam = None,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
) -> StatisticsResult:
    query, name = await _query(principal, svc, username, date_from, date_to)
    result = _statistics(await svc.usage.daily(query), name)
    set_result_elements(len(result.users))
    return result


@router.get(
    "/report",
    **admin_read("generate_report", ProcessType.NOTRACE),
    summary="Report by user for the period.",
    description=PERIOD_DOC + " The XLSX file has three sheets: Summary (per user, day, service and method group), "
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
    principal: Reader,
    svc: ServicesDep,
    username: UsernameParam = None,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
) -> FileResponse:
    query, name = await _query(principal, svc, username, date_from, date_to)
    if name is not None:
        title, label = f"Usage of {name}", name
    elif query.company_id is not None:
        title, label = f"Usage of {principal.company_key}", principal.company_key
    else:
        title, label = "Usage of all users", "all"
    path = await svc.usage.build_report(query, title=title)
    filename = f"usage_{label}_{query.date_from:%Y%m%d}_{query.date_to:%Y%m%d}.xlsx"
    return FileResponse(
        path, media_type="application/octet-stream", filename=filename, background=BackgroundTask(_remove, path)
    )


async def _remove(path: Path) -> None:
    await anyio.Path(path).unlink(missing_ok=True)
