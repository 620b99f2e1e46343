"""Integration events (the webhooks' outbox): a domain service publishes an event inside the unit of work that
makes the change it reports, and the sink writes it in that same transaction, so a rolled-back change sends
nothing and a committed one is never lost.

Each service is given its ``Events`` when it is built (``domains/registry.py`` joins them to the webhooks
domain's outbox); a service built without one publishes nothing. The data may be given as a coroutine function:
the sink calls it only when an endpoint subscribes, so a change nobody listens to renders nothing.

    await self.events.publish("user.updated", user.company_id, {...})
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

Data = Mapping[str, Any]
Render = Callable[[], Awaitable[Data]]


class EventSink(Protocol):
    async def __call__(self, event_type: str, company_id: int, render: Render) -> None: ...


class Events:
    """A service's outlet for its integration events."""

    __slots__ = ("_sink",)

    def __init__(self, sink: EventSink | None = None) -> None:
        self._sink = sink

    async def publish(self, event_type: str, company_id: int | None, data: Data | Render) -> None:
        """Record an event of ``company_id`` in the running unit of work (no sink, or no company: nothing)."""
        if self._sink is None or company_id is None:
            return
        if callable(data):
            await self._sink(event_type, company_id, data)
            return
        fixed = data

        async def render() -> Data:
            return fixed

        await self._sink(event_type, company_id, render)


NO_EVENTS = Events()
