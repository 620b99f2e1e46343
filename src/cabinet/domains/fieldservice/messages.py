"""Messages on calls between the contractor and the dispatcher (the external system), and their feed. Each
public method is one unit of work."""

from __future__ import annotations

from datetime import datetime

from cabinet.core.db.uow import read_only, transactional
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.calls import CallWork, check_text
from cabinet.domains.fieldservice.errors import CallStateConflict
from cabinet.domains.fieldservice.policies import Viewer, require_contractor, require_external, viewer_of
from cabinet.domains.fieldservice.states import CallAction, CallStatus, call_permits
from cabinet.models import CallMessage


class MessageService(CallWork):
    """Messages on a call: posted by either side while the call is open."""

    @transactional
    async def post_message(self, principal: Principal, call_id: int, text: str) -> CallMessage:
        viewer = require_contractor(principal)
        return await self._add_message(viewer, call_id, text, self.clock.now(), author=principal)

    @transactional
    async def post_dispatcher_message(
        self, principal: Principal, call_id: int, text: str, date: datetime
    ) -> CallMessage:
        viewer = require_external(principal)
        return await self._add_message(viewer, call_id, text, date, author=None)

    async def _add_message(
        self, viewer: Viewer, call_id: int, text: str, date: datetime, *, author: Principal | None
    ) -> CallMessage:
        check_text(text, "message")
        call = await self._call(viewer, call_id, for_update=True)
        if not call_permits(CallStatus(call.status), CallAction.MESSAGE):
            raise CallStateConflict("the call is Closed")
        message = CallMessage(
            call_id=call.id,
            company_id=call.company_id,
            owner_id=author.user_id if author else None,
            owner_name=author.username if author else None,
            date=date,
            message=text,
            change_no=0,
        )
        self.messages.add(message)
        if author is None:
            self._notify(call, "dispatcher_message", f"New message on call {call.number}: {text}"[:2000])
        await feed.stamp(viewer.company_id, [message])
        await self.events.message(message)
        return message

    @read_only
    async def messages_changed(self, principal: Principal, cursor: int, limit: int) -> list[CallMessage]:
        return await self.messages.changed_since(viewer_of(principal), cursor, limit)

    @read_only
    async def search_messages(self, principal: Principal, query: Query) -> tuple[list[CallMessage], int]:
        return await self.search.messages(viewer_of(principal), query)
