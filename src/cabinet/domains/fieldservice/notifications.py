"""A contractor's notifications: the list (unread first, newest first, paged), read one, read all.
They are written (notify_owner) by CallService and CostService in the same unit of work as the event they tell
about."""

from __future__ import annotations

import builtins
from datetime import datetime

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.domains.fieldservice.errors import NotificationNotFound
from cabinet.domains.fieldservice.policies import require_contractor
from cabinet.domains.fieldservice.repository import NotificationRepository
from cabinet.domains.fieldservice.repository.search import FieldServiceSearch
from cabinet.domains.fieldservice.schemas import NotificationPage
from cabinet.models import Call, Notification


def notify_owner(call: Call, kind: str, text: str, now: datetime) -> Notification:
    """A notification for the call's owner, written in the caller's unit of work (kind: NOTIFICATION_KINDS)."""
    notification = Notification(
        company_id=call.company_id,
        user_id=call.owner_id,
        call_id=call.id,
        kind=kind,
        text=text[:2000],
        created_at=now,
        read_at=None,
    )
    NotificationRepository().add(notification)
    return notification


class NotificationService:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.notifications = NotificationRepository()
        self.search_repo = FieldServiceSearch()

    @read_only
    async def list(self, principal: Principal, *, limit: int, offset: int, unread_only: bool) -> NotificationPage:
        require_contractor(principal)
        items = await self.notifications.page(principal.user_id, limit, offset, unread_only)
        return NotificationPage(items, await self.notifications.unread_count(principal.user_id))

    @read_only
    async def search(self, principal: Principal, query: Query) -> tuple[builtins.list[Notification], int]:
        """The caller's own notifications matching a Data API query (filtered and paged in SQL)."""
        require_contractor(principal)
        return await self.search_repo.notifications(principal.user_id, query)

    @transactional
    async def read(self, principal: Principal, notification_id: int) -> int:
        """Mark one notification read; returns how many stay unread."""
        require_contractor(principal)
        notification = await self.notifications.get(principal.user_id, notification_id)
        if notification is None:
            raise NotificationNotFound(resource=str(notification_id))
        if notification.read_at is None:
            notification.read_at = self.clock.now()
        return await self.notifications.unread_count(principal.user_id)

    @transactional
    async def read_all(self, principal: Principal) -> int:
        """Mark every unread notification read; returns how many were marked."""
        require_contractor(principal)
        return await self.notifications.read_all(principal.user_id, self.clock.now())
