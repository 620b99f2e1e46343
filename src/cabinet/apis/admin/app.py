"""The Admin API sub-app (mounted at /admin): the operators' side (seed 002)."""

from __future__ import annotations

from fastapi import FastAPI

from cabinet.apis.admin.errors import install_error_handlers
from cabinet.apis.admin.routes import (
    BIND_OPERATION,
    ERROR_RESPONSES,
    audit,
    companies,
    credentials,
    quota,
    system,
    usage,
    users,
    webhooks,
)
from cabinet.core.clock import DAY_RANGE, MOMENT_RANGE
from cabinet.core.http.subapp import build_rest_app
from cabinet.runtime import Runtime


def build_app(runtime: Runtime) -> FastAPI:
    return build_rest_app(
        runtime,
        title="cabinet Admin API",
        description="The operators' side: companies, users, roles, quotas, audit of everyone, statistics, "
        "reports, stored data, API keys and allowed networks. ADMIN and OVERLORD manage everything, SUPPORT "
        "reads everything, a COMPANYOWNER manages its own company only. Every date-time taken in (audit "
        f"from/to, key expiry) lies within {MOMENT_RANGE}, every date (periods, quota windows) within {DAY_RANGE}; "
        "outside: 400.",
        bind_operation=BIND_OPERATION,
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
