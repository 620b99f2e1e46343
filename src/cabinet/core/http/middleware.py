"""The root app's ASGI middlewares, one job each (pure ASGI: no BaseHTTPMiddleware, the body is never buffered).

From the outside in (``install_middlewares`` adds them in this order):

- ``TraceMiddleware``: the request's trace codes (a ``TraceContext`` in a context variable for the whole request)
  and the ``X-Process-Code`` / ``X-Request-Code`` answer headers;
- ``RequestLogMiddleware``: the access log line and the Prometheus request count and latency;
- ``MeteringMiddleware``: hands the finished request to the Meter (audit record, stored payloads, quota slots)
  once, before the answer's last byte leaves, keeping the answer's body when the operation stores payloads;
- ``InFlightMiddleware``: counts the requests being served (password hashing yields to them);
- ``BodyLimitMiddleware``: the request body limit, enforced while the body streams in: a declared
  ``Content-Length`` over the limit fails on the first read, a chunked body as soon as it passes the limit, so a
  huge body is never read whole. The error is raised inside the route, where the API's own error handler renders
  it in that API's format. A route that takes large bodies (file uploads) raises the limit for its own request
  with ``allow_body_bytes`` before it reads the body, and enforces its own cap while streaming.
"""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cabinet.core.errors import RequestTooLarge
from cabinet.core.http.ratelimit import rate_limit_headers
from cabinet.core.http.runtime import HttpRuntime
from cabinet.core.logging import get_logger
from cabinet.core.observability import observe_request
from cabinet.core.tracing import current_trace, end_trace, start_trace

log = get_logger("cabinet.http")

BODY_LIMIT_STATE = "max_body_bytes"


def install_middlewares(
    app: Starlette, *, runtime: HttpRuntime, max_body_bytes: int, max_stored_payload_bytes: int
) -> None:
    """Add the root middlewares to ``app`` (Starlette runs the last added first, hence the reversed order)."""
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(InFlightMiddleware, runtime=runtime)
    app.add_middleware(MeteringMiddleware, runtime=runtime, max_stored_payload_bytes=max_stored_payload_bytes)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(TraceMiddleware)


class TraceMiddleware:
    """Opens the request's trace (its codes, client address, operation), and names the codes in the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        trace, token = start_trace(client_ip=client[0] if client else None)

        async def send_with_codes(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Process-Code"] = str(trace.process_code)
                headers["X-Request-Code"] = str(trace.request_code)
                rate_limit_headers(headers, message["status"], trace.rate_limits)
            await send(message)

        try:
            await self.app(scope, receive, send_with_codes)
        finally:
            end_trace(token)


class RequestLogMiddleware:
    """One access log line and the request metrics (by API, operation and status) per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless an answer starts

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            elapsed = time.perf_counter() - started
            trace = current_trace()
            observe_request(trace.api, trace.operation, status, elapsed)
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client_ip=trace.client_ip,
            )


class MeteringMiddleware:
    """Finishes a metered request exactly once: the Meter writes its audit record, stores its payloads and frees
    its quota slots. Runs before the answer's last byte leaves (once the client has its answer, the audit and the
    data exist), or when the request ends without a complete answer."""

    def __init__(self, app: ASGIApp, *, runtime: HttpRuntime, max_stored_payload_bytes: int) -> None:
        self.app = app
        self.runtime = runtime
        self.max_stored_payload_bytes = max_stored_payload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace = current_trace()
        status = 500
        captured: list[bytes] | None = None  # the answer's body, for operations that store payloads
        captured_size = 0
        settled = False

        async def settle() -> None:
            nonlocal settled
            if settled or trace.metered is None or not self.runtime.ready:
                return
            settled = True
            try:
                output = b"".join(captured) if captured is not None else None
                await self.runtime.meter.finish(trace, status, output)
            except Exception as exc:  # metering must never turn a served answer into a crash
                log.error("metering finish failed", error=repr(exc))

        async def send_metered(message: Message) -> None:
            nonlocal status, captured, captured_size
            if message["type"] == "http.response.start":
                status = message["status"]
                if trace.metered is not None and trace.metered.operation.keeps_payloads:
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
                    await settle()
            await send(message)

        try:
            await self.app(scope, receive, send_metered)
        finally:
            await settle()  # a request that ended without a complete answer


class InFlightMiddleware:
    """Counts the requests this process is serving (``RequestLoad.in_flight``)."""

    def __init__(self, app: ASGIApp, *, runtime: HttpRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.runtime.ready:
            await self.app(scope, receive, send)
            return
        load = self.runtime.load
        load.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            load.in_flight -= 1


class BodyLimitMiddleware:
    """Refuses a request body over CABINET_MAX_BODY_BYTES (or the limit its route allowed) while it streams in."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
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

        await self.app(scope, limited_receive, send)


def allow_body_bytes(scope: Scope, limit: int) -> None:
    """Let this request's body be up to ``limit`` bytes (instead of CABINET_MAX_BODY_BYTES); call it before the
    body is read."""
    scope.setdefault("state", {})[BODY_LIMIT_STATE] = limit


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
