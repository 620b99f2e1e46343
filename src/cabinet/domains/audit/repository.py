from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update

from cabinet.core.db.uow import current_session
from cabinet.core.query import FieldType, Query, QueryField, run_query
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.models import AuditAction, Company, User

SORT_COLUMNS: dict[str, Any] = {
    "time": AuditAction.started_at,
    "service": AuditAction.service,
    "operation": AuditAction.operation,
    "process_type": AuditAction.process_type,
    "status": AuditAction.status,
    "points": AuditAction.request_points,
    "elements": AuditAction.result_elements,
    "username": AuditAction.username,
    "company_key": AuditAction.company_key,
    "duration": AuditAction.duration_seconds,
}


_T = FieldType
AUDIT_CATALOG = {
    "id": QueryField(AuditAction.id, _T.INTEGER),
    "user_id": QueryField(AuditAction.user_id, _T.INTEGER),
    "login": QueryField(AuditAction.username, _T.STRING),
    "company_id": QueryField(AuditAction.company_id, _T.INTEGER),
    "company_name": QueryField(AuditAction.company_key, _T.STRING),
    "service": QueryField(AuditAction.service, _T.ENUM),
    "process_type": QueryField(AuditAction.process_type, _T.ENUM),
    "operation": QueryField(AuditAction.operation, _T.STRING),
    "status": QueryField(AuditAction.status, _T.ENUM),
    "message": QueryField(AuditAction.message, _T.STRING),
    "start_date": QueryField(AuditAction.started_at, _T.DATETIME),
    "duration": QueryField(AuditAction.duration_seconds, _T.NUMBER),
    "points": QueryField(AuditAction.request_points, _T.INTEGER),
    "elements": QueryField(AuditAction.result_elements, _T.INTEGER),
}


def _scope(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.company_id is not None:
        conditions.append(AuditAction.company_id == query.company_id)
    if query.user_id is not None:
        conditions.append(AuditAction.user_id == query.user_id)
    return conditions


def _filters(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions = [AuditAction.started_at >= query.date_from, AuditAction.started_at <= query.date_to]
    if query.services is not None:
        conditions.append(AuditAction.service.in_([s.value for s in query.services]))
    if query.operation is not None:
        conditions.append(AuditAction.operation == query.operation)
    if query.operation_contains:
        named = AuditAction.operation.icontains(query.operation_contains, autoescape=True)
        if query.operation_matches:
            named = or_(named, AuditAction.operation.in_(query.operation_matches))
        conditions.append(named)
    if query.process_type is not None:
        conditions.append(AuditAction.process_type == query.process_type.value)
    if query.status is not None:
        conditions.append(AuditAction.status == query.status.value)
    if query.username is not None:
        conditions.append(AuditAction.username == query.username)
    if query.company_key is not None:
        conditions.append(AuditAction.company_key == query.company_key)
    return conditions


class AuditRepository:
    def add(self, row: AuditAction) -> None:
        """In the running unit of work (a write's record joins the business transaction)."""
        current_session().add(row)

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Records as one executemany of a one-row INSERT, whatever their number. (A flush of new ORM objects
        sends a multi-row INSERT ... RETURNING whose text changes with the batch size: the driver prepares
        each new size on the server and keeps up to 100 of them per connection.)"""
        if rows:
            await current_session().execute(insert(AuditAction), list(rows))

    async def set_http_status(self, process_code: uuid.UUID, http_status: int) -> None:
        await current_session().execute(
            update(AuditAction).where(AuditAction.process_code == process_code).values(http_status=http_status)
        )

    async def existing_ids(self, user_ids: set[int], company_ids: set[int]) -> tuple[set[int], set[int]]:
        """Which of these users and companies still exist (a batched record may outlive its user)."""
        session = current_session()
        users = set((await session.scalars(select(User.id).where(User.id.in_(user_ids)))).all()) if user_ids else set()
        companies = (
            set((await session.scalars(select(Company.id).where(Company.id.in_(company_ids)))).all())
            if company_ids
            else set()
        )
        return users, companies

    async def search(self, query: AuditQuery) -> tuple[Sequence[AuditAction], int, int]:
        session = current_session()
        scope = _scope(query)
        where = [*scope, *_filters(query)]
        column = SORT_COLUMNS[query.sort_field]
        order = [  # ties in time order (reads are written in batches, so ids are not time order), then id
            column.desc() if query.descending else column.asc(),
            AuditAction.started_at.desc() if query.descending else AuditAction.started_at.asc(),
            AuditAction.id.desc() if query.descending else AuditAction.id.asc(),
        ]
        rows = (
            await session.scalars(
                select(AuditAction).where(*where).order_by(*order).offset(query.offset).limit(query.limit)
            )
        ).all()
        overall = await session.scalar(select(func.count()).select_from(AuditAction).where(*scope)) or 0
        filtered = await session.scalar(select(func.count()).select_from(AuditAction).where(*where)) or 0
        return rows, int(overall), int(filtered)

    async def query(
        self, query: Query, *, company_id: int | None, since: datetime, until: datetime
    ) -> tuple[list[AuditAction], int]:
        """Actions started in [since, until] of one company (or all) matching a Data API query."""
        stmt = select(AuditAction).where(AuditAction.started_at >= since, AuditAction.started_at <= until)
        if company_id is not None:
            stmt = stmt.where(AuditAction.company_id == company_id)
        return await run_query(stmt, AUDIT_CATALOG, query, [AuditAction.started_at, AuditAction.id])

    async def get(self, process_code: uuid.UUID, *, company_id: int | None, user_id: int | None) -> AuditAction | None:
        conditions = [AuditAction.process_code == process_code]
        if company_id is not None:
            conditions.append(AuditAction.company_id == company_id)
        if user_id is not None:
            conditions.append(AuditAction.user_id == user_id)
        return await current_session().scalar(select(AuditAction).where(*conditions))

    async def expired_payloads(self, before: datetime, limit: int) -> Sequence[AuditAction]:
        return (
            await current_session().scalars(
                select(AuditAction)
                .where(
                    AuditAction.started_at < before,
                    (AuditAction.input_blob.is_not(None)) | (AuditAction.output_blob.is_not(None)),
                )
                .order_by(AuditAction.id)
                .limit(limit)
            )
        ).all()

    async def forget_payloads(self, ids: Sequence[int]) -> None:
        await current_session().execute(
            update(AuditAction).where(AuditAction.id.in_(ids)).values(input_blob=None, output_blob=None)
        )

    async def delete_before(self, before: datetime) -> int:
        result = await current_session().execute(delete(AuditAction).where(AuditAction.started_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
