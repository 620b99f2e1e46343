"""The Admin API sub-app (mounted at /admin): the operators' side (seed 002)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from cabinet.apis.admin.errors import install_error_handlers
from cabinet.apis.admin.routes import audit, companies, credentials, quota, system, usage, users, webhooks
from cabinet.apis.admin.schemas import GeneralError, NotFoundError
from cabinet.apis.shared.auth import bind_operation
from cabinet.core.clock import DAY_RANGE, MOMENT_RANGE
from cabinet.core.http.subapp import build_rest_app
from cabinet.runtime import Runtime

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": GeneralError, "description": "Bad Request"},
    401: {"model": GeneralError, "description": "Unauthorized"},
    402: {"model": GeneralError, "description": "Payment Required: a points quota is exhausted"},
    403: {"model": GeneralError, "description": "Forbidden"},
    404: {"model": NotFoundError, "description": "Not Found"},
    409: {"model": GeneralError, "description": "Conflict"},
    413: {"model": GeneralError, "description": "Request body too large"},
    429: {"model": GeneralError, "description": "Too Many Requests"},
    500: {"model": GeneralError, "description": "Internal Server Error"},
}


def build_app(runtime: Runtime) -> FastAPI:
    return build_rest_app(
        runtime,
        title="cabinet Admin API",
        description="The operators' side: companies, users, roles, quotas, audit of everyone, statistics, "
        "reports, stored data, API keys and allowed networks. ADMIN and OVERLORD manage everything, SUPPORT "
        "reads everything, a COMPANYOWNER manages its own company only. Every date-time taken in (audit "
        f"from/to, key expiry) lies within {MOMENT_RANGE}, every date (periods, quota windows) within {DAY_RANGE}; "
        "outside: 400.",
        bind_operation=bind_operation("admin"),
        error_responses=ERROR_RESPONSES,
        install_error_handlers=install_error_handlers,
        routers=[
            companies.router,
            users.router,
            credentials.router,
            webhooks.router,
            audit.router,
            usage.router,
            quota.router,
            system.router,
        ],
    )
