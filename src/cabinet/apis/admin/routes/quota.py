"""Quotas of users (A15-A17) and the quota ceilings of companies (cabinet's own; not in seed 002).

A user's quota is per (service, method group): points per request, per day (in the user's timezone), per date
window (the query's `from`/`to` days, inclusive) and concurrent executions; a pair without a quota has no
limit. ADMIN and OVERLORD set any quota; a COMPANYOWNER sets those of its own company's users, within the
ceiling an ADMIN set for the company (the rules are in the quotas domain); SUPPORT reads.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, TypedDict

from fastapi import Query, Response

from cabinet.apis.admin.deps import Reader, ServicesDep, Writer, admin_read, admin_write
from cabinet.apis.admin.routes import api_router
from cabinet.apis.admin.routes.companies import KeyPath
from cabinet.apis.admin.routes.users import UsernamePath
from cabinet.apis.admin.schemas import (
    CeilingResult,
    MethodQuota,
    QuotaBase,
    QuotaIn,
    QuotaResult,
    QuotaWindow,
    ServiceQuota,
)
from cabinet.apis.shared.params import Day
from cabinet.core.metering import ProcessType, Service, set_result_elements
from cabinet.domains.quotas.schemas import QuotaSpec

router = api_router(tags=["Quota"])


class _NoContent(TypedDict):
    status_code: int
    response_class: type[Response]


NO_CONTENT: _NoContent = {"status_code": 204, "response_class": Response}


def specs_of(body: QuotaIn, window_from: date | None = None, window_to: date | None = None) -> list[QuotaSpec]:
    return [
        QuotaSpec(
            service=service.service,
            process_type=method.method_group,
            points_per_request=method.points_per_request,
            points_per_day=method.points_per_day,
            max_concurrent_execution=method.max_concurrent_execution,
            points_per_date_window=method.points_per_date_window,
            window_from=window_from,
            window_to=window_to,
        )
        for service in body.services
        for method in service.methods
    ]


def base_of(specs: list[QuotaSpec]) -> QuotaBase:
    grouped: dict[str, list[MethodQuota]] = {}
    for s in specs:  # ordered by service, then method group
        grouped.setdefault(s.service.value, []).append(
            MethodQuota(
                method_group=s.process_type,
                points_per_request=s.points_per_request,
                points_per_day=s.points_per_day,
                points_per_date_window=s.points_per_date_window,
                max_concurrent_execution=s.max_concurrent_execution,
            )
        )
    return QuotaBase(services=[ServiceQuota(service=Service(k), methods=v) for k, v in grouped.items()])


# --- a user's quota ----------------------------------------------------------------------------------------
@router.put(
    "/quota/{username}",
    **admin_write("update_quota", ProcessType.TRACE),
    summary="Setting the quotas for the user for a specific time period from date to date.",
    description="Replaces the user's whole quota: a (service, method group) left out has no limit afterwards. "
    "`from`/`to` (days, inclusive; either may be left open) bound the window in which points_per_date_window "
    "counts. A COMPANYOWNER may set the quotas of its own company's users only, and only within the company's "
    "ceiling (GET /companies/{key}/quota): every pair the ceiling names must be given, no value above it (403).",
    **NO_CONTENT,
)
async def update_quota(
    username: UsernamePath,
    body: QuotaIn,
    principal: Writer,
    svc: ServicesDep,
    window_from: Annotated[Day | None, Query(alias="from", description="First day of the window.")] = None,
    window_to: Annotated[Day | None, Query(alias="to", description="Last day of the window (included).")] = None,
) -> Response:
    user = await svc.directory.find_user(principal, username, write=True)
    await svc.quotas.set_for_user(
        principal, user.id, user.company_id, specs_of(body, window_from, window_to), username=user.username
    )
    return Response(status_code=204)


@router.get(
    "/quota/{username}",
    **admin_read("read_quota", ProcessType.NOTRACE),
    summary="Obtaining the quotas for the user.",
    description="services is empty when the user has no quota (no limit). window: the days in which "
    "points_per_date_window counts, as last set (null: none).",
    response_model=QuotaResult,
)
async def read_quota(username: UsernamePath, principal: Reader, svc: ServicesDep) -> QuotaResult:
    user = await svc.directory.find_user(principal, username, write=False)
    specs = await svc.quotas.list_for_user(user.id)
    set_result_elements(len(specs))
    bounds = next(((s.window_from, s.window_to) for s in specs if s.window_from or s.window_to), None)
    window = None if bounds is None else QuotaWindow(date_from=bounds[0], date_to=bounds[1])
    return QuotaResult(base=base_of(specs), window=window)


@router.delete(
    "/quota/{username}",
    **admin_write("delete_quota", ProcessType.TRACE),
    summary="Quota removal for the user.",
    description="The user has no limit afterwards. A COMPANYOWNER may not remove a quota when its company has a "
    "ceiling (403): that would lift the user above it.",
    **NO_CONTENT,
)
async def delete_quota(username: UsernamePath, principal: Writer, svc: ServicesDep) -> Response:
    user = await svc.directory.find_user(principal, username, write=True)
    await svc.quotas.remove_for_user(principal, user.id, user.company_id, username=user.username)
    return Response(status_code=204)


# --- a company's ceiling -----------------------------------------------------------------------------------
@router.put(
    "/companies/{key}/quota",
    **admin_write("update_company_quota", ProcessType.TRACE),
    summary="Setting the quota ceiling of a company.",
    description="The most a COMPANYOWNER may give each user of the company, per (service, method group); a pair "
    "left out has no ceiling. Replaces the whole ceiling. ADMIN and OVERLORD only. Quotas already given are kept "
    "when a ceiling is lowered.",
    **NO_CONTENT,
)
async def update_company_quota(key: KeyPath, body: QuotaIn, principal: Writer, svc: ServicesDep) -> Response:
    company = await svc.directory.get_company(principal, key)
    await svc.quotas.set_company_ceiling(principal, company.id, specs_of(body), company_key=company.key)
    return Response(status_code=204)


@router.get(
    "/companies/{key}/quota",
    **admin_read("read_company_quota", ProcessType.NOTRACE),
    summary="Obtaining the quota ceiling of a company.",
    description="services is empty when the company has no ceiling (its COMPANYOWNER may give any quota).",
    response_model=CeilingResult,
)
async def read_company_quota(key: KeyPath, principal: Reader, svc: ServicesDep) -> CeilingResult:
    company = await svc.directory.get_company(principal, key)
    specs = await svc.quotas.company_ceiling(company.id)
    set_result_elements(len(specs))
    return CeilingResult(base=base_of(specs))


@router.delete(
    "/companies/{key}/quota",
    **admin_write("delete_company_quota", ProcessType.TRACE),
    summary="Removing the quota ceiling of a company.",
    description="Its COMPANYOWNER may then give any quota. ADMIN and OVERLORD only.",
    **NO_CONTENT,
)
async def delete_company_quota(key: KeyPath, principal: Writer, svc: ServicesDep) -> Response:
    company = await svc.directory.get_company(principal, key)
    await svc.quotas.remove_company_ceiling(principal, company.id, company_key=company.key)
    return Response(status_code=204)
