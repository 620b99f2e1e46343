"""Contractor API dependencies: who is calling and the metered operation declarations.

One ``Authorization`` header (``Bearer <value>`` or the bare value, as the seed's apiKey scheme allows) carries
either the external system's API key (the seed's ExternalSystemAuth: a BOT user of the tenant) or a
contractor's access token (UserAuth). ``POST /user/token`` takes the service token (ServiceUserAuth).
The fine rules (which kind of caller, whose calls) are the domain's (fieldservice/policies.py).
The field employee's ``/shared`` operations take no header: the link's token comes as ``?token=``
(fieldservice/field_links.py) and acts for the call's owner, without roles.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader

from cabinet.apis.shared.auth import bind_operation as _bind_operation
from cabinet.apis.shared.auth import services, services_of
from cabinet.core.errors import NotAuthenticated
from cabinet.core.http.metering import metered_operation
from cabinet.core.metering import Service
from cabinet.core.principal import Principal
from cabinet.core.tracing import current_trace
from cabinet.domains.credentials.schemas import KEY_RE
from cabinet.domains.fieldservice.field_links import TOKEN_MAX_CHARS, FieldLinkAccess
from cabinet.domains.registry import Services

bind_operation = _bind_operation("contractor")

authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="ContractorAuth",
    description="`Bearer <API key>` (the external system, a BOT of the tenant) or `Bearer <access token>` "
    "(a contractor user, from POST /user/signin). The bare value without `Bearer ` is accepted too.",
    auto_error=False,
)
service_authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="ServiceUserAuth",
    description="`Bearer <service token>` from POST /user/signin or POST /user/token.",
    auto_error=False,
)


def bearer_value(header: str | None) -> str:
    value = (header or "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    if not value:
        raise NotAuthenticated("Authorization: Bearer <API key or access token> is required")
    return value


def _bind(principal: Principal) -> Principal:
    trace = current_trace()
    trace.username = principal.username
    trace.company = principal.company_key
    trace.principal = principal
    return principal


async def caller(request: Request, header: Annotated[str | None, Depends(authorization)]) -> Principal:
    value = bearer_value(header)
    svc = services_of(request)
    if KEY_RE.fullmatch(value):
        return _bind(await svc.credentials.authenticate_key(value, current_trace().client_ip))
    return _bind(await svc.identity.resolve_access_token(value))


async def service_caller(request: Request, header: Annotated[str | None, Depends(service_authorization)]) -> Principal:
    """The user behind a service token (not spent here: the rotation itself spends it)."""
    return _bind(await services_of(request).contractors.service_principal(bearer_value(header)))


async def field_link(
    request: Request,
    token: Annotated[
        str,
        Query(
            min_length=1,
            max_length=TOKEN_MAX_CHARS,
            description="The field employee's link token (from POST /call/{callId}/templink)",
        ),
    ],
) -> FieldLinkAccess:
    access = await services_of(request).field_links.resolve(token)
    _bind(access.principal)
    return access


async def field_link_principal(access: Annotated[FieldLinkAccess, Depends(field_link)]) -> Principal:
    return access.principal


ServicesDep = Annotated[Services, Depends(services)]
Caller = Annotated[Principal, Depends(caller)]
ServiceCaller = Annotated[Principal, Depends(service_caller)]
FieldLink = Annotated[FieldLinkAccess, Depends(field_link)]

contractor_operation = metered_operation(Service.STUDIO, caller)
service_token_operation = metered_operation(Service.STUDIO, service_caller)
field_link_operation = metered_operation(Service.STUDIO, field_link_principal)
