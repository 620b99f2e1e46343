"""Jeopardies: the contractor says a call is at risk, the external system answers; and their feed. Each public
method is one unit of work."""

from __future__ import annotations

from cabinet.core.db.uow import read_only, transactional
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.calls import CallWork, check_text
from cabinet.domains.fieldservice.errors import JeopardyRefused, UnjeopardyRefused
from cabinet.domains.fieldservice.policies import require_contractor, require_external, viewer_of
from cabinet.domains.fieldservice.states import CallAction, CallStatus, call_permits
from cabinet.models import CallJeopardy


class JeopardyService(CallWork):
    """Jeopardies: raised by the contractor, answered by the external system, one open at a time."""

    @transactional
    async def raise_jeopardy(self, principal: Principal, call_id: int, comment: str) -> CallJeopardy:
        viewer = require_contractor(principal)
        check_text(comment, "comment")
        call = await self._call(viewer, call_id, for_update=True)
        if not call_permits(CallStatus(call.status), CallAction.RAISE_JEOPARDY) or call.jeopardy_open:
            raise JeopardyRefused()
        now = self.clock.now()
        jeopardy = CallJeopardy(
            call_id=call.id,
            company_id=call.company_id,
            raised_by=principal.user_id,
            comment=comment,
            date=now,
            change_no=0,
        )
        self.jeopardies.add(jeopardy)
        call.jeopardy_open = True
        call.edited_at = now
        await feed.stamp(viewer.company_id, [jeopardy, call])
        await self.events.jeopardy("raised", jeopardy)
        return jeopardy

    @transactional
    async def answer_jeopardy(self, principal: Principal, call_id: int, answer: str) -> CallJeopardy:
        viewer = require_external(principal)
        check_text(answer, "answerComment")
        call = await self._call(viewer, call_id, for_update=True)
        jeopardy = await self.jeopardies.open_for(call.id)
        if jeopardy is None:
            raise UnjeopardyRefused()
        now = self.clock.now()
        jeopardy.answer_comment = answer
        jeopardy.answer_date = now
        call.jeopardy_open = False
        call.edited_at = now
        self._notify(call, "jeopardy_answered", f"Your jeopardy on call {call.number} was answered: {answer}"[:2000])
        await feed.stamp(viewer.company_id, [jeopardy, call])
        await self.events.jeopardy("answered", jeopardy)
        return jeopardy

    @read_only
    async def jeopardies_changed(self, principal: Principal, cursor: int, limit: int) -> list[CallJeopardy]:
        return await self.jeopardies.changed_since(viewer_of(principal), cursor, limit)

    @read_only
    async def search_jeopardies(self, principal: Principal, query: Query) -> tuple[list[CallJeopardy], int]:
        return await self.search.jeopardies(viewer_of(principal), query)
