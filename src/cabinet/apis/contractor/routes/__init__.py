"""The contractor area's routes: each route module declares its router with ``api_router``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cabinet.apis.contractor.deps import bind_operation
from cabinet.apis.contractor.schemas import ErrorDTO
from cabinet.core.http.subapp import api_router as _api_router

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


def api_router(**options: Any) -> APIRouter:
    """A router of this API: its routes are bound to the operation and declare the API's error answers."""
    return _api_router(bind_operation, ERROR_RESPONSES, **options)
