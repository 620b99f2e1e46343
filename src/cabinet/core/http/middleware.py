"""Root ASGI middleware: trace codes, body-size limit, access log.

The body limit is enforced while the body streams in: a declared ``Content-Length`` over the limit fails
on the first read, a chunked body fails as soon as it passes the limit, so a huge body is never read whole.
The error is raised inside the route, where the API's own error handler renders it in that API's format.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cabinet.core.errors import RequestTooLarge
from cabinet.core.logging import get_logger
from cabinet.core.tracing import end_trace, start_trace

log = get_logger("cabinet.http")


class TraceAndLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        trace, token = start_trace(client_ip=client[0] if client else None)
        scope.setdefault("state", {})["trace"] = trace
        limit = self.max_body_bytes
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise RequestTooLarge(f"Request body is larger than {limit} bytes")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(f"Request body is larger than {limit} bytes")
            return message

        status = 500

        async def traced_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Process-Code"] = str(trace.process_code)
                headers["X-Request-Code"] = str(trace.request_code)
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, limited_receive, traced_send)
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
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


def header(scope: Scope | Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None
