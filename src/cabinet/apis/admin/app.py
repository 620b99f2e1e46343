"""The Admin API sub-app (mounted at /admin): the operators' side (seed 002; paths: contracts §5.4)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from cabinet import __version__
from cabinet.apis.admin.errors import install_error_handlers
from cabinet.apis.admin.routes import audit, companies, credentials, quota, system, usage, users
from cabinet.apis.admin.schemas import GeneralError, NotFoundError
from cabinet.apis.shared.auth import bind_operation
from cabinet.core.http.docs import without_fastapi_422
from cabinet.core.http.runtime import Runtime

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
    app = FastAPI(
        title="cabinet Admin API",
        version=__version__,
        description="The operators' side: companies, users, roles, quotas, audit of everyone, statistics, "
        "reports, stored data, API keys and allowed networks. ADMIN and OVERLORD manage everything, SUPPORT "
        "reads everything, a COMPANYOWNER manages its own company only.",
        dependencies=[Depends(bind_operation("admin"))],
        responses=ERROR_RESPONSES,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    without_fastapi_422(app)
    app.include_router(companies.router)
    app.include_router(users.router)
    app.include_router(credentials.router)
    app.include_router(audit.router)
    app.include_router(usage.router)
    app.include_router(quota.router)
    app.include_router(system.router)
    return app
