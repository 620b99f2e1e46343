"""The contractor domain's integration events (webhooks): each published in the unit of work of the change it
reports, after the change is stamped in the feed, with ``data`` as the contractor API shows the object.

The shape belongs to the contractor API, so the domain holds a ``Presenter`` given at composition (the API's
own mappers) and publishes lazily: nothing is rendered unless an endpoint subscribes to the event.

    call.created                 a call was dispatched (POST /call)                          the call
    call.updated                 its deadlines, a task's status, a visit or the signature     the call
    call.status_changed          accepted, finished, handed back, closed, reported done       the call
    call.field_report_submitted  the field employee's report (the call is Done)               the call
    call.message_created         a message of either side                                     the message
    call.jeopardy_raised         the contractor's jeopardy                                    the jeopardy
    call.jeopardy_answered       the external system's answer                                 the jeopardy
    call.attachment_created      a file on a task's result (callId and taskId added)          the attachment
    call_cost.sent               the estimate sent for approval (InProgress)                  the estimate
    call_cost.processed          every line decided (Processed)                               the estimate
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from cabinet.core.events import NO_EVENTS, Data, Events
from cabinet.domains.fieldservice.repository import CallRepository
from cabinet.domains.fieldservice.schemas import CallView, CostView
from cabinet.models import Call, CallJeopardy, CallMessage, CallTaskAttachment


class Presenter(Protocol):
    """The contractor API's JSON of each object (as its routes answer)."""

    def call(self, view: CallView) -> Mapping[str, Any]: ...

    def message(self, message: CallMessage) -> Mapping[str, Any]: ...

    def jeopardy(self, jeopardy: CallJeopardy) -> Mapping[str, Any]: ...

    def attachment(self, attachment: CallTaskAttachment) -> Mapping[str, Any]: ...

    def cost(self, view: CostView) -> Mapping[str, Any]: ...


class FieldEvents:
    """What the contractor domain's services publish through (inert without a presenter or a sink)."""

    def __init__(self, events: Events = NO_EVENTS, presenter: Presenter | None = None) -> None:
        self.events = events
        self.presenter = presenter

    async def call(self, kind: str, call: Call, now: datetime) -> None:
        presenter = self.presenter
        if presenter is None:
            return

        async def render() -> Data:
            return presenter.call((await CallRepository().views([call], now))[0])

        await self.events.publish(f"call.{kind}", call.company_id, render)

    async def message(self, message: CallMessage) -> None:
        if self.presenter is not None:
            await self._fixed("call.message_created", message.company_id, self.presenter.message, message)

    async def jeopardy(self, kind: str, jeopardy: CallJeopardy) -> None:
        if self.presenter is not None:
            await self._fixed(f"call.jeopardy_{kind}", jeopardy.company_id, self.presenter.jeopardy, jeopardy)

    async def attachment(self, attachment: CallTaskAttachment) -> None:
        presenter = self.presenter
        if presenter is None:
            return

        async def render() -> Data:
            return {**presenter.attachment(attachment), "callId": attachment.call_id, "taskId": attachment.task_id}

        await self.events.publish("call.attachment_created", attachment.company_id, render)

    async def cost(self, kind: str, company_id: int, view: Callable[[], Awaitable[CostView]]) -> None:
        presenter = self.presenter
        if presenter is None:
            return

        async def render() -> Data:
            return presenter.cost(await view())

        await self.events.publish(f"call_cost.{kind}", company_id, render)

    async def _fixed(self, event_type: str, company_id: int, present: Callable[[Any], Data], row: Any) -> None:
        async def render() -> Data:
            return present(row)

        await self.events.publish(event_type, company_id, render)
