"""The contractor personal area sub-app (seed 004), mounted at the root: /call, /calltask, /notification,
/shared (the field employee's link), /systemSettings, /user, /callCost. OpenAPI at /contractor/openapi.json."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from cabinet import __version__
from cabinet.apis.contractor.deps import bind_operation
from cabinet.apis.contractor.errors import install_error_handlers
from cabinet.apis.contractor.routes import calls, costs, notifications, settings, shared, tasks, users
from cabinet.apis.contractor.schemas import ErrorDTO
from cabinet.core.http.docs import without_fastapi_422
from cabinet.core.http.runtime import Runtime

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDTO, "description": "Invalid input (errorCode 0 unless the operation says otherwise)"},
    401: {"model": ErrorDTO, "description": "No, bad, expired or revoked credentials"},
    402: {"model": ErrorDTO, "description": "A points quota is exhausted"},
    403: {"model": ErrorDTO, "description": "This kind of caller may not do this"},
    413: {"model": ErrorDTO, "description": "Request body too large"},
    503: {"model": ErrorDTO, "description": "A backing service (database, limits or file store) is unavailable"},
    429: {"model": ErrorDTO, "description": "Too many requests or failed sign-ins"},
    500: {"model": ErrorDTO, "description": "Internal error"},
}

DESCRIPTION = (
    "The contractor personal area (seed 004): the external system (ERP; a BOT user of the tenant with an API key) "
    "dispatches calls with tasks to contractor users, who sign in with a salted hash, accept, work and finish "
    "them, write messages and raise jeopardies, and submit a cost estimate per call; the external system answers, "
    "decides the estimate's lines, closes and pulls every change through the incremental feeds. Errors are "
    "ErrorDTO {errorCode}. Money and quantities are exact decimals: JSON numbers bounded so that their decimal "
    "text is exact, totals as decimal strings; see the /callCost operations."
)


def build_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="cabinet Contractor API",
        version=__version__,
        description=DESCRIPTION,
        dependencies=[Depends(bind_operation)],
        responses=ERROR_RESPONSES,
        docs_url="/contractor/docs",
        redoc_url=None,
        openapi_url="/contractor/openapi.json",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    without_fastapi_422(app)
    app.include_router(users.router)
    app.include_router(calls.router)
    app.include_router(tasks.router)
    app.include_router(costs.router)
    app.include_router(notifications.router)
    app.include_router(settings.router)
    app.include_router(shared.router)
    return app
