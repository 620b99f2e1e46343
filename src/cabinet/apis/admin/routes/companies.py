"""Companies (A1-A5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Path, Query, Response

from cabinet.apis.admin.deps import Reader, ServicesDep, Writer, admin_read, admin_write
from cabinet.apis.admin.routes import api_router
from cabinet.apis.admin.schemas import Company, CompanyList, ListStats, SortDirection, TotalCounter
from cabinet.core.errors import FieldIssue, InvalidInput
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.domains.identity.repository import COMPANY_SORT
from cabinet.domains.identity.schemas import UNSET, ListQuery, Regional
from cabinet.models import Company as CompanyRow

router = api_router(tags=["Companies"])

KeyPath = Annotated[str, Path(min_length=3, max_length=256, pattern=r"^\w+$", description="Company key.")]


def company_out(row: CompanyRow, defaults: Regional) -> Company:
    """The company on the wire; a company from before its regional settings shows the deployment's defaults."""
    return Company(
        key=row.key,
        detail=row.detail,
        timezone=row.zone or defaults.zone,
        locale=row.locale or defaults.locale,
        currency=row.currency or defaults.currency,
    )


def regional_of(body: Company) -> Regional:
    """The regional settings the body gives (left out: UNSET; an explicit null is refused by the domain)."""
    sent = body.model_fields_set
    return Regional(
        zone=body.timezone if "timezone" in sent else UNSET,
        locale=body.locale if "locale" in sent else UNSET,
        currency=body.currency if "currency" in sent else UNSET,
    )


def filter_of(value: str | None) -> str | None:
    """The list filter text; a NUL can be stored nowhere (PostgreSQL refuses it in any text), so it is invalid."""
    if value is not None and "\x00" in value:
        raise InvalidInput(
            "filter must not contain the NUL character (U+0000)",
            issues=[FieldIssue("query.filter", "must not contain the NUL character (U+0000)")],
        )
    return value


def sort_field_of(value: str | None, allowed: Mapping[str, object]) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidInput(
            f"sort_field must be one of {', '.join(sorted(allowed))}",
            issues=[FieldIssue("query.sort_field", "unknown sort field")],
        )
    return value


@router.post(
    "/companies",
    **admin_write("create_company", ProcessType.TRACE),
    summary="New company creation.",
    response_model=Company,
)
async def create_company(body: Company, principal: Writer, svc: ServicesDep) -> Company:
    created = await svc.directory.create_company(principal, body.key, body.detail, regional_of(body))
    return company_out(created, svc.directory.defaults)


@router.put(
    "/companies",
    **admin_write("update_company", ProcessType.TRACE),
    summary="Updating the company information.",
    response_model=Company,
)
async def update_company(body: Company, principal: Writer, svc: ServicesDep) -> Company:
    updated = await svc.directory.update_company(principal, body.key, body.detail, regional_of(body))
    return company_out(updated, svc.directory.defaults)


@router.get(
    "/companies",
    **admin_read("read_companies", ProcessType.NOTRACE),
    summary="Getting a list of companies.",
    description=f"filter: text searched in key and detail. sort_field: one of {', '.join(sorted(COMPANY_SORT))}.",
    response_model=CompanyList,
)
async def read_companies(
    principal: Reader,
    svc: ServicesDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000_000)] = 100,
    filter: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    sort_field: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    sort_direction: SortDirection = SortDirection.ASC,
) -> CompanyList:
    query = ListQuery(
        offset=offset,
        limit=limit,
        text=filter_of(filter),
        sort_field=sort_field_of(sort_field, COMPANY_SORT),
        descending=sort_direction is SortDirection.DESC,
    )
    rows, overall, filtered = await svc.directory.list_companies(principal, query)
    set_result_elements(len(rows))
    return CompanyList(
        companies=[company_out(r, svc.directory.defaults) for r in rows],
        statistics=ListStats(overall=TotalCounter(total=overall), filter=TotalCounter(total=filtered)),
    )


@router.get(
    "/companies/{key}",
    **admin_read("read_company", ProcessType.NOTRACE),
    summary="Getting company information by key.",
    response_model=Company,
)
async def read_company(key: KeyPath, principal: Reader, svc: ServicesDep) -> Company:
    return company_out(await svc.directory.get_company(principal, key), svc.directory.defaults)


@router.delete(
    "/companies/{key}",
    **admin_write("delete_company", ProcessType.TRACE),
    summary="Removing a company by key.",
    description="Refused (409) while users still belong to the company. The company's audit trail is kept.",
    status_code=204,
    response_class=Response,
)
async def delete_company(key: KeyPath, principal: Writer, svc: ServicesDep) -> Response:
    await svc.directory.delete_company(principal, key)
    return Response(status_code=204)
