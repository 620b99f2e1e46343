"""Admin API, companies and users (seed 002), over the wire.

Every operation and its error paths; the permission matrix (the nine roles x every companies/users operation,
cell by cell, with the expected status of each cell written out below); lists (paging, sorting, filtering,
counters) against a data set built here with known answers; tenant isolation of a COMPANYOWNER (another
company's objects are indistinguishable from ones that do not exist); token revocation by an operator's
password change, disable or move; the audit trail across deleting a user and its company; validation at and
just past every bound seed 002 gives. Every refusal is checked against seed 002's error shape. No answer may
be a 5xx: the ``api`` client fails the test on one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cabinet.core.clock import OffsetClock
from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.domains.identity.schemas import ListQuery, UserCreate
from cabinet.domains.registry import Services
from tests.helpers import MadeUser, UserFactory, bearer, login

# a company's regional settings when nobody chose them: the deployment's defaults
REGIONAL = {"timezone": "Europe/Moscow", "locale": "ru", "currency": "RUB"}
COMPANIES = "/admin/companies"
USERS = "/admin/users"
INFO = "/account/info"
TRACEDATA_KEYS = {"code", "client", "server", "service", "operation", "time"}
ANONYMOUS = "anonymous_|_anonymous"
PASSWORD = "correct_horse_battery"

# the platform itself, for arranging data through the domain (never used as a caller of the API)
PLATFORM = Principal(
    user_id=0,
    username="arranger",
    company_id=0,
    company_key="arranger",
    roles=(Role.OVERLORD,),
    timezone=0,
    credential=CredentialKind.ACCESS,
)


# --------------------------------------------------------------------------------------------------------------
# harness


@dataclass
class Caller:
    user: MadeUser
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    @property
    def client_id(self) -> str:
        return f"{self.user.company}_|_{self.user.username}"


async def sign_in(
    api: httpx.AsyncClient, make_user: UserFactory, username: str, roles: list[Role], company: str, **extra: Any
) -> Caller:
    user = await make_user(username, roles=roles, company=company, password=PASSWORD, **extra)
    return Caller(user, await login(api, user))


@pytest.fixture
async def admin(api: httpx.AsyncClient, make_user: UserFactory) -> Caller:
    return await sign_in(api, make_user, "root_admin", [Role.ADMIN], "platform_co")


async def arrange_user(
    services: Services, username: str, company: str, roles: list[Role] | None = None, **extra: Any
) -> None:
    """A user made through the domain, without a password (no argon2 cost); creates its company if needed."""
    await services.identity.create_user(
        UserCreate(
            username=username,
            password=extra.pop("password", None),
            company_key=company,
            roles=roles if roles is not None else [Role.USER],
            create_company=True,
            **extra,
        )
    )


async def arrange_company(services: Services, key: str, detail: str | None = None) -> None:
    await services.directory.create_company(PLATFORM, key, detail)


def check_tracedata(tracedata: Any, operation: str, client: str | None) -> None:
    assert isinstance(tracedata, dict) and set(tracedata) == TRACEDATA_KEYS, tracedata
    uuid.UUID(tracedata["code"])
    assert tracedata["service"] == "ADMIN"
    assert tracedata["operation"] == operation
    assert isinstance(tracedata["server"], str) and tracedata["server"]
    company, sep, username = tracedata["client"].partition("_|_")
    assert sep and company and username, tracedata["client"]
    if client is not None:
        assert tracedata["client"] == client
    assert datetime.fromisoformat(tracedata["time"].replace("Z", "+00:00")).tzinfo is not None


def assert_error(response: httpx.Response, status: int, operation: str, *, client: str | None = None) -> dict:
    """Seed 002's general error: {tracedata, message[, schema_errors]}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "tracedata" in body and set(body) <= {"tracedata", "message", "schema_errors"}, body
    assert isinstance(body["message"], str) and body["message"]
    check_tracedata(body["tracedata"], operation, client)
    return body  # type: ignore[no-any-return]


def assert_not_found(
    response: httpx.Response, operation: str, resource_id: str | None = None, *, client: str | None = None
) -> dict:
    """Seed 002's 404: {resource_id, detail: {tracedata}}."""
    assert response.status_code == 404, response.text
    body = response.json()
    assert set(body) == {"resource_id", "detail"}, body
    assert set(body["detail"]) == {"tracedata"}, body
    check_tracedata(body["detail"]["tracedata"], operation, client)
    if resource_id is not None:
        assert body["resource_id"] == resource_id
    return body  # type: ignore[no-any-return]


def assert_invalid(response: httpx.Response, operation: str, entity: str) -> dict:
    """A 400 whose schema_errors name the offending field."""
    body = assert_error(response, 400, operation)
    entities = [e.get("entity") or "" for e in body.get("schema_errors", [])]
    assert any(entity in e for e in entities), body
    return body


def user_body(username: str, company_key: str, roles: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {"username": username, "company_key": company_key, "roles": roles if roles is not None else [], **fields}


async def snapshot(services: Services) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every company and user as the platform sees them: to prove that a refused write changed nothing."""
    companies, _, _ = await services.directory.list_companies(PLATFORM, ListQuery(limit=10_000))
    users, _, _ = await services.directory.list_users(PLATFORM, ListQuery(limit=10_000))
    return (
        {c.key: c.detail for c in companies},
        {
            u.username: (u.company.key, u.specification, u.email, u.phone, list(u.roles), u.enabled, u.timezone)
            for u in users
        },
    )


# --------------------------------------------------------------------------------------------------------------
# companies: every operation and its error paths


async def test_company_lifecycle(api: httpx.AsyncClient, admin: Caller) -> None:
    h = admin.headers
    created = await api.post(COMPANIES, json={"key": "new_co", "detail": "A new tenant"}, headers=h)
    assert created.status_code == 200, created.text
    assert created.json() == {"key": "new_co", "detail": "A new tenant", **REGIONAL}

    bare = await api.post(COMPANIES, json={"key": "bare_co"}, headers=h)
    assert bare.status_code == 200 and bare.json() == {"key": "bare_co", "detail": None, **REGIONAL}

    read = await api.get(f"{COMPANIES}/new_co", headers=h)
    assert read.status_code == 200 and read.json() == {"key": "new_co", "detail": "A new tenant", **REGIONAL}

    updated = await api.put(COMPANIES, json={"key": "new_co", "detail": "Renamed tenant"}, headers=h)
    assert updated.status_code == 200 and updated.json() == {"key": "new_co", "detail": "Renamed tenant", **REGIONAL}
    assert (await api.get(f"{COMPANIES}/new_co", headers=h)).json()["detail"] == "Renamed tenant"

    cleared = await api.put(COMPANIES, json={"key": "new_co", "detail": None}, headers=h)
    assert cleared.status_code == 200 and cleared.json() == {"key": "new_co", "detail": None, **REGIONAL}

    deleted = await api.delete(f"{COMPANIES}/new_co", headers=h)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_not_found(await api.get(f"{COMPANIES}/new_co", headers=h), "read_company", "new_co")
    assert_not_found(await api.delete(f"{COMPANIES}/new_co", headers=h), "delete_company", "new_co")

    listed = (await api.get(COMPANIES, headers=h)).json()
    assert [c["key"] for c in listed["companies"]] == ["bare_co", "platform_co"]


async def test_company_errors(api: httpx.AsyncClient, admin: Caller, services: Services) -> None:
    h = admin.headers
    await arrange_company(services, "taken_co", "first")
    duplicate = await api.post(COMPANIES, json={"key": "taken_co", "detail": "second"}, headers=h)
    assert_error(duplicate, 409, "create_company", client=admin.client_id)
    assert (await api.get(f"{COMPANIES}/taken_co", headers=h)).json() == {
        "key": "taken_co",
        "detail": "first",
        **REGIONAL,
    }

    assert_not_found(await api.get(f"{COMPANIES}/ghost_co", headers=h), "read_company", "ghost_co")
    assert_not_found(
        await api.put(COMPANIES, json={"key": "ghost_co", "detail": "x"}, headers=h), "update_company", "ghost_co"
    )
    assert_not_found(await api.delete(f"{COMPANIES}/ghost_co", headers=h), "delete_company", "ghost_co")
    assert (await api.get(f"{COMPANIES}/ghost_co", headers=h)).status_code == 404  # the PUT did not create it

    # a company with users cannot be deleted; nothing is removed
    await arrange_user(services, "member", "taken_co")
    busy = await api.delete(f"{COMPANIES}/taken_co", headers=h)
    assert_error(busy, 409, "delete_company", client=admin.client_id)
    assert (await api.get(f"{COMPANIES}/taken_co", headers=h)).status_code == 200
    assert (await api.get(f"{USERS}/member", headers=h)).status_code == 200
    # the operator's own company has the operator in it
    assert_error(await api.delete(f"{COMPANIES}/platform_co", headers=h), 409, "delete_company")
    # once empty, it goes
    assert (await api.delete(f"{USERS}/member", headers=h)).status_code == 204
    assert (await api.delete(f"{COMPANIES}/taken_co", headers=h)).status_code == 204


# --------------------------------------------------------------------------------------------------------------
# users: every operation and its error paths

FULL_USER = {
    "username": "worker",
    "password": "first_password",
    "name": "Walter Worker",
    "email": "walter@crew.example",
    "phone": "+71112223333",
    "company_key": "crew_co",
    "enabled": True,
    "roles": ["USER", "CREW"],
    "timezone": 3,
}


async def test_user_lifecycle(api: httpx.AsyncClient, admin: Caller, services: Services) -> None:
    h = admin.headers
    assert (await api.post(COMPANIES, json={"key": "crew_co"}, headers=h)).status_code == 200
    await arrange_company(services, "other_co")
    expected = {k: v for k, v in FULL_USER.items() if k != "password"}

    created = await api.post(USERS, json=FULL_USER, headers=h)
    assert created.status_code == 200, created.text
    assert created.json() == expected  # never the password
    assert (await api.get(f"{USERS}/worker", headers=h)).json() == expected
    worker = MadeUser(0, "worker", "first_password", "crew_co", [Role.USER, Role.CREW])
    info = await api.get(INFO, headers=bearer(await login(api, worker)))
    assert info.status_code == 200 and info.json()["username"] == "worker"

    # fields left out are kept
    kept = await api.put(USERS, json=user_body("worker", "crew_co", ["USER", "CREW"]), headers=h)
    assert kept.status_code == 200, kept.text
    assert kept.json() == expected
    # an explicit null clears; a value replaces
    changed = await api.put(
        USERS,
        json=user_body("worker", "crew_co", ["USER"], name=None, email="w2@crew.example", phone=None, timezone=-4),
        headers=h,
    )
    assert changed.status_code == 200, changed.text
    after_change = {**expected, "name": None, "email": "w2@crew.example", "phone": None, "timezone": -4}
    assert changed.json() == {**after_change, "roles": ["USER"]}
    # disable, enable, move to another company
    disabled = await api.put(USERS, json=user_body("worker", "crew_co", ["USER"], enabled=False), headers=h)
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    still = await api.put(USERS, json=user_body("worker", "crew_co", ["USER"]), headers=h)  # the default is not sent
    assert still.status_code == 200 and still.json()["enabled"] is False
    enabled = await api.put(USERS, json=user_body("worker", "crew_co", ["USER"], enabled=True), headers=h)
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    moved = await api.put(USERS, json=user_body("worker", "other_co", []), headers=h)
    assert moved.status_code == 200, moved.text
    assert moved.json() == {**after_change, "company_key": "other_co", "roles": []}
    assert (await api.get(f"{USERS}/worker", headers=h)).json() == moved.json()

    # the worker's batched read audits are written first: see test_deleting_a_user_with_unflushed_read_audits
    await services.audit.flush()
    deleted = await api.delete(f"{USERS}/worker", headers=h)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_not_found(await api.get(f"{USERS}/worker", headers=h), "read_user", "worker")
    assert_not_found(await api.delete(f"{USERS}/worker", headers=h), "delete_user", "worker")
    assert_not_found(await api.put(USERS, json=user_body("worker", "other_co"), headers=h), "update_user", "worker")
    # the name is free again
    assert (await api.post(USERS, json=user_body("worker", "crew_co"), headers=h)).status_code == 200


async def test_user_errors(api: httpx.AsyncClient, admin: Caller, services: Services) -> None:
    h = admin.headers
    await arrange_user(services, "taken", "first_co")
    duplicate = await api.post(USERS, json=user_body("taken", "platform_co", ["USER"]), headers=h)
    assert_error(duplicate, 409, "create_user", client=admin.client_id)
    assert (await api.get(f"{USERS}/taken", headers=h)).json()["company_key"] == "first_co"

    assert_not_found(await api.post(USERS, json=user_body("newbie", "ghost_co"), headers=h), "create_user", "ghost_co")
    assert_not_found(await api.get(f"{USERS}/newbie", headers=h), "read_user", "newbie")  # not half-created
    assert_not_found(await api.get(f"{USERS}/nobody", headers=h), "read_user", "nobody")
    assert_not_found(await api.put(USERS, json=user_body("nobody", "first_co"), headers=h), "update_user", "nobody")
    assert_not_found(await api.delete(f"{USERS}/nobody", headers=h), "delete_user", "nobody")
    moving = await api.put(USERS, json=user_body("taken", "ghost_co"), headers=h)
    assert_not_found(moving, "update_user", "ghost_co")
    assert (await api.get(f"{USERS}/taken", headers=h)).json()["company_key"] == "first_co"

    # nobody deletes or disables themselves; re-enabling oneself is a harmless no-op
    assert_error(await api.delete(f"{USERS}/root_admin", headers=h), 409, "delete_user", client=admin.client_id)
    self_disable = await api.put(
        USERS, json=user_body("root_admin", "platform_co", ["ADMIN"], enabled=False), headers=h
    )
    assert_error(self_disable, 409, "update_user", client=admin.client_id)
    still = await api.put(USERS, json=user_body("root_admin", "platform_co", ["ADMIN"], enabled=True), headers=h)
    assert still.status_code == 200 and still.json()["enabled"] is True
    assert (await api.get(INFO, headers=h)).status_code == 200  # the token survived all of it


async def test_created_user_signs_in_only_when_it_can(api: httpx.AsyncClient, admin: Caller) -> None:
    h = admin.headers
    for body in (
        user_body("no_password", "platform_co", ["USER"]),
        user_body("blocked", "platform_co", ["USER"], password="blocked_pass", enabled=False),
        user_body("active", "platform_co", ["USER"], password="active_pass"),
    ):
        assert (await api.post(USERS, json=body, headers=h)).status_code == 200
    gen = "/account/token/generation"
    assert (await api.post(gen, json={"username": "no_password", "password": "anything_at_all"})).status_code == 401
    assert (await api.post(gen, json={"username": "blocked", "password": "blocked_pass"})).status_code == 403
    assert (await api.post(gen, json={"username": "active", "password": "active_pass"})).status_code == 200
    assert (await api.post(gen, json={"username": "active", "password": "wrong_pass"})).status_code == 401


async def test_unknown_paths_and_methods_answer_in_the_admin_shape(api: httpx.AsyncClient, admin: Caller) -> None:
    for method, path in (("PATCH", USERS), ("POST", f"{USERS}/someone"), ("PUT", f"{COMPANIES}/some_co")):
        response = await api.request(method, path, json={}, headers=admin.headers)
        assert_error(response, 405, "unknown")
        assert "allow" in response.headers
    assert_not_found(await api.get("/admin/no_such_thing", headers=admin.headers), "unknown", "/admin/no_such_thing")


# --------------------------------------------------------------------------------------------------------------
# who may give which role, and who may change a holder of a role


# caller role -> granted role -> status (POST creates a user with that role in the caller's company, PUT gives
# it to an existing USER of the caller's company)
GRANTS: dict[Role, dict[Role, int]] = {
    Role.ADMIN: {
        Role.ADMIN: 200,
        Role.PARTNER: 200,
        Role.USER: 200,
        Role.BOT: 200,
        Role.COMPANYOWNER: 200,
        Role.OVERLORD: 403,
        Role.CREW: 200,
        Role.CREWMANAGER: 200,
        Role.SUPPORT: 200,
    },
    Role.OVERLORD: {
        Role.ADMIN: 200,
        Role.PARTNER: 200,
        Role.USER: 200,
        Role.BOT: 200,
        Role.COMPANYOWNER: 200,
        Role.OVERLORD: 200,
        Role.CREW: 200,
        Role.CREWMANAGER: 200,
        Role.SUPPORT: 200,
    },
    Role.COMPANYOWNER: {
        Role.ADMIN: 403,
        Role.PARTNER: 200,
        Role.USER: 200,
        Role.BOT: 200,
        Role.COMPANYOWNER: 200,
        Role.OVERLORD: 403,
        Role.CREW: 200,
        Role.CREWMANAGER: 200,
        Role.SUPPORT: 403,
    },
}


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("caller_role", list(GRANTS), ids=str)
async def test_granting_roles(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services, caller_role: Role, method: str
) -> None:
    caller = await sign_in(api, make_user, "granter", [caller_role], "home_co")
    for role, expected in GRANTS[caller_role].items():
        username = f"got_{role.value.lower()}"
        if method == "PUT":
            await arrange_user(services, username, "home_co", [Role.USER])
        response = await api.request(
            method, USERS, json=user_body(username, "home_co", [role.value]), headers=caller.headers
        )
        operation = "create_user" if method == "POST" else "update_user"
        if expected == 200:
            assert response.status_code == 200, (role, response.text)
            assert response.json()["roles"] == [role.value]
        else:
            assert_error(response, expected, operation, client=caller.client_id)
            now = await api.get(f"{USERS}/{username}", headers=caller.headers)
            if method == "POST":
                assert now.status_code == 404, role  # not created
            else:
                assert now.json()["roles"] == ["USER"], role  # not given


# target role -> status for (ADMIN, OVERLORD, COMPANYOWNER) changing or deleting a holder of it in the caller's
# company: whoever may not give a role may not touch its holder either (no password reset, demotion,
# disabling or deletion of a stronger user)
HOLDERS: dict[Role, tuple[int, int, int]] = {
    Role.OVERLORD: (403, 200, 403),
    Role.ADMIN: (200, 200, 403),
    Role.SUPPORT: (200, 200, 403),
    Role.COMPANYOWNER: (200, 200, 200),
    Role.USER: (200, 200, 200),
}
HOLDER_CALLERS = (Role.ADMIN, Role.OVERLORD, Role.COMPANYOWNER)


@pytest.mark.parametrize("action", ["password", "demote", "disable", "delete"])
@pytest.mark.parametrize("caller_role", HOLDER_CALLERS, ids=str)
async def test_changing_a_holder_of_a_stronger_role(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services, caller_role: Role, action: str
) -> None:
    caller = await sign_in(api, make_user, "changer", [caller_role], "home_co")
    for role, statuses in HOLDERS.items():
        expected = statuses[HOLDER_CALLERS.index(caller_role)]
        username = f"holder_{role.value.lower()}"
        holder = await make_user(username, roles=[role], company="home_co", password="holder_password")
        holder_token = await login(api, holder)
        before = await snapshot(services)
        if action == "delete":
            response = await api.delete(f"{USERS}/{username}", headers=caller.headers)
            expected = 204 if expected == 200 else expected
        else:
            change = {"password": {"password": "taken_over"}, "demote": {}, "disable": {"enabled": False}}[action]
            roles = [] if action == "demote" else [role.value]
            response = await api.put(
                USERS, json=user_body(username, "home_co", roles, **change), headers=caller.headers
            )
        operation = "delete_user" if action == "delete" else "update_user"
        if expected >= 400:
            assert_error(response, expected, operation, client=caller.client_id)
            assert await snapshot(services) == before, role
            assert (await api.get(INFO, headers=bearer(holder_token))).status_code == 200, role
        else:
            assert response.status_code == expected, (role, response.text)


# --------------------------------------------------------------------------------------------------------------
# the permission matrix: nine roles x every companies/users operation
#
# The caller is in home_co, with one role. home_co also has "peer" (USER); away_co has "victim" (USER);
# empty_co has nobody. Columns: the caller's role in MATRIX_ROLES order.

MATRIX_ROLES = (
    Role.ADMIN,
    Role.OVERLORD,
    Role.SUPPORT,
    Role.COMPANYOWNER,
    Role.USER,
    Role.BOT,
    Role.CREW,
    Role.CREWMANAGER,
    Role.PARTNER,
)

# operation label -> (operationId, method, path, body)
OPERATIONS: dict[str, tuple[str, str, str, dict[str, Any] | None]] = {
    "create_company": ("create_company", "POST", COMPANIES, {"key": "fresh_co", "detail": "new"}),
    "update_company[home]": ("update_company", "PUT", COMPANIES, {"key": "home_co", "detail": "changed"}),
    "update_company[away]": ("update_company", "PUT", COMPANIES, {"key": "away_co", "detail": "changed"}),
    "read_companies": ("read_companies", "GET", COMPANIES, None),
    "read_company[home]": ("read_company", "GET", f"{COMPANIES}/home_co", None),
    "read_company[away]": ("read_company", "GET", f"{COMPANIES}/away_co", None),
    "delete_company[home]": ("delete_company", "DELETE", f"{COMPANIES}/home_co", None),
    "delete_company[empty]": ("delete_company", "DELETE", f"{COMPANIES}/empty_co", None),
    "create_user[home]": ("create_user", "POST", USERS, user_body("fresh_user", "home_co", ["USER"])),
    "create_user[away]": ("create_user", "POST", USERS, user_body("fresh_user", "away_co", ["USER"])),
    "update_user[home]": ("update_user", "PUT", USERS, user_body("peer", "home_co", ["USER"], name="Renamed")),
    "update_user[away]": ("update_user", "PUT", USERS, user_body("victim", "away_co", ["USER"], name="Renamed")),
    "read_users": ("read_users", "GET", USERS, None),
    "read_user[home]": ("read_user", "GET", f"{USERS}/peer", None),
    "read_user[away]": ("read_user", "GET", f"{USERS}/victim", None),
    "delete_user[home]": ("delete_user", "DELETE", f"{USERS}/peer", None),
    "delete_user[away]": ("delete_user", "DELETE", f"{USERS}/victim", None),
}

# fmt: off
MATRIX: dict[str, tuple[int, ...]] = {
    #                        ADMIN OVERLORD SUPPORT CO   USER BOT  CREW CM   PARTNER
    "create_company":        (200, 200,     403,    403, 403, 403, 403, 403, 403),
    "update_company[home]":  (200, 200,     403,    403, 403, 403, 403, 403, 403),
    "update_company[away]":  (200, 200,     403,    404, 403, 403, 403, 403, 403),
    "read_companies":        (200, 200,     200,    200, 403, 403, 403, 403, 403),
    "read_company[home]":    (200, 200,     200,    200, 403, 403, 403, 403, 403),
    "read_company[away]":    (200, 200,     200,    404, 403, 403, 403, 403, 403),
    "delete_company[home]":  (409, 409,     403,    403, 403, 403, 403, 403, 403),
    "delete_company[empty]": (204, 204,     403,    404, 403, 403, 403, 403, 403),
    "create_user[home]":     (200, 200,     403,    200, 403, 403, 403, 403, 403),
    "create_user[away]":     (200, 200,     403,    404, 403, 403, 403, 403, 403),
    "update_user[home]":     (200, 200,     403,    200, 403, 403, 403, 403, 403),
    "update_user[away]":     (200, 200,     403,    404, 403, 403, 403, 403, 403),
    "read_users":            (200, 200,     200,    200, 403, 403, 403, 403, 403),
    "read_user[home]":       (200, 200,     200,    200, 403, 403, 403, 403, 403),
    "read_user[away]":       (200, 200,     200,    404, 403, 403, 403, 403, 403),
    "delete_user[home]":     (204, 204,     403,    204, 403, 403, 403, 403, 403),
    "delete_user[away]":     (204, 204,     403,    404, 403, 403, 403, 403, 403),
}
# fmt: on

MATRIX_CELLS = [
    pytest.param(label, role, MATRIX[label][i], id=f"{label}-{role.value}")
    for label in OPERATIONS
    for i, role in enumerate(MATRIX_ROLES)
]


def test_matrix_covers_every_operation_and_role() -> None:
    assert set(MATRIX) == set(OPERATIONS)
    assert all(len(row) == len(MATRIX_ROLES) for row in MATRIX.values())
    assert set(MATRIX_ROLES) == set(Role)
    assert {op for op, *_ in OPERATIONS.values()} == {
        "create_company",
        "update_company",
        "read_companies",
        "read_company",
        "delete_company",
        "create_user",
        "update_user",
        "read_users",
        "read_user",
        "delete_user",
    }


@pytest.fixture
async def matrix_world(services: Services) -> None:
    await arrange_user(services, "peer", "home_co")
    await arrange_user(services, "victim", "away_co")
    await arrange_company(services, "empty_co")


@pytest.mark.parametrize(("label", "role", "expected"), MATRIX_CELLS)
async def test_permission_matrix(
    api: httpx.AsyncClient,
    make_user: UserFactory,
    services: Services,
    matrix_world: None,
    label: str,
    role: Role,
    expected: int,
) -> None:
    caller = await sign_in(api, make_user, "caller", [role], "home_co")
    operation, method, path, body = OPERATIONS[label]
    before = await snapshot(services)
    response = await api.request(method, path, json=body, headers=caller.headers)
    after = await snapshot(services)
    if expected == 404:
        assert_not_found(response, operation, client=caller.client_id)
    elif expected >= 400:
        assert_error(response, expected, operation, client=caller.client_id)
    else:
        assert response.status_code == expected, response.text
    if expected >= 400 or method == "GET":
        assert after == before  # refused or read: nothing changed
    else:
        assert after != before  # done: something changed
    if label == "read_users" and expected == 200:
        names = [u["username"] for u in response.json()["users"]]
        assert names == (["caller", "peer"] if role is Role.COMPANYOWNER else ["caller", "peer", "victim"])
    if label == "read_companies" and expected == 200:
        keys = [c["key"] for c in response.json()["companies"]]
        assert keys == (["home_co"] if role is Role.COMPANYOWNER else ["away_co", "empty_co", "home_co"])


@pytest.mark.parametrize("label", list(OPERATIONS))
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not.a.token", "Basic dXNlcjpwYXNz"])
async def test_every_operation_needs_a_valid_token(
    api: httpx.AsyncClient, services: Services, matrix_world: None, label: str, authorization: str | None
) -> None:
    operation, method, path, body = OPERATIONS[label]
    headers = {"Authorization": authorization} if authorization else {}
    before = await snapshot(services)
    response = await api.request(method, path, json=body, headers=headers)
    assert_error(response, 401, operation, client=ANONYMOUS)
    assert response.headers["www-authenticate"] == "Bearer"
    assert await snapshot(services) == before


# --------------------------------------------------------------------------------------------------------------
# lists: a data set with known answers

# username, company, roles, enabled, name, email, phone, timezone (created in this order, one minute apart)
PEOPLE: list[tuple[str, str, list[Role], bool, str | None, str | None, str | None, int]] = [
    ("root", "alpha_co", [Role.ADMIN], True, "Root Operator", "root@alpha.example", None, 0),
    ("alice", "alpha_co", [Role.COMPANYOWNER], True, "Alice Archer", "alice@alpha.example", "+71110000001", 3),
    ("bob", "alpha_co", [Role.USER], False, "Bob Baker", "bob@mail.example", "+71110000002", 3),
    ("carol", "alpha_co", [Role.CREW], True, "Carol Crew", None, "+71110000003", -5),
    ("dave", "beta_co", [Role.COMPANYOWNER, Role.USER], True, "Dave Dalton", "dave@beta.example", None, 1),
    ("erin", "beta_co", [Role.USER], True, "Erin Evans", "erin@mail.example", "+72220000001", 1),
    ("frank", "beta_co", [Role.BOT], False, "Frank Fisher", None, None, 0),
    ("grace", "beta_co", [Role.CREWMANAGER], True, "Grace Green", "grace@beta.example", "+72220000002", 12),
    ("heidi", "gamma_co", [Role.OVERLORD], True, "Heidi Hill", "heidi@gamma.example", None, -12),
    ("ivan", "gamma_co", [Role.SUPPORT], True, "Ivan Ivanov", "ivan@mail.example", "+73330000001", 3),
    ("judy", "gamma_co", [Role.PARTNER], False, None, "judy@gamma.example", "+73330000002", 0),
    ("mallory", "gamma_co", [], False, "Mallory M", None, None, 5),
]
BY_CREATION = [p[0] for p in PEOPLE]
SIGNS_IN = {"root", "alice", "ivan"}
ALL = {"total": 12, "active": 8, "blocked": 4, "admins": 4}


@dataclass
class Directory:
    root: Caller
    alice: Caller
    ivan: Caller


@pytest.fixture
async def directory(api: httpx.AsyncClient, services: Services, clock: OffsetClock) -> Directory:
    """Three companies and twelve users, created one minute apart (creation dates order as listed)."""
    details = {"alpha_co": "Alpha logistics", "beta_co": "Beta field service", "gamma_co": None}
    for key, detail in details.items():
        await arrange_company(services, key, detail)
        clock.advance(minutes=1)
    tokens: dict[str, Caller] = {}
    for username, company, roles, enabled, name, email, phone, tz in PEOPLE:
        password = PASSWORD if username in SIGNS_IN else None
        await arrange_user(
            services,
            username,
            company,
            roles,
            password=password,
            enabled=enabled,
            specification=name,
            email=email,
            phone=phone,
            timezone=tz,
        )
        if password:
            made = MadeUser(0, username, password, company, roles)
            tokens[username] = Caller(made, await login(api, made))
        clock.advance(minutes=1)
    return Directory(tokens["root"], tokens["alice"], tokens["ivan"])


async def list_users(api: httpx.AsyncClient, caller: Caller, **params: Any) -> tuple[list[str], dict[str, Any]]:
    response = await api.get(USERS, params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return [u["username"] for u in body["users"]], body["statistics"]


async def list_companies(api: httpx.AsyncClient, caller: Caller, **params: Any) -> tuple[list[str], dict[str, Any]]:
    response = await api.get(COMPANIES, params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return [c["key"] for c in body["companies"]], body["statistics"]


def counters(total: int, active: int, blocked: int, admins: int) -> dict[str, int]:
    return {"total": total, "active": active, "blocked": blocked, "admins": admins}


async def test_company_list_sorting_filtering_paging(api: httpx.AsyncClient, directory: Directory) -> None:
    root = directory.root
    three = {"overall": {"total": 3}, "filter": {"total": 3}}
    assert await list_companies(api, root) == (["alpha_co", "beta_co", "gamma_co"], three)
    response = await api.get(COMPANIES, headers=root.headers)
    assert response.json()["companies"] == [
        {"key": "alpha_co", "detail": "Alpha logistics", **REGIONAL},
        {"key": "beta_co", "detail": "Beta field service", **REGIONAL},
        {"key": "gamma_co", "detail": None, **REGIONAL},
    ]
    assert (await list_companies(api, root, sort_direction="DESC"))[0] == ["gamma_co", "beta_co", "alpha_co"]
    assert (await list_companies(api, root, sort_field="key", sort_direction="DESC"))[0] == [
        "gamma_co",
        "beta_co",
        "alpha_co",
    ]
    assert (await list_companies(api, root, sort_field="creation_date"))[0] == ["alpha_co", "beta_co", "gamma_co"]
    assert (await list_companies(api, root, sort_field="creation_date", sort_direction="DESC"))[0] == [
        "gamma_co",
        "beta_co",
        "alpha_co",
    ]
    # a null detail sorts as the largest value, on every backend
    assert (await list_companies(api, root, sort_field="detail"))[0] == ["alpha_co", "beta_co", "gamma_co"]
    assert (await list_companies(api, root, sort_field="detail", sort_direction="DESC"))[0] == [
        "gamma_co",
        "beta_co",
        "alpha_co",
    ]
    # filter: key or detail, any case, literal text (no LIKE wildcards)
    assert await list_companies(api, root, filter="LOGISTICS") == (
        ["alpha_co"],
        {"overall": {"total": 3}, "filter": {"total": 1}},
    )
    assert (await list_companies(api, root, filter="Beta"))[0] == ["beta_co"]
    assert (await list_companies(api, root, filter="mma_c"))[0] == ["gamma_co"]
    assert (await list_companies(api, root, filter="a_co"))[0] == ["alpha_co", "beta_co", "gamma_co"]
    assert (await list_companies(api, root, filter="ta%"))[1] == {"overall": {"total": 3}, "filter": {"total": 0}}
    assert (await list_companies(api, root, filter="e_c"))[0] == []  # "_" is not "any character"
    assert (await list_companies(api, root, filter="zzz")) == ([], {"overall": {"total": 3}, "filter": {"total": 0}})
    # paging
    assert (await list_companies(api, root, limit=2))[0] == ["alpha_co", "beta_co"]
    assert await list_companies(api, root, offset=2, limit=2) == (["gamma_co"], three)
    assert await list_companies(api, root, offset=3) == ([], three)
    assert await list_companies(api, root, offset=10_000_000, limit=10_000_000) == ([], three)
    assert (await list_companies(api, root, filter="a_co", sort_direction="DESC", offset=1, limit=1))[0] == ["beta_co"]
    # SUPPORT sees them all, a COMPANYOWNER only its own
    assert await list_companies(api, directory.ivan) == (["alpha_co", "beta_co", "gamma_co"], three)
    one = {"overall": {"total": 1}, "filter": {"total": 1}}
    assert await list_companies(api, directory.alice) == (["alpha_co"], one)
    assert await list_companies(api, directory.alice, filter="beta") == (
        [],
        {"overall": {"total": 1}, "filter": {"total": 0}},
    )


async def test_user_list_default_order_and_paging(api: httpx.AsyncClient, directory: Directory) -> None:
    root = directory.root
    alphabetical = sorted(BY_CREATION)
    assert alphabetical == [
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "grace",
        "heidi",
        "ivan",
        "judy",
        "mallory",
        "root",
    ]
    everything = {"overall": ALL, "filter": ALL}
    assert await list_users(api, root) == (alphabetical, everything)
    assert await list_users(api, root, limit=5) == (alphabetical[:5], everything)
    assert await list_users(api, root, offset=5, limit=5) == (["frank", "grace", "heidi", "ivan", "judy"], everything)
    assert await list_users(api, root, offset=10, limit=5) == (["mallory", "root"], everything)
    assert await list_users(api, root, offset=12) == ([], everything)
    assert await list_users(api, root, sort_direction="DESC", limit=3) == (["root", "mallory", "judy"], everything)
    # the full record of one user
    response = await api.get(USERS, params={"filter": "grace"}, headers=root.headers)
    assert response.json()["users"] == [
        {
            "username": "grace",
            "name": "Grace Green",
            "email": "grace@beta.example",
            "phone": "+72220000002",
            "company_key": "beta_co",
            "enabled": True,
            "roles": ["CREWMANAGER"],
            "timezone": 12,
        }
    ]


USER_ORDERS: dict[str, list[str]] = {
    "username": ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "root"],
    # nulls sort as the largest value; ties by creation
    "name": ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "mallory", "root", "judy"],
    "email": ["alice", "bob", "dave", "erin", "grace", "heidi", "ivan", "judy", "root", "carol", "frank", "mallory"],
    "phone": ["alice", "bob", "carol", "erin", "grace", "ivan", "judy", "root", "dave", "frank", "heidi", "mallory"],
    "enabled": ["bob", "frank", "judy", "mallory", "root", "alice", "carol", "dave", "erin", "grace", "heidi", "ivan"],
    "timezone": ["heidi", "carol", "root", "frank", "judy", "dave", "erin", "alice", "bob", "ivan", "mallory", "grace"],
    "creation_date": BY_CREATION,
    "edit_date": BY_CREATION,
}
# DESC reverses the values; ties stay in creation order
USER_ORDERS_DESC: dict[str, list[str]] = {
    "username": list(reversed(USER_ORDERS["username"])),
    "name": ["judy", "root", "mallory", "ivan", "heidi", "grace", "frank", "erin", "dave", "carol", "bob", "alice"],
    "email": ["carol", "frank", "mallory", "root", "judy", "ivan", "heidi", "grace", "erin", "dave", "bob", "alice"],
    "phone": ["root", "dave", "frank", "heidi", "mallory", "judy", "ivan", "grace", "erin", "carol", "bob", "alice"],
    "enabled": ["root", "alice", "carol", "dave", "erin", "grace", "heidi", "ivan", "bob", "frank", "judy", "mallory"],
    "timezone": ["grace", "mallory", "alice", "bob", "ivan", "dave", "erin", "root", "frank", "judy", "carol", "heidi"],
    "creation_date": list(reversed(BY_CREATION)),
    "edit_date": list(reversed(BY_CREATION)),
}


@pytest.mark.parametrize("field", list(USER_ORDERS))
async def test_user_list_sort_fields(api: httpx.AsyncClient, directory: Directory, field: str) -> None:
    assert (await list_users(api, directory.root, sort_field=field))[0] == USER_ORDERS[field]
    assert (await list_users(api, directory.root, sort_field=field, sort_direction="ASC"))[0] == USER_ORDERS[field]
    assert (await list_users(api, directory.root, sort_field=field, sort_direction="DESC"))[0] == USER_ORDERS_DESC[
        field
    ]
    # pages of a sorted list are slices of it
    pages = [(await list_users(api, directory.root, sort_field=field, offset=o, limit=5))[0] for o in (0, 5, 10)]
    assert pages[0] + pages[1] + pages[2] == USER_ORDERS[field]


async def test_user_list_edit_date_follows_changes(
    api: httpx.AsyncClient, directory: Directory, clock: OffsetClock
) -> None:
    h = directory.root.headers
    for username, company, roles in (("bob", "alpha_co", ["USER"]), ("erin", "beta_co", ["USER"])):
        clock.advance(minutes=1)
        kept = await api.put(USERS, json=user_body(username, company, roles), headers=h)  # changes nothing else
        assert kept.status_code == 200, kept.text
    rest = [u for u in BY_CREATION if u not in ("bob", "erin")]
    assert (await list_users(api, directory.root, sort_field="edit_date"))[0] == [*rest, "bob", "erin"]
    desc = (await list_users(api, directory.root, sort_field="edit_date", sort_direction="DESC"))[0]
    assert desc == ["erin", "bob", *reversed(rest)]
    assert (await list_users(api, directory.root, sort_field="creation_date"))[0] == BY_CREATION


async def test_user_list_filter_company_and_group(api: httpx.AsyncClient, directory: Directory) -> None:
    root = directory.root
    # text in username, name, email or phone; any case
    assert await list_users(api, root, filter="mail.example") == (
        ["bob", "erin", "ivan"],
        {"overall": ALL, "filter": counters(3, 2, 1, 0)},
    )
    assert await list_users(api, root, filter="an") == (
        ["erin", "frank", "ivan"],
        {"overall": ALL, "filter": counters(3, 2, 1, 0)},
    )
    assert (await list_users(api, root, filter="ALICE"))[0] == ["alice"]
    assert (await list_users(api, root, filter="+7222"))[0] == ["erin", "grace"]
    assert (await list_users(api, root, filter="Operator"))[0] == ["root"]
    assert (await list_users(api, root, filter="%"))[0] == []
    for odd in ("\\", "'", '"', "%_\\", "é", "😀", "a\nb"):
        assert (await list_users(api, root, filter=odd))[0] == [], odd
        assert (await list_companies(api, root, filter=odd))[0] == [], odd
    assert (await list_users(api, root, filter="_"))[0] == []  # no username here has "_": literal, not a wildcard
    # company
    assert await list_users(api, root, company_key="beta_co") == (
        ["dave", "erin", "frank", "grace"],
        {"overall": ALL, "filter": counters(4, 3, 1, 1)},
    )
    assert await list_users(api, root, company_key="no_such_co") == (
        [],
        {"overall": ALL, "filter": counters(0, 0, 0, 0)},
    )
    # groups: the filter counters describe the listed set
    assert await list_users(api, root, user_group="TOTAL") == (sorted(BY_CREATION), {"overall": ALL, "filter": ALL})
    assert await list_users(api, root, user_group="ACTIVE") == (
        ["alice", "carol", "dave", "erin", "grace", "heidi", "ivan", "root"],
        {"overall": ALL, "filter": counters(8, 8, 0, 4)},
    )
    assert await list_users(api, root, user_group="BLOCKED") == (
        ["bob", "frank", "judy", "mallory"],
        {"overall": ALL, "filter": counters(4, 0, 4, 0)},
    )
    assert await list_users(api, root, user_group="ADMINS") == (
        ["alice", "dave", "heidi", "root"],
        {"overall": ALL, "filter": counters(4, 4, 0, 4)},
    )
    # all at once
    assert await list_users(
        api, root, company_key="gamma_co", user_group="BLOCKED", sort_field="username", sort_direction="DESC"
    ) == (["mallory", "judy"], {"overall": ALL, "filter": counters(2, 0, 2, 0)})
    assert await list_users(
        api, root, filter="example", company_key="alpha_co", user_group="ACTIVE", sort_field="email", limit=1, offset=1
    ) == (["root"], {"overall": ALL, "filter": counters(2, 2, 0, 2)})


async def test_user_list_scope_of_support_and_companyowner(api: httpx.AsyncClient, directory: Directory) -> None:
    # SUPPORT reads everything
    assert await list_users(api, directory.ivan) == (sorted(BY_CREATION), {"overall": ALL, "filter": ALL})
    # a COMPANYOWNER: its company only, overall counters included
    alpha = counters(4, 3, 1, 2)
    alice = directory.alice
    assert await list_users(api, alice) == (["alice", "bob", "carol", "root"], {"overall": alpha, "filter": alpha})
    assert await list_users(api, alice, company_key="alpha_co") == (
        ["alice", "bob", "carol", "root"],
        {"overall": alpha, "filter": alpha},
    )
    nothing = {"overall": alpha, "filter": counters(0, 0, 0, 0)}
    assert await list_users(api, alice, company_key="beta_co") == ([], nothing)
    assert await list_users(api, alice, filter="mail.example") == (
        ["bob"],
        {"overall": alpha, "filter": counters(1, 0, 1, 0)},
    )
    assert await list_users(api, alice, filter="dave") == ([], nothing)
    assert await list_users(api, alice, user_group="ADMINS") == (
        ["alice", "root"],
        {"overall": alpha, "filter": counters(2, 2, 0, 2)},
    )


# --------------------------------------------------------------------------------------------------------------
# tenant isolation: a COMPANYOWNER cannot read, change, delete or even detect another company's users


def _same_answer(a: httpx.Response, b: httpx.Response, name_a: str, name_b: str) -> None:
    """Equal apart from the trace code and time, and the name the caller itself sent."""

    def normal(response: httpx.Response, name: str) -> tuple[int, Any, str]:
        body = response.json()
        for holder in (body, body.get("detail") or {}):
            if isinstance(holder, dict) and "tracedata" in holder:
                holder["tracedata"] = {k: v for k, v in holder["tracedata"].items() if k not in ("code", "time")}
        if body.get("resource_id") == name:
            body["resource_id"] = "<name>"
        return response.status_code, body, response.headers["content-type"]

    assert normal(a, name_a) == normal(b, name_b)


async def test_companyowner_cannot_detect_another_companys_users(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    owner = await sign_in(api, make_user, "owner", [Role.COMPANYOWNER], "own_co")
    await arrange_user(services, "staff", "own_co")
    victim = await make_user("victim", roles=[Role.USER], company="other_co", password="victim_password")
    victim_token = await login(api, victim)
    before = await snapshot(services)
    h = owner.headers

    probes: list[tuple[str, Callable[[str], Awaitable[httpx.Response]]]] = [
        ("read_user", lambda n: api.get(f"{USERS}/{n}", headers=h)),
        ("delete_user", lambda n: api.delete(f"{USERS}/{n}", headers=h)),
        ("update_user", lambda n: api.put(USERS, json=user_body(n, "own_co", ["USER"]), headers=h)),
        ("update_user", lambda n: api.put(USERS, json=user_body(n, "other_co", ["USER"]), headers=h)),
        ("update_user", lambda n: api.put(USERS, json=user_body(n, "own_co", [], password="taken_over"), headers=h)),
        ("update_user", lambda n: api.put(USERS, json=user_body(n, "own_co", [], enabled=False), headers=h)),
    ]
    for operation, probe in probes:
        existing, missing = await probe("victim"), await probe("ghost")
        assert_not_found(existing, operation, "victim", client=owner.client_id)
        assert_not_found(missing, operation, "ghost", client=owner.client_id)
        _same_answer(existing, missing, "victim", "ghost")

    company_probes: list[tuple[str, Callable[[str], Awaitable[httpx.Response]]]] = [
        ("read_company", lambda k: api.get(f"{COMPANIES}/{k}", headers=h)),
        ("update_company", lambda k: api.put(COMPANIES, json={"key": k, "detail": "mine now"}, headers=h)),
        ("delete_company", lambda k: api.delete(f"{COMPANIES}/{k}", headers=h)),
        ("create_user", lambda k: api.post(USERS, json=user_body("newbie", k, ["USER"]), headers=h)),
        ("update_user", lambda k: api.put(USERS, json=user_body("staff", k, ["USER"]), headers=h)),  # move out
    ]
    for operation, probe in company_probes:
        existing, missing = await probe("other_co"), await probe("ghost_co")
        assert_not_found(existing, operation, "other_co", client=owner.client_id)
        assert_not_found(missing, operation, "ghost_co", client=owner.client_id)
        _same_answer(existing, missing, "other_co", "ghost_co")

    list_probes: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"company_key": "other_co"}, {"company_key": "ghost_co"}),
        ({"filter": "victim"}, {"filter": "ghost"}),
        ({"filter": "victim", "company_key": "other_co"}, {"filter": "ghost", "company_key": "ghost_co"}),
    ]
    for params_a, params_b in list_probes:
        a = await api.get(USERS, params=params_a, headers=h)
        b = await api.get(USERS, params=params_b, headers=h)
        assert a.status_code == b.status_code == 200
        assert a.json() == b.json()
        assert a.json()["users"] == []
    a = await api.get(COMPANIES, params={"filter": "other"}, headers=h)
    b = await api.get(COMPANIES, params={"filter": "ghost"}, headers=h)
    assert a.json() == b.json() == {"companies": [], "statistics": {"overall": {"total": 1}, "filter": {"total": 0}}}

    # nothing changed anywhere, and the victim's session is alive
    assert await snapshot(services) == before
    assert (await api.get(INFO, headers=bearer(victim_token))).status_code == 200
    # while its own staff is fully manageable
    assert (await api.get(f"{USERS}/staff", headers=h)).status_code == 200
    renamed = await api.put(USERS, json=user_body("staff", "own_co", ["CREW"], name="Staff Member"), headers=h)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Staff Member"
    assert (await api.delete(f"{USERS}/staff", headers=h)).status_code == 204


async def test_companyowner_cannot_take_over_its_own_company(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    owner = await sign_in(api, make_user, "owner", [Role.COMPANYOWNER], "own_co")
    h = owner.headers
    before = await snapshot(services)
    assert_error(await api.post(COMPANIES, json={"key": "new_co"}, headers=h), 403, "create_company")
    assert_error(await api.put(COMPANIES, json={"key": "own_co", "detail": "x"}, headers=h), 403, "update_company")
    assert_error(await api.delete(f"{COMPANIES}/own_co", headers=h), 403, "delete_company")
    # nor promote itself
    promote = await api.put(USERS, json=user_body("owner", "own_co", ["COMPANYOWNER", "ADMIN"]), headers=h)
    assert_error(promote, 403, "update_user", client=owner.client_id)
    assert_error(await api.delete(f"{USERS}/owner", headers=h), 409, "delete_user")
    disable = await api.put(USERS, json=user_body("owner", "own_co", ["COMPANYOWNER"], enabled=False), headers=h)
    assert_error(disable, 409, "update_user")
    assert await snapshot(services) == before


# --------------------------------------------------------------------------------------------------------------
# an operator's change ends the user's sessions


async def test_password_change_through_put_kills_old_tokens(
    api: httpx.AsyncClient, admin: Caller, make_user: UserFactory
) -> None:
    h = admin.headers
    worker = await make_user("worker", roles=[Role.USER], company="crew_co", password="first_password")
    first = bearer(await login(api, worker))
    second = bearer(await login(api, worker))
    assert (await api.get(INFO, headers=first)).status_code == 200

    # a change without a password keeps the sessions
    renamed = await api.put(USERS, json=user_body("worker", "crew_co", ["USER"], name="Walter"), headers=h)
    assert renamed.status_code == 200
    assert (await api.get(INFO, headers=first)).status_code == 200
    # an explicit null password is "no change" too
    nulled = await api.put(USERS, json=user_body("worker", "crew_co", ["USER"], password=None), headers=h)
    assert nulled.status_code == 200
    assert (await api.get(INFO, headers=first)).status_code == 200

    changed = await api.put(USERS, json=user_body("worker", "crew_co", ["USER"], password="second_password"), headers=h)
    assert changed.status_code == 200 and "password" not in changed.json()
    for old in (first, second):
        dead = await api.get(INFO, headers=old)
        assert dead.status_code == 401, dead.text
    gen = "/account/token/generation"
    assert (await api.post(gen, json={"username": "worker", "password": "first_password"})).status_code == 401
    fresh = await api.post(gen, json={"username": "worker", "password": "second_password"})
    assert fresh.status_code == 200
    info = await api.get(INFO, headers=bearer(fresh.json()))
    assert info.status_code == 200 and info.json()["specification"] == "Walter"
    # the operator's own session is untouched
    assert (await api.get(f"{USERS}/worker", headers=h)).status_code == 200


async def test_disabling_and_moving_kill_old_tokens(
    api: httpx.AsyncClient, admin: Caller, make_user: UserFactory, services: Services
) -> None:
    h = admin.headers
    await arrange_company(services, "next_co")
    worker = await make_user("worker", roles=[Role.USER], company="crew_co", password="first_password")
    token = bearer(await login(api, worker))
    assert (
        await api.put(USERS, json=user_body("worker", "crew_co", ["USER"], enabled=False), headers=h)
    ).status_code == 200
    assert (await api.get(INFO, headers=token)).status_code == 401
    assert (
        await api.put(USERS, json=user_body("worker", "crew_co", ["USER"], enabled=True), headers=h)
    ).status_code == 200
    assert (await api.get(INFO, headers=token)).status_code == 401  # re-enabling does not revive it

    token = bearer(await login(api, worker))
    assert (await api.get(INFO, headers=token)).status_code == 200
    assert (await api.put(USERS, json=user_body("worker", "next_co", ["USER"]), headers=h)).status_code == 200
    assert (await api.get(INFO, headers=token)).status_code == 401
    token = bearer(await login(api, worker))
    assert (await api.get(INFO, headers=token)).json()["company_key"] == "next_co"


async def test_a_role_change_kills_old_tokens(api: httpx.AsyncClient, admin: Caller, make_user: UserFactory) -> None:
    """What a token may do is fixed when it is issued: a new set of roles ends it (an unchanged set does not)."""
    h = admin.headers
    worker = await make_user("worker", roles=[Role.USER], company="crew_co", password="first_password")
    token = bearer(await login(api, worker))
    assert (await api.put(USERS, json=user_body("worker", "crew_co", ["USER"]), headers=h)).status_code == 200
    assert (await api.get(INFO, headers=token)).status_code == 200  # the same roles: nothing ended
    promoted = await api.put(USERS, json=user_body("worker", "crew_co", ["USER", "COMPANYOWNER"]), headers=h)
    assert promoted.status_code == 200, promoted.text
    assert (await api.get(INFO, headers=token)).status_code == 401
    token = bearer(await login(api, worker))
    assert (await api.get(INFO, headers=token)).json()["roles"] == ["USER", "COMPANYOWNER"]
    assert (await api.put(USERS, json=user_body("worker", "crew_co", ["USER"]), headers=h)).status_code == 200
    assert (await api.get(INFO, headers=token)).status_code == 401  # a demotion as well


# --------------------------------------------------------------------------------------------------------------
# deleting a user and its company keeps a consistent audit trail


async def test_deleting_user_and_company_keeps_the_audit_trail(
    api: httpx.AsyncClient, admin: Caller, services: Services
) -> None:
    h = admin.headers
    start = datetime.now(UTC) - timedelta(minutes=1)
    assert (await api.post(COMPANIES, json={"key": "temp_co", "detail": "short-lived"}, headers=h)).status_code == 200
    created = await api.post(
        USERS, json=user_body("leaver", "temp_co", ["USER"], password="leaver_password"), headers=h
    )
    assert created.status_code == 200
    leaver = MadeUser(0, "leaver", "leaver_password", "temp_co", [Role.USER])
    token = bearer(await login(api, leaver))
    assert (await api.get(INFO, headers=token)).status_code == 200
    assert (await api.get(INFO, headers=token)).status_code == 200
    assert (await api.put(INFO, json={"specification": "Leaving soon"}, headers=token)).status_code == 200
    await services.audit.flush()

    def window(**kw: Any) -> AuditQuery:
        return AuditQuery(date_from=start, date_to=datetime.now(UTC) + timedelta(minutes=1), limit=1000, **kw)

    leaver_id = (await services.directory.get_user(PLATFORM, "leaver")).id
    temp_id = (await services.directory.get_company(PLATFORM, "temp_co")).id
    own, _, _ = await services.audit.search(window(user_id=leaver_id))
    assert sorted(a.operation for a in own) == ["read_info", "read_info", "update_info"]
    assert {(a.username, a.company_key, a.company_id, a.status) for a in own} == {
        ("leaver", "temp_co", temp_id, "FINISHED_IN_TIME")
    }
    codes = {a.process_code for a in own}

    assert (await api.delete(f"{USERS}/leaver", headers=h)).status_code == 204
    assert (await api.get(INFO, headers=token)).status_code == 401  # its token died with it
    assert (await api.delete(f"{COMPANIES}/temp_co", headers=h)).status_code == 204
    await services.audit.flush()

    everything, _, _ = await services.audit.search(window())
    kept = [a for a in everything if a.process_code in codes]
    assert len(kept) == 3
    for action in kept:  # who and where stay readable; the links to deleted rows are cleared
        assert (action.username, action.company_key, action.user_id, action.company_id) == (
            "leaver",
            "temp_co",
            None,
            None,
        )
    assert (await services.audit.search(window(user_id=leaver_id)))[0] == []
    assert (await services.audit.search(window(company_id=temp_id)))[0] == []
    # the operator's own writes are on record too
    mine = [(a.operation, a.status) for a in everything if a.username == "root_admin"]
    for operation in ("create_company", "create_user", "delete_user", "delete_company"):
        assert (operation, "FINISHED_IN_TIME") in mine, mine
    # a newcomer with the same name does not inherit the old trail
    assert (await api.post(COMPANIES, json={"key": "temp_co"}, headers=h)).status_code == 200
    assert (await api.post(USERS, json=user_body("leaver", "temp_co", ["USER"]), headers=h)).status_code == 200
    newcomer = await services.directory.get_user(PLATFORM, "leaver")
    assert (await services.audit.search(window(user_id=newcomer.id)))[0] == []
    assert len([a for a in (await services.audit.search(window()))[0] if a.process_code in codes]) == 3


async def test_audit_records_the_status_a_delete_answered(
    api: httpx.AsyncClient, admin: Caller, services: Services
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    await arrange_company(services, "temp_co")
    assert (await api.delete(f"{COMPANIES}/temp_co", headers=admin.headers)).status_code == 204
    await services.audit.flush()
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=start, date_to=datetime.now(UTC) + timedelta(minutes=1), operation="delete_company")
    )
    assert [(a.username, a.http_status) for a in rows] == [("root_admin", 204)]


# --------------------------------------------------------------------------------------------------------------
# concurrent writes on one object: each answers as if it ran alone, first or last (never a 5xx)


async def test_concurrent_writes_on_one_company_and_user(
    api: httpx.AsyncClient, admin: Caller, services: Services
) -> None:
    """Delete a company while a user is moved into it, another is created in it and its detail changes; delete
    a user while it is changed and deleted again. On PostgreSQL these really interleave (on SQLite writers queue)."""
    h = admin.headers
    await arrange_user(services, "mover", "home_co")
    for i in range(15):
        key, username = f"race_{i}_co", f"target_{i}"
        await arrange_company(services, key)
        await arrange_user(services, username, "home_co")
        answers = await asyncio.gather(
            api.delete(f"{COMPANIES}/{key}", headers=h),
            api.put(USERS, json=user_body("mover", key, ["USER"]), headers=h),
            api.put(COMPANIES, json={"key": key, "detail": "changed"}, headers=h),
            api.delete(f"{USERS}/{username}", headers=h),
            api.put(USERS, json=user_body(username, "home_co", ["USER"], name="New Name"), headers=h),
            api.delete(f"{USERS}/{username}", headers=h),
            api.post(USERS, json=user_body(f"newcomer_{i}", key, ["USER"]), headers=h),
        )
        statuses = [a.status_code for a in answers]
        allowed = [{204, 409}, {200, 404}, {200, 404}, {204, 404}, {200, 404}, {204, 404}, {200, 404}]
        assert all(s in ok for s, ok in zip(statuses, allowed, strict=True)), statuses
        for answer in answers:
            if answer.status_code == 404:
                assert_not_found(answer, answer.json()["detail"]["tracedata"]["operation"])
            elif answer.status_code == 409:
                assert_error(answer, 409, "delete_company")
        company = await api.get(f"{COMPANIES}/{key}", headers=h)
        mover = (await api.get(f"{USERS}/mover", headers=h)).json()
        # consistent: the company is gone exactly when its delete succeeded; the mover is where its PUT said
        assert company.status_code == (404 if statuses[0] == 204 else 200)
        assert mover["company_key"] == (key if statuses[1] == 200 else "home_co")
        assert (await api.get(f"{USERS}/{username}", headers=h)).status_code == 404
        assert statuses[3] == 204 or statuses[5] == 204
        # a user created into the company keeps it alive; one created after its delete finds no company
        assert not (statuses[0] == 204 and statuses[6] == 200), statuses
        newcomer = await api.get(f"{USERS}/newcomer_{i}", headers=h)
        assert newcomer.status_code == (200 if statuses[6] == 200 else 404)
        if statuses[1] == 200:  # move the mover home again for the next round
            back = await api.put(USERS, json=user_body("mover", "home_co", ["USER"]), headers=h)
            assert back.status_code == 200


# --------------------------------------------------------------------------------------------------------------
# validation at and just past every bound of seed 002

U256 = "u" * 256
K256 = "k" * 256
EMAIL_256 = "e" * (256 - len("@mail.example")) + "@mail.example"
PHONE_32 = "+" + "1 " * 15 + "1"  # the longest phone the client's pattern accepts: 32 characters
assert len(EMAIL_256) == 256 and len(PHONE_32) == 32

# (field, value, accepted) for the user body; accepted values create a user (POST)
USER_FIELD_CASES: list[tuple[str, Any, bool]] = [
    ("username", "a", False),
    ("username", "ab", True),
    ("username", U256, True),
    ("username", U256 + "u", False),
    ("username", "bad-name", False),
    ("username", "with space", False),
    ("username", "trailing\n", False),
    ("username", "", False),
    ("username", 12345, False),
    ("username", None, False),
    ("password", "nine_char", False),
    ("password", "ten_chars1", True),
    ("password", "p" * 256, True),
    ("password", "p" * 257, False),
    ("password", None, True),
    ("password", 12345, False),
    ("name", "N", False),
    ("name", "Nm", True),
    ("name", "n" * 256, True),
    ("name", "n" * 257, False),
    ("name", None, True),
    ("name", "bad\x00name", False),
    ("email", "a@b.", False),  # 4 characters
    ("email", "a@bcd", False),  # 5 characters, no domain dot
    ("email", "a@b.cd", True),
    ("email", EMAIL_256, True),
    ("email", "e" + EMAIL_256, False),
    ("email", "not an email", False),
    ("email", "two@@mail.example", False),
    ("email", None, True),
    ("phone", "+123", False),  # 4 characters
    ("phone", "+1234", False),  # 5 characters, too few digits for the pattern
    ("phone", "+71112223333", True),
    ("phone", PHONE_32, True),
    ("phone", PHONE_32 + "1", False),
    ("phone", "71112223333", False),
    ("phone", "+7 (111) 222", False),
    ("phone", None, True),
    ("company_key", "ab", False),
    ("company_key", "bad-key", False),
    ("company_key", K256 + "k", False),
    ("company_key", None, False),
    ("enabled", "yes", False),
    ("enabled", 1, False),
    ("enabled", None, False),
    ("enabled", False, True),
    ("roles", [], True),
    ("roles", ["USER", "CREW"], True),
    ("roles", ["USER", "CREW", "BOT"], False),
    ("roles", ["USER", "USER"], False),
    ("roles", ["GOD"], False),
    ("roles", ["user"], False),
    ("roles", "USER", False),
    ("roles", None, False),
    ("timezone", -13, False),
    ("timezone", -12, True),
    ("timezone", 12, True),
    ("timezone", 13, False),
    ("timezone", "3", False),
    ("timezone", 3.5, False),
    ("timezone", True, False),
]


def _case_id(case: tuple[str, Any, bool]) -> str:
    field, value, accepted = case
    shown = repr(value) if not isinstance(value, str) or len(value) <= 12 else f"<{len(value)} chars>"
    return f"{field}={shown}-{'ok' if accepted else 'bad'}"


@pytest.mark.parametrize("case", USER_FIELD_CASES, ids=[_case_id(c) for c in USER_FIELD_CASES])
async def test_user_body_bounds_on_create(
    api: httpx.AsyncClient, admin: Caller, services: Services, case: tuple[str, Any, bool]
) -> None:
    field, value, accepted = case
    await arrange_company(services, "crew_co")
    body = user_body("bounded", "crew_co", ["USER"], password="ten_chars1", name="Nm", email="a@b.cd")
    body[field] = value
    before = await snapshot(services)
    response = await api.post(USERS, json=body, headers=admin.headers)
    if accepted:
        assert response.status_code == 200, response.text
        expected = {k: v for k, v in body.items() if k != "password"}
        assert response.json() == {"enabled": True, "phone": None, "timezone": 0, **expected}
    else:
        assert_invalid(response, "create_user", field)
        assert await snapshot(services) == before


@pytest.mark.parametrize(
    "case", [c for c in USER_FIELD_CASES if not c[2]], ids=[_case_id(c) for c in USER_FIELD_CASES if not c[2]]
)
async def test_user_body_bounds_on_update(
    api: httpx.AsyncClient, admin: Caller, services: Services, case: tuple[str, Any, bool]
) -> None:
    field, value, _ = case
    await arrange_user(services, "bounded", "crew_co", [Role.USER], specification="Kept Name")
    body = user_body("bounded", "crew_co", ["USER"])
    body[field] = value
    before = await snapshot(services)
    response = await api.put(USERS, json=body, headers=admin.headers)
    assert_invalid(response, "update_user", field)
    assert await snapshot(services) == before


async def test_user_body_bounds_that_need_a_company(api: httpx.AsyncClient, admin: Caller, services: Services) -> None:
    h = admin.headers
    await arrange_company(services, "abc")
    await arrange_company(services, K256)
    for key in ("abc", K256):
        response = await api.post(USERS, json=user_body(f"member_{len(key)}", key, ["USER"]), headers=h)
        assert response.status_code == 200 and response.json()["company_key"] == key
    # a well-formed key that names nothing is not found, not invalid
    assert_not_found(await api.post(USERS, json=user_body("member_x", "xyz", ["USER"]), headers=h), "create_user")


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "a string",
        {},
        {"username": "only_name"},
        {"company_key": "crew_co", "roles": []},
        {"username": "no_roles", "company_key": "crew_co"},
    ],
    ids=["no-body", "array", "string", "empty", "no-company-roles", "no-username", "no-roles"],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_user_body_shape(
    api: httpx.AsyncClient, admin: Caller, services: Services, method: str, body: Any
) -> None:
    await arrange_user(services, "only_name", "crew_co")
    await arrange_user(services, "no_roles", "crew_co")
    before = await snapshot(services)
    response = await api.request(method, USERS, json=body, headers=admin.headers)
    assert_error(response, 400, "create_user" if method == "POST" else "update_user")
    assert await snapshot(services) == before


async def test_user_body_not_json(api: httpx.AsyncClient, admin: Caller) -> None:
    headers = {**admin.headers, "Content-Type": "application/json"}
    for method in ("POST", "PUT"):
        response = await api.request(method, USERS, content=b'{"username": "x"', headers=headers)
        assert_error(response, 400, "create_user" if method == "POST" else "update_user")


# (field, value, accepted) for the company body
COMPANY_FIELD_CASES: list[tuple[str, Any, bool]] = [
    ("key", "ab", False),
    ("key", "abc", True),
    ("key", K256, True),
    ("key", K256 + "k", False),
    ("key", "bad-key", False),
    ("key", "a b c", False),
    ("key", "abc\n", False),
    ("key", None, False),
    ("key", 12345, False),
    ("detail", "", True),
    ("detail", "d" * 1024, True),
    ("detail", "d" * 1025, False),
    ("detail", None, True),
    ("detail", 5, False),
    ("detail", "nul\x00", False),
]


@pytest.mark.parametrize("case", COMPANY_FIELD_CASES, ids=[_case_id(c) for c in COMPANY_FIELD_CASES])
async def test_company_body_bounds(
    api: httpx.AsyncClient, admin: Caller, services: Services, case: tuple[str, Any, bool]
) -> None:
    field, value, accepted = case
    body: dict[str, Any] = {"key": "bounded_co", "detail": "something"}
    body[field] = value
    if accepted:
        created = await api.post(COMPANIES, json=body, headers=admin.headers)
        assert created.status_code == 200, created.text
        assert created.json() == {**body, **REGIONAL}
        body["detail"] = value if field == "detail" else "changed"
        updated = await api.put(COMPANIES, json=body, headers=admin.headers)
        assert updated.status_code == 200 and updated.json() == {**body, **REGIONAL}
    else:
        await arrange_company(services, "bounded_co", "something")
        before = await snapshot(services)
        assert_invalid(await api.post(COMPANIES, json=body, headers=admin.headers), "create_company", field)
        assert_invalid(await api.put(COMPANIES, json=body, headers=admin.headers), "update_company", field)
        assert await snapshot(services) == before


@pytest.mark.parametrize("body", [None, [], {}, {"detail": "no key"}], ids=["no-body", "array", "empty", "no-key"])
async def test_company_body_shape(api: httpx.AsyncClient, admin: Caller, body: Any) -> None:
    assert_error(await api.post(COMPANIES, json=body, headers=admin.headers), 400, "create_company")
    assert_error(await api.put(COMPANIES, json=body, headers=admin.headers), 400, "update_company")


LIST_PARAM_CASES: list[tuple[str, Any, bool]] = [
    ("offset", -1, False),
    ("offset", 0, True),
    ("offset", 10_000_000, True),
    ("offset", 10_000_001, False),
    ("offset", "ten", False),
    ("limit", 0, False),
    ("limit", 1, True),
    ("limit", 10_000_000, True),
    ("limit", 10_000_001, False),
    ("limit", "", False),
    ("filter", "", False),
    ("filter", "f", True),
    ("filter", "f" * 64, True),
    ("filter", "f" * 65, False),
    ("filter", "nul\x00", False),  # no text anywhere can hold it (PostgreSQL refuses it outright)
    ("sort_field", "", False),
    ("sort_field", "creation_date", True),
    ("sort_field", "s" * 65, False),
    ("sort_field", "password_hash", False),
    ("sort_field", "id", False),
    ("sort_direction", "ASC", True),
    ("sort_direction", "DESC", True),
    ("sort_direction", "desc", False),
    ("sort_direction", "UP", False),
]
USER_LIST_CASES: list[tuple[str, Any, bool]] = [
    ("company_key", "ab", False),
    ("company_key", "abc", True),
    ("company_key", K256, True),
    ("company_key", K256 + "k", False),
    ("company_key", "bad-key", False),
    ("user_group", "TOTAL", True),
    ("user_group", "ACTIVE", True),
    ("user_group", "BLOCKED", True),
    ("user_group", "ADMINS", True),
    ("user_group", "ALL", False),
    ("user_group", "admins", False),
    ("sort_field", "username", True),
    ("sort_field", "name", True),
    ("sort_field", "email", True),
    ("sort_field", "phone", True),
    ("sort_field", "enabled", True),
    ("sort_field", "timezone", True),
    ("sort_field", "edit_date", True),
    ("sort_field", "key", False),
    ("sort_field", "company_key", False),
    ("sort_field", "roles", False),
]
COMPANY_LIST_CASES: list[tuple[str, Any, bool]] = [
    ("sort_field", "key", True),
    ("sort_field", "detail", True),
    ("sort_field", "username", False),
    ("sort_field", "name", False),
    ("sort_field", "edit_date", False),
]
LIST_CASES = [(USERS, "read_users", c) for c in LIST_PARAM_CASES + USER_LIST_CASES] + [
    (COMPANIES, "read_companies", c) for c in LIST_PARAM_CASES + COMPANY_LIST_CASES
]


@pytest.mark.parametrize(
    ("path", "operation", "case"), LIST_CASES, ids=[f"{op}-{_case_id(c)}" for _, op, c in LIST_CASES]
)
async def test_list_query_bounds(
    api: httpx.AsyncClient, admin: Caller, path: str, operation: str, case: tuple[str, Any, bool]
) -> None:
    field, value, accepted = case
    response = await api.get(path, params={field: value}, headers=admin.headers)
    if accepted:
        assert response.status_code == 200, response.text
    else:
        assert_invalid(response, operation, field)


PATH_CASES: list[tuple[str, str, str, bool]] = [
    # (method, path, operationId, accepted: the name is well-formed, so an unknown one is 404, else 400)
    ("GET", f"{USERS}/a", "read_user", False),
    ("GET", f"{USERS}/ab", "read_user", True),
    ("GET", f"{USERS}/{U256}", "read_user", True),
    ("GET", f"{USERS}/{U256}u", "read_user", False),
    ("GET", f"{USERS}/bad-name", "read_user", False),
    ("GET", f"{USERS}/bad%20name", "read_user", False),
    ("DELETE", f"{USERS}/a", "delete_user", False),
    ("DELETE", f"{USERS}/{U256}u", "delete_user", False),
    ("DELETE", f"{USERS}/bad.name", "delete_user", False),
    ("GET", f"{COMPANIES}/ab", "read_company", False),
    ("GET", f"{COMPANIES}/abc", "read_company", True),
    ("GET", f"{COMPANIES}/{K256}", "read_company", True),
    ("GET", f"{COMPANIES}/{K256}k", "read_company", False),
    ("GET", f"{COMPANIES}/bad-key", "read_company", False),
    ("DELETE", f"{COMPANIES}/ab", "delete_company", False),
    ("DELETE", f"{COMPANIES}/{K256}k", "delete_company", False),
    ("DELETE", f"{COMPANIES}/bad-key", "delete_company", False),
]


@pytest.mark.parametrize(
    ("method", "path", "operation", "accepted"),
    PATH_CASES,
    ids=[f"{m}-{p.rsplit('/', 1)[-1][:12]}-{len(p)}" for m, p, _, _ in PATH_CASES],
)
async def test_path_parameter_bounds(
    api: httpx.AsyncClient, admin: Caller, method: str, path: str, operation: str, accepted: bool
) -> None:
    response = await api.request(method, path, headers=admin.headers)
    if accepted:
        assert_not_found(response, operation)
    else:
        entity = "username" if path.startswith(USERS) else "key"
        assert_invalid(response, operation, entity)


async def test_company_timezone_locale_and_currency(api: httpx.AsyncClient, admin: Caller, services: Services) -> None:
    h = admin.headers
    body = {"key": "tz_co", "detail": "East", "timezone": "Asia/Yekaterinburg", "locale": "en", "currency": "USD"}
    created = await api.post(COMPANIES, json=body, headers=h)
    assert created.status_code == 200 and created.json() == body
    # a PUT changes what it names and keeps what it leaves out (the fields are additive)
    moved = await api.put(
        COMPANIES, json={"key": "tz_co", "detail": "East", "timezone": "Europe/Kaliningrad"}, headers=h
    )
    assert moved.json() == {**body, "timezone": "Europe/Kaliningrad"}
    assert (await api.get(f"{COMPANIES}/tz_co", headers=h)).json()["currency"] == "USD"
    # a new company takes the deployment's defaults (CABINET_DEFAULT_TIMEZONE / _LOCALE / _CURRENCY)
    assert services.directory.defaults.zone == "Europe/Moscow"
    plain = await api.post(COMPANIES, json={"key": "plain_co"}, headers=h)
    assert plain.json() == {"key": "plain_co", "detail": None, **REGIONAL}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "../../etc/passwd"),
        ("timezone", ""),
        ("timezone", "x" * 65),
        ("timezone", None),
        ("timezone", 3),
        ("locale", "de"),
        ("locale", None),
        ("currency", "XYZ"),
        ("currency", "rub"),
        ("currency", None),
    ],
)
async def test_company_regional_settings_are_validated(
    api: httpx.AsyncClient, admin: Caller, services: Services, field: str, value: Any
) -> None:
    await arrange_company(services, "valid_tz_co", "kept")
    before = await snapshot(services)
    body = {"key": "valid_tz_co", field: value}
    assert_invalid(await api.put(COMPANIES, json=body, headers=admin.headers), "update_company", field)
    assert_invalid(
        await api.post(COMPANIES, json={**body, "key": "other_tz_co"}, headers=admin.headers), "create_company", field
    )
    assert await snapshot(services) == before
