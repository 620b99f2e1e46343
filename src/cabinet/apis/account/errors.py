"""Account API error rendering: every error body carries a full ``tracedata`` (as the published client reads it)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from cabinet.core.errors import CabinetError, ErrorKind, InvalidInput, ResourceNotFound
from cabinet.core.http.errors import (
    cabinet_cause,
    handle_backing_service_errors,
    issues_from_validation,
    route_operation,
    status_of,
    unavailable_cause,
)
from cabinet.core.logging import get_logger
from cabinet.core.metering import note_failure
from cabinet.core.tracing import current_trace
from cabinet.runtime import runtime_of

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
        "operation": trace.operation or route_operation(request) or "unknown",
        "env": settings.env_name,
        "pod": settings.pod[:256],
        "time": trace.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def _allowed_methods(request: Request) -> str:
    """Every documented method of the path. Starlette's 405 names only the first route that matched the
    path, and a path such as /info has one route per method."""
    root = request.scope.get("root_path", "")
    path = request.scope["path"]
    path = path[len(root) :] if root and path.startswith(root) else path
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(path):
            methods |= {method.upper() for method in operations if method.upper() in HTTP_METHODS}
    return ", ".join(sorted(methods))


HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}


def render(request: Request, error: CabinetError) -> JSONResponse:
    note_failure(error.message)
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
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return JSONResponse(body, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        unavailable = unavailable_cause(exc)
        if unavailable is not None:
            log.warning("backing service unavailable", error=repr(exc))
            return render(request, unavailable)
        log.exception("unexpected error", error=repr(exc))
        return JSONResponse({"tracedata": tracedata(request), "message": "Internal Server Error"}, status_code=500)

    handle_backing_service_errors(app, _unexpected)
