"""The Account API's routes: each route module declares its router with ``api_router``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cabinet.apis.account.deps import bind_operation
from cabinet.apis.account.schemas import General400, General404, GeneralError
from cabinet.core.http.subapp import api_router as _api_router

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


def api_router(**options: Any) -> APIRouter:
    """A router of this API: its routes are bound to the operation and declare the API's error answers."""
    return _api_router(bind_operation, ERROR_RESPONSES, **options)
