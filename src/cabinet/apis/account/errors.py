"""Account API error rendering: every error body carries a full ``tracedata`` (contracts §2.4)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cabinet.core.errors import CabinetError, ErrorKind, InvalidInput, ResourceNotFound
from cabinet.core.http.errors import cabinet_cause, issues_from_validation, status_of
from cabinet.core.http.runtime import runtime_of
from cabinet.core.logging import get_logger
from cabinet.core.tracing import current_trace

log = get_logger("cabinet.account")

SERVICE = "ACCOUNT"
ANONYMOUS = "anonymous"


def tracedata(request: Request) -> dict[str, Any]:
    trace = current_trace()
    settings = runtime_of(request).settings
    return {
        "process_code": str(trace.process_code),
        "request_code": str(trace.request_code),
        "username": trace.username or ANONYMOUS,
        "company": trace.company or ANONYMOUS,
        "service": SERVICE,
        "operation": trace.operation or _route_operation(request) or "unknown",
        "env": settings.env_name,
        "pod": settings.pod[:256],
        "time": trace.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def _route_operation(request: Request) -> str | None:
    """The matched route's operationId, for errors raised before the app dependency named it (a body that is
    not JSON fails while FastAPI reads it, before any dependency runs). Not for a 405: that route is another
    method's."""
    route = request.scope.get("route")
    if route is None or request.method not in (getattr(route, "methods", None) or ()):
        return None
    return getattr(route, "operation_id", None)


def render(request: Request, error: CabinetError) -> JSONResponse:
    status = status_of(error)
    trace = tracedata(request)
    headers: dict[str, str] = {}
    if error.kind is ErrorKind.NOT_FOUND:
        body: dict[str, Any] = {
            "resource_key": (error.resource or error.message)[:1024],
            "detail": {"tracedata": trace},
        }
    else:
        body = {"tracedata": trace, "message": error.message[:2048]}
        if error.kind is ErrorKind.INVALID:
            body["schema_errors"] = [{"entity": i.entity, "message": i.message} for i in error.issues[:15001]]
    if error.kind is ErrorKind.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CabinetError)
    async def _cabinet(request: Request, exc: CabinetError) -> JSONResponse:
        if exc.kind is ErrorKind.INTERNAL:
            log.error("internal error", error=exc.message)
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return render(request, InvalidInput("Bad Request", issues=issues_from_validation(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cause = cabinet_cause(exc)
        if cause is not None:
            return render(request, cause)
        if exc.status_code == 404:
            return render(request, ResourceNotFound(resource=request.url.path))
        error = CabinetError(str(exc.detail) if exc.detail else "Error")
        body = {"tracedata": tracedata(request), "message": error.message[:2048] or "Error"}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", error=repr(exc))
        return JSONResponse({"tracedata": tracedata(request), "message": "Internal Server Error"}, status_code=500)
