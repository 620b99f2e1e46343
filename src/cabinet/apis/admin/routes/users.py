"""Users (A6-A10)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response

from cabinet.apis.admin.deps import Reader, ServicesDep, Writer, admin_read, admin_write
from cabinet.apis.admin.routes import api_router
from cabinet.apis.admin.routes.companies import filter_of, sort_field_of
from cabinet.apis.admin.schemas import (
    SortDirection,
    UserCounters,
    UserGroup,
    UserIn,
    UserList,
    UserListStats,
    UserOut,
)
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.domains.identity.repository import USER_SORT
from cabinet.domains.identity.schemas import UNSET, ListQuery, UserCreate, UserUpdate
from cabinet.models import User as UserRow

router = api_router(tags=["Users"])

UsernamePath = Annotated[str, Path(min_length=2, max_length=256, pattern=r"^\w+$", description="Login.")]


def user_out(row: UserRow) -> UserOut:
    return UserOut(
        username=row.username,
        name=row.specification,
        email=row.email,
        phone=row.phone,
        company_key=row.company.key,
        enabled=row.enabled,
        roles=list(row.roles),
        timezone=row.timezone,
    )


@router.post(
    "/users",
    **admin_write("create_user", ProcessType.TRACE, store_payloads=False),
    summary="New user creation.",
    response_model=UserOut,
)
async def create_user(body: UserIn, principal: Writer, svc: ServicesDep) -> UserOut:
    user = await svc.directory.create_user(
        principal,
        UserCreate(
            username=body.username,
            password=body.password,
            company_key=body.company_key,
            roles=list(body.roles),
            specification=body.name,
            email=body.email,
            phone=body.phone,
            timezone=body.timezone,
            enabled=body.enabled,
        ),
    )
    return user_out(user)


@router.put(
    "/users",
    **admin_write("update_user", ProcessType.TRACE, store_payloads=False),
    summary="Updating the user information by login. The username field cannot be changed.",
    description="Fields left out are kept; a password given changes it. A new password, disabling the user or "
    "moving it to another company ends every token issued before.",
    response_model=UserOut,
)
async def update_user(body: UserIn, principal: Writer, svc: ServicesDep) -> UserOut:
    sent = body.model_fields_set
    change = UserUpdate(username=body.username)
    change.password = body.password if "password" in sent and body.password is not None else UNSET
    change.specification = body.name if "name" in sent else UNSET
    for name in ("email", "phone", "company_key", "enabled", "timezone"):
        setattr(change, name, getattr(body, name) if name in sent else UNSET)
    change.roles = list(body.roles) if "roles" in sent else UNSET
    return user_out(await svc.directory.update_user(principal, change))


@router.get(
    "/users",
    **admin_read("read_users", ProcessType.NOTRACE),
    summary="Getting a list of users.",
    description="filter: text searched in username, name, email and phone. sort_field: one of "
    f"{', '.join(sorted(USER_SORT))}. ADMINS are users holding ADMIN, OVERLORD or COMPANYOWNER.",
    response_model=UserList,
)
async def read_users(
    principal: Reader,
    svc: ServicesDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000_000)] = 100,
    filter: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    sort_field: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    sort_direction: SortDirection = SortDirection.ASC,
    company_key: Annotated[str | None, Query(min_length=3, max_length=256, pattern=r"^\w+$")] = None,
    user_group: UserGroup = UserGroup.TOTAL,
) -> UserList:
    query = ListQuery(
        offset=offset,
        limit=limit,
        text=filter_of(filter),
        sort_field=sort_field_of(sort_field, USER_SORT),
        descending=sort_direction is SortDirection.DESC,
        company_key=company_key,
        user_group=user_group.value,
    )
    rows, overall, filtered = await svc.directory.list_users(principal, query)
    set_result_elements(len(rows))
    return UserList(
        users=[user_out(r) for r in rows],
        statistics=UserListStats(
            overall=UserCounters(
                total=overall.total, active=overall.active, blocked=overall.blocked, admins=overall.admins
            ),
            filter=UserCounters(
                total=filtered.total, active=filtered.active, blocked=filtered.blocked, admins=filtered.admins
            ),
        ),
    )


@router.get(
    "/users/{username}",
    **admin_read("read_user", ProcessType.NOTRACE),
    summary="Getting user information by login.",
    response_model=UserOut,
)
async def read_user(username: UsernamePath, principal: Reader, svc: ServicesDep) -> UserOut:
    return user_out(await svc.directory.get_user(principal, username))


@router.delete(
    "/users/{username}",
    **admin_write("delete_user", ProcessType.TRACE),
    summary="Removing a user by login.",
    description="The user's quotas and keys go with it; its audit trail stays (with its username).",
    status_code=204,
    response_class=Response,
)
async def delete_user(username: UsernamePath, principal: Writer, svc: ServicesDep) -> Response:
    await svc.directory.delete_user(principal, username)
    return Response(status_code=204)
