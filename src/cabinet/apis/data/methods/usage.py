"""get.usage_statistics: points, unique points, elements and calls per user, day (the user's timezone), service
and process type; a report method (date_from/date_till, at most 3 months), with the Admin API's rights."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cabinet.apis.data.registry import DIRECTORY_READER, FieldSpec, Search, get_method, register
from cabinet.core.principal import Principal
from cabinet.core.query import FieldType as T
from cabinet.core.query import Query
from cabinet.domains.identity.policies import read_scope
from cabinet.domains.registry import Services
from cabinet.domains.usage.repository import USAGE_QUERYABLE
from cabinet.domains.usage.schemas import UsageQuery

FIELDS = (
    FieldSpec("login", T.STRING, "User's login.", read=lambda r: r.username),
    FieldSpec("date", T.DATE, "Billing day (YYYY-MM-DD) in the user's timezone.", read=lambda r: r.day),
    FieldSpec("service", T.ENUM, "ACCOUNT, ADMIN, DATA, CONTRACTOR, ..."),
    FieldSpec("process_type", T.ENUM, "NOTRACE, TRACE, VALIDATE, ..."),
    FieldSpec("points", T.INTEGER, "Points charged."),
    FieldSpec("unique_points", T.INTEGER, "Points of distinct inputs."),
    FieldSpec("elements", T.INTEGER, "Result elements."),
    FieldSpec("processes", T.INTEGER, "Successful calls."),
)


def _search(services: Services) -> Search:
    async def search(principal: Principal, query: Query) -> tuple[Any, int]:
        shift = timedelta(hours=principal.timezone)
        usage = UsageQuery(
            date_from=(query.extra["date_from"] + shift).date(),
            date_to=(query.extra["date_till"] + shift).date(),
            company_id=read_scope(principal),
        )
        return await services.usage.query_daily(usage, query)

    return search


register(
    get_method(
        "get.usage_statistics",
        "Daily usage between date_from and date_till (by day): of every company's users for ADMIN, OVERLORD, "
        "SUPPORT; of your company's for a COMPANYOWNER.",
        rights=DIRECTORY_READER,
        catalog=USAGE_QUERYABLE,
        search=_search,
        fields=FIELDS,
        report=True,
    )
)
