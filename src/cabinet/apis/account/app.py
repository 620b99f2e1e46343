"""The Account API sub-app (mounted at /account): a user's own side."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from cabinet import __version__
from cabinet.apis.account.deps import bind_operation
from cabinet.apis.account.errors import install_error_handlers
from cabinet.apis.account.routes import audit, info, quota, system, token, usage
from cabinet.apis.account.schemas import General400, General404, GeneralError
from cabinet.core.http.docs import without_fastapi_422
from cabinet.core.http.runtime import Runtime

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
    app = FastAPI(
        title="cabinet Account API",
        version=__version__,
        description="A user's own side: tokens, password, account information, quotas, usage, audit, data.",
        dependencies=[Depends(bind_operation)],
        responses=ERROR_RESPONSES,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    without_fastapi_422(app)
    app.include_router(token.router)
    app.include_router(info.router)
    app.include_router(quota.router)
    app.include_router(usage.router)
    app.include_router(audit.router)
    app.include_router(system.router)
    return app
