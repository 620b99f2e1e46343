"""Companies and users (the Admin API's directory, with its rights): get.companies, get.users,
create.users, update.users (partial; null clears; roles replaced whole), delete.users, enable.users,
disable.users."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cabinet.apis.data.errors import RpcError
from cabinet.apis.data.params import Kind, Param
from cabinet.apis.data.registry import (
    AGENT,
    DIRECTORY_READER,
    DIRECTORY_WRITER,
    ID_RESULT,
    FieldSpec,
    Method,
    Result,
    RpcCall,
    common_params,
    get_method,
    register,
)
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.core.query import FieldType as T
from cabinet.core.roles import Role
from cabinet.core.usernames import UsernameRefused
from cabinet.domains.identity.repository import COMPANY_CATALOG, USER_CATALOG
from cabinet.domains.identity.schemas import PASSWORD_MAX, PASSWORD_MIN, UNSET, UserCreate, UserUpdate

COMPANY_FIELDS = (
    FieldSpec("id", T.INTEGER, "Company (account) id: app_id."),
    FieldSpec("name", T.STRING, "Company key.", read=lambda c: c.key),
    FieldSpec("description", T.STRING, "Free text.", read=lambda c: c.detail),
    FieldSpec("creation_date", T.DATETIME, "Created.", read=lambda c: c.created_at),
    FieldSpec("edit_date", T.DATETIME, "Last changed.", read=lambda c: c.edited_at),
)
USER_FIELDS = (
    FieldSpec("id", T.INTEGER, "User id (user_id of agent calls)."),
    FieldSpec("login", T.STRING, "Login.", read=lambda u: u.username),
    FieldSpec("name", T.STRING, "Name or position.", read=lambda u: u.specification),
    FieldSpec("email", T.STRING, "E-mail."),
    FieldSpec("phone", T.STRING, "Phone."),
    FieldSpec("company_id", T.INTEGER, "Company (account) id."),
    FieldSpec("company_name", T.STRING, "Company key.", read=lambda u: u.company.key),
    FieldSpec("is_active", T.BOOLEAN, "Enabled (may sign in and call).", read=lambda u: u.enabled),
    FieldSpec("roles", T.STRING_ARRAY, "0..2 roles.", sortable=False),
    FieldSpec("timezone", T.INTEGER, "Offset from UTC in hours (-12..12); date-times are shown in it."),
    FieldSpec("creation_date", T.DATETIME, "Created.", read=lambda u: u.created_at),
    FieldSpec("edit_date", T.DATETIME, "Last changed.", read=lambda u: u.edited_at),
)

ROLE_NAMES = ", ".join(r.value for r in Role)
PASSWORD_LIMITS = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}
USER_PARAMS: dict[str, Param] = {
    "name": Param(Kind.STRING, "Name or position (null clears).", nullable=True),
    "email": Param(Kind.STRING, "E-mail (null clears).", nullable=True),
    "phone": Param(Kind.STRING, "Phone, +digits (null clears).", nullable=True),
    "roles": Param(Kind.ARRAY, f"0..2 of {ROLE_NAMES}; replaced whole (null: none).", nullable=True),
    "timezone": Param(Kind.INTEGER, "Offset from UTC in hours, -12..12."),
    "company_id": Param(Kind.INTEGER, "The user's company (default: yours; others: ADMIN, OVERLORD)."),
    "password": Param(
        Kind.STRING,
        f"Password ({PASSWORD_MIN}..{PASSWORD_MAX} characters); a new one ends the user's sessions.",
        limits=PASSWORD_LIMITS,
    ),
}
ID = Param(Kind.INTEGER, "User id.", required=True)


def _roles(value: Any) -> list[Role]:
    if value is None:
        return []
    roles: list[Role] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise RpcError("data_type_error", field=f"roles.{i}", value=item)
        try:
            roles.append(Role(item))
        except ValueError as exc:
            raise RpcError("invalid_parameter_value", field=f"roles.{i}", value=item) from exc
    if len(roles) > 2 or len(set(roles)) != len(roles):
        raise RpcError("invalid_parameter_value", field="roles", value=value)
    return roles


def _timezone(params: dict[str, Any]) -> Any:
    value = params.get("timezone", UNSET)
    if value is None:
        raise RpcError("invalid_parameter_value", field="timezone", value="null")
    return value


async def _company_key(call: RpcCall) -> str:
    company_id = call.params.get("company_id")
    if company_id is None:
        return call.principal.company_key
    company = await call.services.directory.company_by_id(call.principal, company_id, write=True)
    return company.key


async def create_user(call: RpcCall) -> Result:
    p = call.params
    timezone = _timezone(p)
    command = UserCreate(
        username=p["login"],
        password=p["password"],
        company_key=await _company_key(call),
        roles=_roles(p.get("roles")),
        specification=p.get("name"),
        email=p.get("email"),
        phone=p.get("phone"),
        timezone=0 if timezone is UNSET else timezone,
        enabled=p.get("is_active", True) is not False,
    )
    try:
        user = await call.services.directory.create_user(call.principal, command)
    except UsernameRefused as exc:  # a look-alike or mixed-script login: the wire names the parameter
        raise RpcError("invalid_parameter_value", field="login", value=p["login"], detail=exc.message) from exc
    set_result_elements(1)
    return Result({"id": user.id})


async def update_user(call: RpcCall) -> Result:
    p = call.params
    user = await call.services.directory.user_by_id(call.principal, p["id"], write=True)
    change = UserUpdate(username=user.username)
    for wire, name in (("name", "specification"), ("email", "email"), ("phone", "phone"), ("password", "password")):
        if wire in p:
            setattr(change, name, p[wire])
    if change.password is None:
        raise RpcError("invalid_parameter_value", field="password", value="null")
    if "roles" in p:
        change.roles = _roles(p["roles"])
    change.timezone = _timezone(p)
    if "company_id" in p:
        if p["company_id"] is None:  # every user belongs to a company: it cannot be cleared
            raise RpcError("invalid_parameter_value", field="company_id", value="null")
        change.company_key = await _company_key(call)
    if "is_active" in p:
        if not isinstance(p["is_active"], bool):
            raise RpcError("data_type_error", field="is_active", value=p["is_active"])
        change.enabled = p["is_active"]
    await call.services.directory.update_user(call.principal, change)
    set_result_elements(1)
    return Result({"id": user.id})


def _switch(enabled: bool) -> Callable[[RpcCall], Awaitable[Result]]:
    async def switch(call: RpcCall) -> Result:
        user = await call.services.directory.user_by_id(call.principal, call.params["id"], write=True)
        await call.services.directory.update_user(call.principal, UserUpdate(username=user.username, enabled=enabled))
        set_result_elements(1)
        return Result({"id": user.id})

    return switch


async def delete_user(call: RpcCall) -> Result:
    user = await call.services.directory.user_by_id(call.principal, call.params["id"], write=True)
    await call.services.directory.delete_user(call.principal, user.username)
    set_result_elements(1)
    return Result({"id": user.id})


def _write(name: str, summary: str, handler: Any, params: dict[str, Param]) -> Method:
    verb = name.split(".", 1)[0]
    errors = ("duplicate_entity", "entity_not_found") if verb in ("create", "update") else ("entity_not_found",)
    return Method(
        name,
        summary,
        DIRECTORY_WRITER,
        handler,
        common_params(params),
        process_type=ProcessType.TRACE,
        store_payloads=False,  # bodies may hold passwords
        result=ID_RESULT,
        errors=errors + (("dependency_error",) if verb == "delete" else ()),
    )


register(
    *(
        get_method(
            f"get.{noun}",
            f"{noun.capitalize()} you may see: {what} of every company for ADMIN, OVERLORD, SUPPORT; of your own "
            "company for a COMPANYOWNER.",
            rights=DIRECTORY_READER,
            catalog=catalog,
            search=search,
            fields=fields,
        )
        for noun, what, catalog, search, fields in (
            (
                "companies",
                "the company (account)",
                COMPANY_CATALOG,
                lambda s: s.directory.search_companies,
                COMPANY_FIELDS,
            ),
            ("users", "the users", USER_CATALOG, lambda s: s.directory.search_users, USER_FIELDS),
        )
    ),
    get_method(
        "get.customer_users",
        "Agents (PARTNER): the users of the client companies linked to yours; their id is the user_id of calls "
        "made on their behalf.",
        rights=AGENT,
        catalog=USER_CATALOG,
        search=lambda s: s.directory.search_customer_users,
        fields=(
            *(f for f in USER_FIELDS if f.name in ("id", "login", "name", "is_active")),
            FieldSpec(
                "customer_id", T.INTEGER, "The client company's id.", column="company_id", read=lambda u: u.company_id
            ),
            FieldSpec(
                "customer_name",
                T.STRING,
                "The client company's key.",
                column="company_name",
                read=lambda u: u.company.key,
            ),
        ),
        who="agent",
    ),
    _write(
        "create.users",
        "A new user; answers its id. A COMPANYOWNER creates users of its own company without platform roles.",
        create_user,
        {
            "login": Param(
                Kind.STRING,
                "Login: 2..256 letters, digits, _; global (unique across companies); one script, and not a "
                "look-alike of an existing login (Unicode confusables).",
                required=True,
            ),
            "password": Param(
                Kind.STRING,
                f"Password ({PASSWORD_MIN}..{PASSWORD_MAX} characters).",
                required=True,
                limits=PASSWORD_LIMITS,
            ),
            "is_active": Param(Kind.BOOLEAN, "Enabled (default true)."),
            **{k: v for k, v in USER_PARAMS.items() if k != "password"},
        },
    ),
    _write(
        "update.users",
        "Change a user by id: parameters left out are kept, null clears an optional one, roles are replaced whole. "
        "A new password, disabling or a move to another company ends the user's sessions and tokens.",
        update_user,
        {"id": ID, "is_active": Param(Kind.BOOLEAN, "Enabled."), **USER_PARAMS},
    ),
    _write("delete.users", "Delete a user by id (not yourself).", delete_user, {"id": ID}),
    _write("enable.users", "Enable a user by id.", _switch(True), {"id": ID}),
    _write(
        "disable.users", "Disable a user by id (not yourself); its sessions and tokens end.", _switch(False), {"id": ID}
    ),
)
