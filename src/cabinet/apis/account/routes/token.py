"""Sign-in half: token generation, token validation, password change."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Body, Request
from pydantic import StrictStr

from cabinet.apis.account.deps import CurrentPrincipal, ServicesDep, account_operation
from cabinet.apis.account.routes import api_router
from cabinet.apis.account.schemas import PasswordChangeRequest, TokenRequest, TokenValidationResult
from cabinet.core.metering import ProcessType

router = api_router(tags=["Auth"])

# Strict: only a JSON string. A lax str would also take the raw bytes of a text/plain, XML or form body.
Token = Annotated[
    StrictStr, Body(min_length=10, max_length=1000, description="Token (JWT).", examples=["new.jwt.token"])
]


@router.post(
    "/token/generation",
    operation_id="run_token_generation",
    summary="Obtaining a token using the login and password.",
    response_model=str,
    response_description="Token (JWT).",
)
async def run_token_generation(body: TokenRequest, request: Request, svc: ServicesDep) -> str:
    client = request.client.host if request.client else None
    issued = await svc.identity.sign_in(
        body.username, body.password, client_ip=client, ttl=timedelta(seconds=body.ttl_seconds)
    )
    return issued.token


@router.post(
    "/token/validation",
    operation_id="run_token_validation",
    summary="Validating a token.",
    response_model=TokenValidationResult,
)
async def run_token_validation(token: Token, svc: ServicesDep) -> TokenValidationResult:
    valid, roles = await svc.identity.validate_token(token)
    return TokenValidationResult(valid=valid, roles=list(roles))


@router.post(
    "/password",
    **account_operation("change_password", ProcessType.TRACE, store_payloads=False),
    summary="Change password and get new token.",
    response_model=str,
    response_description="Token (JWT).",
)
async def change_password(body: PasswordChangeRequest, principal: CurrentPrincipal, svc: ServicesDep) -> str:
    issued = await svc.identity.change_password(principal, body.current_password, body.new_password)
    return issued.token
