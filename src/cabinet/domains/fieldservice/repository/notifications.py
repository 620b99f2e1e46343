"""Notifications of contractor users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from cabinet.core.db.uow import current_session
from cabinet.models import Notification


class NotificationRepository:
    def add(self, notification: Notification) -> None:
        current_session().add(notification)

    async def page(self, user_id: int, limit: int, offset: int, unread_only: bool) -> list[Notification]:
        stmt = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            stmt = stmt.where(Notification.read_at.is_(None))
        stmt = stmt.order_by(Notification.read_at.is_not(None), Notification.id.desc()).limit(limit).offset(offset)
        return list(await current_session().scalars(stmt))

    async def unread_count(self, user_id: int) -> int:
        stmt = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        return int(await current_session().scalar(stmt) or 0)

    async def get(self, user_id: int, notification_id: int) -> Notification | None:
        stmt = select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
        return await current_session().scalar(stmt)

    async def read_all(self, user_id: int, now: datetime) -> int:
        result = await current_session().execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
