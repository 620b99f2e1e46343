"""Caller resolution shared by the REST APIs that take user access tokens (Account, Admin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cabinet.core.errors import NotAuthenticated, PermissionDenied
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.core.tracing import current_trace
from cabinet.domains.registry import Services
from cabinet.runtime import runtime_of

bearer = HTTPBearer(scheme_name="ApiKeyAuth", bearerFormat="JWT", auto_error=False, description="Access token (JWT).")


async def services(request: Request) -> Services:
    """The services (a dependency: ``async`` so FastAPI runs it on the event loop; a plain ``def`` dependency is a
    thread-pool round trip on every request). Code that is not a dependency calls ``services_of``."""
    return services_of(request)


def services_of(request: Request) -> Services:
    return runtime_of(request).services


def bind_operation(api: str) -> Callable[[Request], None]:
    """The binding of an API's routes (``core.http.subapp.api_router``): names the running operation in the trace
    (its operationId): tracedata, logs, audit."""

    def bind(request: Request) -> None:
        route = request.scope.get("route")
        trace = current_trace()
        trace.api = api
        trace.operation = getattr(route, "operation_id", None) or trace.operation

    return bind


async def access_token_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("Authorization: Bearer <token> is required")
    principal = await services_of(request).identity.resolve_access_token(credentials.credentials)
    trace = current_trace()
    trace.username = principal.username
    trace.company = principal.company_key
    return principal


def require_operator(principal: Principal, *, write: bool) -> Principal:
    """The operators' coarse check (Admin API, operator pages): ADMIN, OVERLORD, SUPPORT (all companies) and
    COMPANYOWNER (its own) read; all but SUPPORT change. The fine rules are the domains'."""
    if not (principal.can(Permission.ADMIN_READ_ALL) or principal.can(Permission.ADMIN_READ_COMPANY)):
        raise PermissionDenied("the Admin API needs the ADMIN, OVERLORD, SUPPORT or COMPANYOWNER role")
    if write and not (principal.can(Permission.ADMIN_WRITE_ALL) or principal.can(Permission.ADMIN_WRITE_COMPANY)):
        raise PermissionDenied("this operation changes data: the SUPPORT role is read-only")
    return principal
