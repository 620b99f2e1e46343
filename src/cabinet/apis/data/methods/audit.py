"""get.audit_actions: the audit trail (one action per call of any API), a report method (date_from/date_till,
at most 3 months), with the Admin API's rights and scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cabinet.apis.data.registry import DIRECTORY_READER, FieldSpec, Search, get_method, register
from cabinet.core.principal import Principal
from cabinet.core.query import FieldType as T
from cabinet.core.query import Query
from cabinet.domains.audit.repository import AUDIT_CATALOG
from cabinet.domains.identity.policies import read_scope
from cabinet.domains.registry import Services

END_OF_SECOND = timedelta(microseconds=999_999)
FIELDS = (
    FieldSpec("id", T.INTEGER, "Action id."),
    FieldSpec(
        "process_code",
        T.STRING,
        "Trace code of the call.",
        filterable=False,
        sortable=False,
        read=lambda a: str(a.process_code),
    ),
    FieldSpec("user_id", T.INTEGER, "Caller's user id (null once the user is deleted)."),
    FieldSpec("login", T.STRING, "Caller's login as recorded.", read=lambda a: a.username),
    FieldSpec("company_id", T.INTEGER, "Caller's company id (null once deleted)."),
    FieldSpec("company_name", T.STRING, "Caller's company key as recorded.", read=lambda a: a.company_key),
    FieldSpec("service", T.ENUM, "ACCOUNT, ADMIN, DATA, CONTRACTOR, ..."),
    FieldSpec("process_type", T.ENUM, "NOTRACE (reads), TRACE (writes), VALIDATE, ..."),
    FieldSpec("operation", T.STRING, "Operation (a Data API method name, a REST operationId)."),
    FieldSpec("status", T.ENUM, "FINISHED_IN_TIME, FAILED, CANCELED_BY_QUOTA, ..."),
    FieldSpec("message", T.STRING, "Why it failed."),
    FieldSpec("start_date", T.DATETIME, "Started.", read=lambda a: a.started_at),
    FieldSpec("duration", T.NUMBER, "Seconds.", read=lambda a: a.duration_seconds),
    FieldSpec("points", T.INTEGER, "Points charged.", read=lambda a: a.request_points),
    FieldSpec("elements", T.INTEGER, "Result elements.", read=lambda a: a.result_elements),
)


def _search(services: Services) -> Search:
    async def search(principal: Principal, query: Query) -> tuple[Any, int]:
        until = query.extra["date_till"] + END_OF_SECOND  # date_till names a whole second, inclusive
        return await services.audit.query_actions(
            query, company_id=read_scope(principal), since=query.extra["date_from"], until=until
        )

    return search


register(
    get_method(
        "get.audit_actions",
        "Audit actions started between date_from and date_till: of every company for ADMIN, OVERLORD, SUPPORT; "
        "of your company for a COMPANYOWNER.",
        rights=DIRECTORY_READER,
        catalog=AUDIT_CATALOG,
        search=_search,
        fields=FIELDS,
        report=True,
    )
)
