"""Admin API error rendering in seed 002's own shape.

    {"tracedata": {"code", "client": "company_|_username", "server", "service", "operation", "time"}, "message"}
    404: {"resource_id", "detail": {"tracedata"}}
Validation errors add ``schema_errors`` [{entity, message}] so a caller can tell which field is wrong.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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

log = get_logger("cabinet.admin")

SERVICE = "ADMIN"


def tracedata(request: Request) -> dict[str, Any]:
    trace = current_trace()
    settings = runtime_of(request).settings
    return {
        "code": str(trace.process_code),
        "client": f"{trace.company or 'anonymous'}_|_{trace.username or 'anonymous'}",
        "server": settings.pod[:256],
        "service": SERVICE,
        "operation": trace.operation or route_operation(request) or "unknown",
        "time": trace.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def render(request: Request, error: CabinetError) -> JSONResponse:
    note_failure(error.message)
    trace = tracedata(request)
    headers: dict[str, str] = {}
    if error.kind is ErrorKind.NOT_FOUND:
        body: dict[str, Any] = {"resource_id": (error.resource or error.message)[:1024], "detail": {"tracedata": trace}}
    else:
        body = {"tracedata": trace, "message": error.message[:2048]}
        if error.kind is ErrorKind.INVALID and error.issues:
            body["schema_errors"] = [{"entity": i.entity, "message": i.message} for i in error.issues[:15001]]
    if error.kind is ErrorKind.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=status_of(error), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CabinetError)
    async def _cabinet(request: Request, exc: CabinetError) -> JSONResponse:
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
        message = str(exc.detail) if exc.detail else "Error"
        return JSONResponse(
            {"tracedata": tracedata(request), "message": message[:2048]},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        unavailable = unavailable_cause(exc)
        if unavailable is not None:
            log.warning("backing service unavailable", error=repr(exc))
            return render(request, unavailable)
        log.exception("unexpected error", error=repr(exc))
        note_failure("Internal Server Error")
        return JSONResponse({"tracedata": tracedata(request), "message": "Internal Server Error"}, status_code=500)

    handle_backing_service_errors(app, _unexpected)
