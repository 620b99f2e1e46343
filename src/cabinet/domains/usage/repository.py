"""Usage statistics, computed from the audit records of successful processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, func, select, tuple_

from cabinet.core.db.uow import current_session
from cabinet.core.metering import CalculationStatus
from cabinet.core.query import FieldType, Query, QueryField, run_query
from cabinet.domains.usage.schemas import UsageQuery, UsageRow
from cabinet.models import AuditAction

CHARGED = (CalculationStatus.FINISHED_IN_TIME.value, CalculationStatus.FINISHED_OUT_OF_TIME.value)


def _where(query: UsageQuery) -> list[ColumnElement[bool]]:
    conditions = [
        AuditAction.billing_date >= query.date_from,
        AuditAction.billing_date <= query.date_to,
        AuditAction.status.in_(CHARGED),
    ]
    if query.user_id is not None:
        conditions.append(AuditAction.user_id == query.user_id)
    if query.company_id is not None:
        conditions.append(AuditAction.company_id == query.company_id)
    if query.services is not None:
        conditions.append(AuditAction.service.in_(query.services))
    if query.process_type is not None:
        conditions.append(AuditAction.process_type == query.process_type)
    return conditions


def _grouped(query: UsageQuery) -> Select[Any]:
    """Usage per (username, billing day, service, process type); unique points: identical inputs on one day
    count once (a process without input is its own key)."""
    key = func.coalesce(AuditAction.input_digest, cast(AuditAction.process_code, String))
    per_input = (
        select(
            AuditAction.username.label("username"),
            AuditAction.billing_date.label("day"),
            AuditAction.service.label("service"),
            AuditAction.process_type.label("process_type"),
            func.max(AuditAction.request_points).label("unique_points"),
            func.sum(AuditAction.request_points).label("points"),
            func.sum(AuditAction.result_elements).label("elements"),
            func.count().label("processes"),
        )
        .where(*_where(query))
        .group_by(AuditAction.username, AuditAction.billing_date, AuditAction.service, AuditAction.process_type, key)
        .subquery()
    )
    return select(
        per_input.c.username,
        per_input.c.day,
        per_input.c.service,
        per_input.c.process_type,
        func.sum(per_input.c.points).label("points"),
        func.sum(per_input.c.unique_points).label("unique_points"),
        func.sum(per_input.c.elements).label("elements"),
        func.sum(per_input.c.processes).label("processes"),
    ).group_by(per_input.c.username, per_input.c.day, per_input.c.service, per_input.c.process_type)


def _row(r: Any) -> UsageRow:
    return UsageRow(r[0], r[1], r[2], r[3], int(r[4] or 0), int(r[5] or 0), int(r[6] or 0), int(r[7] or 0))


USAGE_QUERYABLE = ("login", "date", "service", "process_type", "points", "unique_points", "elements", "processes")


class UsageRepository:
    async def daily(self, query: UsageQuery) -> list[UsageRow]:
        grouped = _grouped(query)
        c = grouped.selected_columns
        rows = (await current_session().execute(grouped.order_by(c.username, c.day, c.service, c.process_type))).all()
        return [_row(r) for r in rows]

    async def query_daily(self, usage: UsageQuery, query: Query) -> tuple[list[UsageRow], int]:
        """The daily rows as a table a Data API query filters, sorts and pages (in SQL)."""
        table = _grouped(usage).subquery()
        c = table.c
        catalog = {
            "login": QueryField(c.username, FieldType.STRING),
            "date": QueryField(c.day, FieldType.DATE),
            "service": QueryField(c.service, FieldType.ENUM),
            "process_type": QueryField(c.process_type, FieldType.ENUM),
            "points": QueryField(c.points, FieldType.INTEGER),
            "unique_points": QueryField(c.unique_points, FieldType.INTEGER),
            "elements": QueryField(c.elements, FieldType.INTEGER),
            "processes": QueryField(c.processes, FieldType.INTEGER),
        }
        assert tuple(catalog) == USAGE_QUERYABLE
        rows, total = await run_query(
            select(table), catalog, query, [c.username, c.day, c.service, c.process_type], scalars=False
        )
        return [_row(r) for r in rows], total

    async def stream_actions(self, query: UsageQuery, *, batch: int = 2000) -> AsyncIterator[Sequence[Any]]:
        """Every audit action of the period, day by day and in id order within a day, in pages of ``batch``
        rows (constant memory). The pages are keyset pages on (billing_date, id), which the
        ``(user_id|company_id, billing_date, id)`` indexes serve in order: each page costs its own rows, never a
        scan and sort of the whole period."""
        conditions = [
            AuditAction.billing_date >= query.date_from,
            AuditAction.billing_date <= query.date_to,
        ]
        if query.user_id is not None:
            conditions.append(AuditAction.user_id == query.user_id)
        if query.company_id is not None:
            conditions.append(AuditAction.company_id == query.company_id)
        if query.services is not None:
            conditions.append(AuditAction.service.in_(query.services))
        if query.process_type is not None:
            conditions.append(AuditAction.process_type == query.process_type)
        session = current_session()
        columns = (
            AuditAction.billing_date,
            AuditAction.id,
            AuditAction.started_at,
            AuditAction.username,
            AuditAction.service,
            AuditAction.process_type,
            AuditAction.operation,
            AuditAction.status,
            AuditAction.request_points,
            AuditAction.result_elements,
            AuditAction.duration_seconds,
            AuditAction.process_code,
        )
        stmt = select(*columns).where(*conditions).order_by(AuditAction.billing_date, AuditAction.id).limit(batch)
        after: list[ColumnElement[bool]] = []
        while True:
            rows = (await session.execute(stmt.where(*after))).all()
            if not rows:
                return
            yield rows
            if len(rows) < batch:
                return
            last = rows[-1]
            after = [tuple_(AuditAction.billing_date, AuditAction.id) > (last[0], last[1])]
