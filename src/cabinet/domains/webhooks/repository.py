"""Webhooks queries. Never commits; always reached from a unit of work of the service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update

from cabinet.core.db.uow import current_session
from cabinet.domains.webhooks.schemas import PENDING
from cabinet.models import Company, WebhookDelivery, WebhookEndpoint, WebhookEvent


class WebhookRepository:
    async def company_by_key(self, key: str) -> Company | None:
        return await current_session().scalar(select(Company).where(Company.key == key))

    async def company_id_of(self, endpoint_id: int) -> int | None:
        return await current_session().scalar(
            select(WebhookEndpoint.company_id).where(WebhookEndpoint.id == endpoint_id)
        )

    async def endpoint(self, endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        return await current_session().scalar(stmt.with_for_update() if lock else stmt)

    async def endpoint_with_key(self, endpoint_id: int) -> tuple[WebhookEndpoint, str] | None:
        """The endpoint and its company's key, in one statement."""
        stmt = (
            select(WebhookEndpoint, Company.key)
            .join(Company, Company.id == WebhookEndpoint.company_id)
            .where(WebhookEndpoint.id == endpoint_id)
        )
        row = (await current_session().execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def endpoints_of(self, company_id: int) -> Sequence[WebhookEndpoint]:
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.company_id == company_id).order_by(WebhookEndpoint.id)
        return (await current_session().scalars(stmt)).all()

    async def subscribed(self, company_id: int) -> Sequence[WebhookEndpoint]:
        """The company's enabled endpoints, locked (PostgreSQL) so that each numbers its deliveries in commit
        order: a second writer waits here until the first commits."""
        stmt = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.company_id == company_id, WebhookEndpoint.enabled.is_(True))
            .order_by(WebhookEndpoint.id)
            .with_for_update()
        )
        return (await current_session().scalars(stmt)).all()

    async def count_of(self, company_id: int) -> int:
        stmt = select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.company_id == company_id)
        return int(await current_session().scalar(stmt) or 0)

    async def add(self, *rows: object) -> None:
        session = current_session()
        session.add_all(rows)
        await session.flush()

    async def delete(self, row: object) -> None:
        session = current_session()
        await session.delete(row)
        await session.flush()

    async def event(self, event_id: int) -> WebhookEvent | None:
        return await current_session().get(WebhookEvent, event_id)

    async def delivery(self, delivery_id: int) -> tuple[WebhookDelivery, WebhookEvent] | None:
        row = (
            await current_session().execute(
                select(WebhookDelivery, WebhookEvent)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def deliveries_of(self, endpoint_id: int, limit: int) -> Sequence[tuple[WebhookDelivery, WebhookEvent]]:
        rows = await current_session().execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.seq.desc())
            .limit(limit)
        )
        return [(r[0], r[1]) for r in rows.all()]

    async def due_heads(
        self, now: datetime, limit: int, *, lock: bool = True
    ) -> Sequence[tuple[WebhookDelivery, WebhookEvent]]:
        """Each enabled endpoint's first pending delivery (per-endpoint order), when it is due and not claimed;
        rows another process holds are skipped (PostgreSQL ``FOR UPDATE SKIP LOCKED``)."""
        head = (
            select(func.min(WebhookDelivery.seq))
            .where(
                WebhookDelivery.endpoint_id == WebhookEndpoint.id,
                WebhookDelivery.status == PENDING,
            )
            .correlate(WebhookEndpoint)
            .scalar_subquery()
        )
        heads = select(WebhookEndpoint.id, head.label("seq")).where(WebhookEndpoint.enabled.is_(True)).subquery()
        stmt = (
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .join(heads, (heads.c.id == WebhookDelivery.endpoint_id) & (heads.c.seq == WebhookDelivery.seq))
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if lock:
            stmt = stmt.with_for_update(of=WebhookDelivery, skip_locked=True)
        return [(r[0], r[1]) for r in (await current_session().execute(stmt)).all()]

    async def run_after(
        self, endpoint_id: int, seq: int, limit: int, *, lock: bool = True
    ) -> Sequence[tuple[WebhookDelivery, WebhookEvent]]:
        """The endpoint's pending deliveries after ``seq``, in order, locked. Only the process holding the
        endpoint's head delivery asks (no other claims these), so they need no skipping."""
        stmt = (
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == PENDING,
                WebhookDelivery.seq > seq,
            )
            .order_by(WebhookDelivery.seq)
            .limit(limit)
        )
        if lock:
            stmt = stmt.with_for_update(of=WebhookDelivery)
        return [(r[0], r[1]) for r in (await current_session().execute(stmt)).all()]

    async def deliveries_by_id(self, ids: Sequence[int]) -> Sequence[WebhookDelivery]:
        stmt = select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.seq)
        return (await current_session().scalars(stmt)).all()

    async def any_due(self, now: datetime) -> bool:
        stmt = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
            )
            .limit(1)
        )
        return await current_session().scalar(stmt) is not None

    async def oldest_pending(self) -> datetime | None:
        return await current_session().scalar(
            select(func.min(WebhookEvent.created_at))
            .join(WebhookDelivery, WebhookDelivery.event_id == WebhookEvent.id)
            .where(WebhookDelivery.status == PENDING)
        )

    async def release_claims_of(self, endpoint_id: int) -> None:
        await current_session().execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == PENDING)
            .values(locked_until=None)
        )
