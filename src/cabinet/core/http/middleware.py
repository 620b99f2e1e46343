"""Root ASGI middleware: trace codes, body-size limit, access log.

The body limit is enforced while the body streams in: a declared ``Content-Length`` over the limit fails
on the first read, a chunked body fails as soon as it passes the limit, so a huge body is never read whole.
The error is raised inside the route, where the API's own error handler renders it in that API's format.
A route that takes large bodies (file uploads) raises the limit for its own request with ``allow_body_bytes``
before it reads the body, and enforces its own cap while streaming.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cabinet.core.errors import RequestTooLarge
from cabinet.core.http.runtime import HttpRuntime
from cabinet.core.logging import get_logger
from cabinet.core.observability import observe_request
from cabinet.core.tracing import end_trace, start_trace

log = get_logger("cabinet.http")

BODY_LIMIT_STATE = "max_body_bytes"


def allow_body_bytes(scope: Scope | Any, limit: int) -> None:
    """Let this request's body be up to ``limit`` bytes (instead of CABINET_MAX_BODY_BYTES); call it before the
    body is read."""
    scope.setdefault("state", {})[BODY_LIMIT_STATE] = limit


class TraceAndLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        runtime: HttpRuntime | None = None,
        max_stored_payload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.runtime = runtime
        self.max_stored_payload_bytes = max_stored_payload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        load = self.runtime.load if self.runtime is not None and self.runtime.ready else None
        if load is not None:
            load.in_flight += 1
        client = scope.get("client")
        trace, token = start_trace(client_ip=client[0] if client else None)
        state = scope.setdefault("state", {})
        state["trace"] = trace
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            limit = state.get(BODY_LIMIT_STATE, self.max_body_bytes)
            if declared is not None and declared > limit:
                raise RequestTooLarge(f"Request body is larger than {limit} bytes")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(f"Request body is larger than {limit} bytes")
            return message

        status = 500
        captured: list[bytes] | None = None
        captured_size = 0

        settled = False

        async def settle() -> None:
            """Finish metering (quota slots, audit record, stored payloads) exactly once."""
            nonlocal settled
            if settled or trace.metered is None or self.runtime is None or not self.runtime.ready:
                return
            settled = True
            try:
                output = b"".join(captured) if captured is not None else None
                await self.runtime.meter.finish(trace, status, output)
            except Exception as exc:  # metering must never turn a served answer into a crash
                log.error("metering finish failed", error=repr(exc))

        async def traced_send(message: Message) -> None:
            nonlocal status, captured, captured_size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Process-Code"] = str(trace.process_code)
                headers["X-Request-Code"] = str(trace.request_code)
                metered = trace.metered
                if metered is not None and metered.operation.keeps_payloads:
                    captured = []
            elif message["type"] == "http.response.body":
                if captured is not None:
                    chunk = message.get("body", b"")
                    captured_size += len(chunk)
                    if captured_size > self.max_stored_payload_bytes:
                        captured = None  # too large to keep: the audit says there is no output file
                    else:
                        captured.append(chunk)
                if not message.get("more_body", False):
                    # before the last byte leaves: once the client has its answer, the audit and data exist
                    await settle()
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, limited_receive, traced_send)
        finally:
            if load is not None:
                load.in_flight -= 1
            await settle()  # a request that ended without a complete answer
            elapsed = time.perf_counter() - started
            observe_request(trace.api, trace.operation, status, elapsed)
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client_ip=trace.client_ip,
            )
            end_trace(token)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def header(scope: Scope, name: bytes) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
