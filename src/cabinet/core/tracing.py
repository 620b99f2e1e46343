"""Trace codes: every request gets a ``request_code``; a process (one API call) gets a ``process_code``.

They live in a context variable for the duration of the request so that errors, logs and (later) audit
records carry the same codes.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class TraceContext:
    process_code: uuid.UUID = field(default_factory=uuid.uuid4)
    request_code: uuid.UUID = field(default_factory=uuid.uuid4)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    api: str | None = None  # "account", "admin", ...
    operation: str | None = None  # operationId of the route that handles the request
    username: str | None = None
    company: str | None = None
    client_ip: str | None = None
    metered: Any = None  # cabinet.core.metering.Metered once the route has declared and checked its operation
    # run (once) inside the first writing unit of work of this request, just before it commits
    commit_hooks: list[Any] = field(default_factory=list)


_current: ContextVar[TraceContext | None] = ContextVar("cabinet_trace", default=None)


def current_trace() -> TraceContext:
    """The running request's trace; outside a request a fresh one (CLI, jobs)."""
    trace = _current.get()
    if trace is None:
        trace = TraceContext()
        _current.set(trace)
    return trace


def start_trace(**values: object) -> tuple[TraceContext, object]:
    trace = TraceContext(**values)  # type: ignore[arg-type]
    token = _current.set(trace)
    return trace, token


def end_trace(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
