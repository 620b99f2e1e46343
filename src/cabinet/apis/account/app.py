"""The Account API sub-app (mounted at /account): a user's own side."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from cabinet.apis.account.deps import bind_operation
from cabinet.apis.account.errors import install_error_handlers
from cabinet.apis.account.routes import audit, info, quota, system, token, usage
from cabinet.apis.account.schemas import General400, General404, GeneralError
from cabinet.core.clock import DAY_RANGE, MOMENT_RANGE
from cabinet.core.http.subapp import build_rest_app
from cabinet.runtime import Runtime

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": General400, "description": "Bad Request"},
    401: {"model": GeneralError, "description": "Unauthorized"},
    402: {"model": GeneralError, "description": "Payment Required: a points quota is exhausted"},
    403: {"model": GeneralError, "description": "Forbidden"},
    404: {"model": General404, "description": "Not Found"},
    413: {"model": GeneralError, "description": "Request body too large"},
    429: {"model": GeneralError, "description": "Too Many Requests"},
    500: {"model": GeneralError, "description": "Internal Server Error"},
}


def build_app(runtime: Runtime) -> FastAPI:
    return build_rest_app(
        runtime,
        title="cabinet Account API",
        description="A user's own side: tokens, password, account information, quotas, usage, audit, data. Every "
        f"date-time taken in (audit from/to) lies within {MOMENT_RANGE}, every date (periods) within {DAY_RANGE}; "
        "outside: 400.",
        bind_operation=bind_operation,
        error_responses=ERROR_RESPONSES,
        install_error_handlers=install_error_handlers,
        routers=[token.router, info.router, quota.router, usage.router, audit.router, system.router],
    )
