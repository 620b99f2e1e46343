"""Messages and jeopardies on calls, and their feeds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cabinet.core.db.uow import current_session
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository.scope import plain_rows, whole_rows, within_call_scope
from cabinet.models import CallJeopardy, CallMessage


class MessageRepository:
    def add(self, message: CallMessage) -> None:
        current_session().add(message)

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[Any]:
        stmt = within_call_scope(whole_rows(CallMessage), CallMessage, viewer).where(CallMessage.change_no > cursor)
        return plain_rows(
            CallMessage, await current_session().execute(stmt.order_by(CallMessage.change_no).limit(limit))
        )


class JeopardyRepository:
    def add(self, jeopardy: CallJeopardy) -> None:
        current_session().add(jeopardy)

    async def open_for(self, call_id: int) -> CallJeopardy | None:
        stmt = select(CallJeopardy).where(CallJeopardy.call_id == call_id, CallJeopardy.answer_date.is_(None))
        return await current_session().scalar(stmt.order_by(CallJeopardy.id.desc()).limit(1))

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[Any]:
        stmt = within_call_scope(whole_rows(CallJeopardy), CallJeopardy, viewer).where(CallJeopardy.change_no > cursor)
        return plain_rows(
            CallJeopardy, await current_session().execute(stmt.order_by(CallJeopardy.change_no).limit(limit))
        )
