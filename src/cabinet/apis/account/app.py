"""The Account API sub-app (mounted at /account): a user's own side."""

from __future__ import annotations

from fastapi import FastAPI

from cabinet.apis.account.deps import bind_operation
from cabinet.apis.account.errors import install_error_handlers
from cabinet.apis.account.routes import ERROR_RESPONSES, audit, info, quota, system, token, usage
from cabinet.core.clock import DAY_RANGE, MOMENT_RANGE
from cabinet.core.http.subapp import build_rest_app
from cabinet.runtime import Runtime


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
