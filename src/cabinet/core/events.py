"""Integration events (the webhooks' outbox): a domain service publishes an event inside the unit of work that
makes the change it reports, and the registered sink writes it in that same transaction, so a rolled-back change
sends nothing and a committed one is never lost.

    await publish("user.updated", user.company_id, {...})

Domains never import each other; the webhooks domain registers the sink when the services are built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

EventSink = Callable[[str, int | None, dict[str, Any]], Awaitable[None]]

_sink: EventSink | None = None


def set_sink(sink: EventSink | None) -> None:
    global _sink
    _sink = sink


async def publish(event_type: str, company_id: int | None, data: dict[str, Any]) -> None:
    """Record an event of ``company_id`` in the running unit of work (no sink registered: nothing to do)."""
    if _sink is not None:
        await _sink(event_type, company_id, data)
