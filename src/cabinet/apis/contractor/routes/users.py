"""Users: registration, lock and password by the external system; salted-hash sign-in; token rotation; self."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response

from cabinet.apis.contractor.deps import (
    Caller,
    ServiceCaller,
    ServicesDep,
    bearer_value,
    contractor_operation,
    service_authorization,
    service_token_operation,
)
from cabinet.apis.contractor.keys import KeyedRoute
from cabinet.apis.contractor.mappers import tokens_out
from cabinet.apis.contractor.routes import api_router
from cabinet.apis.contractor.schemas import (
    INT64_MAX,
    AccessServiceTokensDTO,
    ChangePasswordDTO,
    ErrorDTO,
    RegisterUserDTO,
    RegisterUserOutputDTO,
    SignInInputDTO,
    UserDTO,
)
from cabinet.core.metering import ProcessType

router = api_router(prefix="/user", tags=["User"], route_class=KeyedRoute)

UserId = Annotated[int, Path(ge=1, le=INT64_MAX, description="User id")]
E: dict[str, Any] = {"model": ErrorDTO}


@router.post(
    "/register",
    **contractor_operation("registerUser", ProcessType.TRACE, store_payloads=False),
    summary="Register a contractor user (external system).",
    response_model=RegisterUserOutputDTO,
    responses={409: {**E, "description": "A user with this userName exists (errorCode 1)"}},
)
async def register_user(body: RegisterUserDTO, principal: Caller, svc: ServicesDep) -> RegisterUserOutputDTO:
    user = await svc.contractors.register(principal, body.userName, body.password)
    return RegisterUserOutputDTO(id=user.id)


@router.post(
    "/signin",
    operation_id="signIn",
    summary="Sign in with the salted hash; get an access and a service token.",
    description="hashedPassword = base64(SHA-256(SHA-256(UTF-8 password) || salt)); each salt (16..32 random bytes) "
    "is accepted once per user, forever. 401 errorCode: 1 wrong user name or password, 2 salt used before, "
    "5 user locked. Not metered: nobody is known before it succeeds (as the Account API's sign-in).",
    response_model=AccessServiceTokensDTO,
    responses={401: {**E, "description": "1 wrong user or password; 2 salt reused; 5 user locked"}},
)
async def sign_in(body: SignInInputDTO, request: Request, svc: ServicesDep) -> AccessServiceTokensDTO:
    client = request.client.host if request.client else None
    return tokens_out(await svc.contractors.sign_in(body.userName, body.salt, body.hashedPassword, client_ip=client))


@router.post(
    "/token",
    **service_token_operation("refreshToken", ProcessType.TRACE, store_payloads=False),
    summary="A new access and service token for a service token (which is spent by this).",
    description="Presenting a spent service token again revokes its whole family and every token of the user.",
    response_model=AccessServiceTokensDTO,
)
async def refresh_token(
    _: ServiceCaller, svc: ServicesDep, header: Annotated[str | None, Depends(service_authorization)]
) -> AccessServiceTokensDTO:
    return tokens_out(await svc.contractors.rotate(bearer_value(header)))


@router.get(
    "/self",
    **contractor_operation("getSelf", ProcessType.NOTRACE),
    summary="The signed-in user.",
    response_model=UserDTO,
)
async def get_self(principal: Caller) -> UserDTO:
    return UserDTO(id=principal.user_id, name=principal.username)


@router.post(
    "/{id}/changePassword",
    **contractor_operation("changePassword", ProcessType.TRACE, store_payloads=False),
    summary="Set a contractor user's password (external system); every token of the user dies.",
    status_code=204,
    response_class=Response,
    responses={
        401: {**E, "description": "errorCode 3: the user is locked"},
        404: {**E, "description": "errorCode 3: user not found"},
    },
)
async def change_password(id: UserId, body: ChangePasswordDTO, principal: Caller, svc: ServicesDep) -> Response:
    await svc.contractors.change_password(principal, id, body.newPassword)
    return Response(status_code=204)


@router.post(
    "/{id}/lock",
    **contractor_operation("lockUser", ProcessType.TRACE),
    summary="Lock a contractor user (external system): sign-in refused (code 5), every token dies.",
    status_code=204,
    response_class=Response,
    responses={404: {**E, "description": "errorCode 3: user not found"}},
)
async def lock_user(id: UserId, principal: Caller, svc: ServicesDep) -> Response:
    await svc.contractors.set_locked(principal, id, True)
    return Response(status_code=204)


@router.post(
    "/{id}/unlock",
    **contractor_operation("unlockUser", ProcessType.TRACE),
    summary="Unlock a contractor user (external system). Not in the seed: the missing counterpart of lock.",
    status_code=204,
    response_class=Response,
    responses={404: {**E, "description": "errorCode 3: user not found"}},
)
async def unlock_user(id: UserId, principal: Caller, svc: ServicesDep) -> Response:
    await svc.contractors.set_locked(principal, id, False)
    return Response(status_code=204)
