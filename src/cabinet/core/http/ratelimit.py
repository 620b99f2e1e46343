"""The ``RateLimit-Policy`` and ``RateLimit`` answer headers (draft-ietf-httpapi-ratelimit-headers-08: Structured
Field lists of named items) for the quotas that applied to a request, and ``Retry-After`` on every refusal that
asks the client to come back (402, 429, 503).

    RateLimit-Policy: "day";q=1000;w=86400, "concurrency";q=5;qu="concurrent-requests"
    RateLimit: "day";r=998;t=41200, "concurrency";r=4
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders

from cabinet.core.tracing import RateLimitState

RETRY_STATUSES = frozenset({402, 429, 503})
RETRY_AFTER_DEFAULT = 1  # seconds: a busy or briefly unavailable service


def policy_header(states: Sequence[RateLimitState]) -> str:
    items = []
    for state in states:
        item = f'"{state.name}";q={state.quota}'
        if state.window is not None:
            item += f";w={state.window}"
        if state.unit is not None:
            item += f';qu="{state.unit}"'
        items.append(item)
    return ", ".join(items)


def limit_header(states: Sequence[RateLimitState]) -> str:
    items = []
    for state in states:
        item = f'"{state.name}";r={state.remaining}'
        if state.reset is not None:
            item += f";t={state.reset}"
        items.append(item)
    return ", ".join(items)


def retry_after(states: Sequence[RateLimitState]) -> int:
    """When to retry a refusal: when the first exhausted quota is restored (or soon, when none is known)."""
    resets = [s.reset for s in states if s.remaining == 0 and s.reset is not None]
    return min(resets) if resets else RETRY_AFTER_DEFAULT


def rate_limit_headers(headers: MutableHeaders, status: int, states: Sequence[RateLimitState]) -> None:
    """Add the RateLimit headers (when quotas applied) and a Retry-After to a 402/429/503 that has none."""
    if states:
        headers["RateLimit-Policy"] = policy_header(states)
        headers["RateLimit"] = limit_header(states)
    if status in RETRY_STATUSES and "retry-after" not in headers:
        headers["Retry-After"] = str(retry_after(states))
