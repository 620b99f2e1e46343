"""Account information: read and update one's own profile."""

from __future__ import annotations

from cabinet.apis.account.deps import CurrentPrincipal, ServicesDep, account_operation
from cabinet.apis.account.routes import api_router
from cabinet.apis.account.schemas import InfoChangeRequest, User
from cabinet.core.metering import ProcessType
from cabinet.domains.identity.accounts import AccountSnapshot
from cabinet.domains.identity.schemas import AccountPatch
from cabinet.models import User as UserRow

router = api_router(tags=["Info"])


def user_out(user: UserRow | AccountSnapshot) -> User:
    return User(
        username=user.username,
        specification=user.specification,
        email=user.email,
        phone=user.phone,
        company_key=user.company.key,
        enabled=user.enabled,
        roles=list(user.roles)[:5],
        timezone=user.timezone,
        edit_date=user.edited_at,
        creation_date=user.created_at,
        attributes=None if user.attributes is None else list(user.attributes),
    )


@router.get(
    "/info",
    **account_operation("read_info", ProcessType.NOTRACE),
    summary="Getting a account information.",
    response_model=User,
)
async def read_info(principal: CurrentPrincipal, svc: ServicesDep) -> User:
    return user_out(await svc.identity.account_view(principal))


@router.put(
    "/info",
    **account_operation("update_info", ProcessType.TRACE),
    summary="Updating the account information.",
    response_model=User,
)
async def update_info(body: InfoChangeRequest, principal: CurrentPrincipal, svc: ServicesDep) -> User:
    patch = AccountPatch()
    for name in body.model_fields_set & {"specification", "email", "phone", "attributes"}:
        value = getattr(body, name)
        if name == "attributes":
            if value is None:  # the client treats a null list as absent: keep
                continue
            value = [a.model_dump() for a in value]
        setattr(patch, name, value)
    return user_out(await svc.identity.update_account(principal, patch))
