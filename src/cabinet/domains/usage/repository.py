"""Usage statistics, computed from the audit records of successful processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select

from cabinet.core.db.uow import current_session
from cabinet.core.metering import CalculationStatus
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


class UsageRepository:
    async def daily(self, query: UsageQuery) -> list[UsageRow]:
        # unique points: identical inputs on one day count once (a process without input is its own key)
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
            .group_by(
                AuditAction.username, AuditAction.billing_date, AuditAction.service, AuditAction.process_type, key
            )
            .subquery()
        )
        grouped = (
            select(
                per_input.c.username,
                per_input.c.day,
                per_input.c.service,
                per_input.c.process_type,
                func.sum(per_input.c.points),
                func.sum(per_input.c.unique_points),
                func.sum(per_input.c.elements),
                func.sum(per_input.c.processes),
            )
            .group_by(per_input.c.username, per_input.c.day, per_input.c.service, per_input.c.process_type)
            .order_by(per_input.c.username, per_input.c.day, per_input.c.service, per_input.c.process_type)
        )
        rows = (await current_session().execute(grouped)).all()
        return [
            UsageRow(r[0], r[1], r[2], r[3], int(r[4] or 0), int(r[5] or 0), int(r[6] or 0), int(r[7] or 0))
            for r in rows
        ]

    async def stream_actions(self, query: UsageQuery, *, batch: int = 2000) -> AsyncIterator[Any]:
        """Every audit action of the period, in time order, fetched in batches (constant memory)."""
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
        last_id = 0
        session = current_session()
        columns = (
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
        while True:
            rows = (
                await session.execute(
                    select(*columns).where(*conditions, AuditAction.id > last_id).order_by(AuditAction.id).limit(batch)
                )
            ).all()
            if not rows:
                return
            for row in rows:
                yield row
            last_id = rows[-1][0]
