"""Trace codes: every request gets a ``request_code``; a process (one API call) gets a ``process_code``.

They live in a context variable for the duration of the request so that errors, logs and (later) audit
records carry the same codes.
"""

from __future__ import annotations

import os
import random
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from cabinet.core.metering import Metered
    from cabinet.core.principal import Principal

    CommitHook = Callable[[AsyncSession], Awaitable[None]]

# Trace codes identify, they are not secrets (every read of a process's data checks who asks). uuid.uuid4 asks the
# kernel for 16 bytes and lets go of the GIL to do so; under load the event loop then waits for the GIL behind
# the SQLite and argon2 threads on every request. A per-process generator seeded from the kernel (re-seeded in
# a forked child) gives the same 122 random bits without that wait.
_codes = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _codes.seed(os.urandom(32)))


def new_code() -> uuid.UUID:
    """A version-4 UUID for a request or process code."""
    return uuid.UUID(int=_codes.getrandbits(128), version=4)


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """One quota or limit that applied to a request, as the ``RateLimit-Policy`` / ``RateLimit`` headers tell it
    (draft-ietf-httpapi-ratelimit-headers-08): its name, quota and window (seconds), what remains and the seconds
    until it is restored (None: not known), and its unit (None: the default)."""

    name: str
    quota: int
    remaining: int
    window: int | None = None
    reset: int | None = None
    unit: str | None = None


@dataclass(slots=True)
class TraceContext:
    process_code: uuid.UUID = field(default_factory=new_code)
    request_code: uuid.UUID = field(default_factory=new_code)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    api: str | None = None  # "account", "admin", ...
    operation: str | None = None  # operationId of the route that handles the request
    username: str | None = None
    company: str | None = None
    client_ip: str | None = None
    metered: Metered | None = None  # once the route has declared its operation and the Meter admitted it
    principal: Principal | None = None  # once the API has resolved the caller
    # run (once) inside the first writing unit of work of this request, just before it commits
    commit_hooks: list[CommitHook] = field(default_factory=list)
    rate_limits: list[RateLimitState] = field(default_factory=list)  # the quotas that applied (answer headers)
    target: str | None = None  # what a change is about, for its audit record ("user petrov_ivan"): note_target


_current: ContextVar[TraceContext | None] = ContextVar("cabinet_trace", default=None)


def active_trace() -> TraceContext | None:
    """The running request's trace, if a request (or a job that started one) is running."""
    return _current.get()


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
