"""Account API dependencies: the caller, the services, the operation being run."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cabinet.core.errors import NotAuthenticated
from cabinet.core.http.metering import metered_operation
from cabinet.core.http.runtime import runtime_of
from cabinet.core.metering import Service
from cabinet.core.principal import Principal
from cabinet.core.tracing import current_trace
from cabinet.domains.registry import Services

bearer = HTTPBearer(scheme_name="ApiKeyAuth", bearerFormat="JWT", auto_error=False, description="Access token (JWT).")


def services(request: Request) -> Services:
    return runtime_of(request).services  # type: ignore[no-any-return]


def bind_operation(request: Request) -> None:
    """Name the running operation in the trace (its operationId), for tracedata, logs and audit."""
    route = request.scope.get("route")
    trace = current_trace()
    trace.api = "account"
    trace.operation = getattr(route, "operation_id", None) or trace.operation


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("Authorization: Bearer <token> is required")
    principal = await services(request).identity.resolve_access_token(credentials.credentials)
    trace = current_trace()
    trace.username = principal.username
    trace.company = principal.company_key
    return principal


ServicesDep = Annotated[Services, Depends(services)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

# Declares a metered Account operation on a route: operationId, process type, points (design.md §5).
account_operation = metered_operation(Service.ACCOUNT, current_principal)
