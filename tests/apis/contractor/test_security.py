"""Security of the contractor API: the salted-hash sign-in (replays refused forever, locked users), tokens that
die (lock, password change, service-token reuse), the verifier sealed at rest, caller kinds, contractor A vs B,
tenant X vs Y, and no password material in any answer."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import httpx
from sqlalchemy import event, select

from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.registry import Services
from cabinet.models import ContractorVerifier
from tests.apis.contractor.support import PASSWORD, Tenant, bearer, call_body, make_tenant, signin_body
from tests.helpers import UserFactory, login


async def test_sign_in_codes_and_replayed_salts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    username, _ = await tenant.register(client)
    salt = os.urandom(24)
    first = await client.post("/user/signin", json=signin_body(username, salt=salt))
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert tokens["access"]["expiresIn"] > 0 and tokens["service"]["expiresIn"] > tokens["access"]["expiresIn"]
    # the same captured pair, again and after other sign-ins: refused forever (code 2)
    replay = await client.post("/user/signin", json=signin_body(username, salt=salt))
    assert (replay.status_code, replay.json()) == (401, {"errorCode": 2})
    assert (await client.post("/user/signin", json=signin_body(username))).status_code == 200
    replay = await client.post("/user/signin", json=signin_body(username, salt=salt))
    assert (replay.status_code, replay.json()) == (401, {"errorCode": 2})
    # wrong password, unknown user: code 1 (a replayed salt with a wrong password is just a wrong password)
    for body in (
        signin_body(username, password="wrong_pw"),
        signin_body(username, password="wrong_pw", salt=salt),
        signin_body("nobody_here"),
    ):
        answer = await client.post("/user/signin", json=body)
        assert (answer.status_code, answer.json()) == (401, {"errorCode": 1}), body
    # a salt outside 16..32 bytes or not base64 is a bad request
    for salt_value in (base64.b64encode(b"x" * 15).decode(), base64.b64encode(b"x" * 33).decode(), "not base64!!"):
        body = {**signin_body(username), "salt": salt_value}
        answer = await client.post("/user/signin", json=body)
        assert (answer.status_code, answer.json()) == (400, {"errorCode": 0}), salt_value


async def test_a_salt_is_per_user(client: httpx.AsyncClient, tenant: Tenant) -> None:
    salt = os.urandom(16)
    for _ in range(2):
        username, _ = await tenant.register(client)
        assert (await client.post("/user/signin", json=signin_body(username, salt=salt))).status_code == 200


async def test_lock_kills_tokens_and_refuses_sign_in_until_unlocked(client: httpx.AsyncClient, tenant: Tenant) -> None:
    username, user_id = await tenant.register(client)
    tokens = await tenant.sign_in(client, username)
    access, service = bearer(tokens["access"]["token"]), bearer(tokens["service"]["token"])
    assert (await client.get("/user/self", headers=access)).json() == {"id": user_id, "name": username}
    assert (await client.post(f"/user/{user_id}/lock", headers=tenant.erp)).status_code == 204
    assert (await client.get("/user/self", headers=access)).status_code == 401
    assert (await client.get("/call", headers=access)).status_code == 401
    assert (await client.post("/user/token", headers=service)).status_code == 401
    locked = await client.post("/user/signin", json=signin_body(username))
    assert (locked.status_code, locked.json()) == (401, {"errorCode": 5})
    # a locked user's password cannot be changed (the seed's 401 code 3)
    change = await client.post(
        f"/user/{user_id}/changePassword", json={"newPassword": "another_pw"}, headers=tenant.erp
    )
    assert (change.status_code, change.json()) == (401, {"errorCode": 3})
    assert (await client.post(f"/user/{user_id}/unlock", headers=tenant.erp)).status_code == 204
    assert (await client.get("/user/self", headers=access)).status_code == 401  # old tokens stay dead
    assert (await client.post("/user/signin", json=signin_body(username))).status_code == 200


async def test_change_password(client: httpx.AsyncClient, tenant: Tenant) -> None:
    username, user_id = await tenant.register(client)
    access = bearer((await tenant.sign_in(client, username))["access"]["token"])
    short = await client.post(f"/user/{user_id}/changePassword", json={"newPassword": "abcd"}, headers=tenant.erp)
    assert (short.status_code, short.json()) == (400, {"errorCode": 0})
    done = await client.post(
        f"/user/{user_id}/changePassword", json={"newPassword": "brand_new_pw"}, headers=tenant.erp
    )
    assert done.status_code == 204 and done.content == b""
    assert (await client.get("/user/self", headers=access)).status_code == 401
    old = await client.post("/user/signin", json=signin_body(username))
    assert (old.status_code, old.json()) == (401, {"errorCode": 1})
    assert (await client.post("/user/signin", json=signin_body(username, password="brand_new_pw"))).status_code == 200


async def test_service_token_rotation_and_reuse(client: httpx.AsyncClient, tenant: Tenant) -> None:
    username, _ = await tenant.register(client)
    first = await tenant.sign_in(client, username)
    other_session = await tenant.sign_in(client, username)
    # an access token is not a service token, and the other way round
    assert (await client.post("/user/token", headers=bearer(first["access"]["token"]))).status_code == 401
    assert (await client.get("/user/self", headers=bearer(first["service"]["token"]))).status_code == 401
    second = await client.post("/user/token", headers=bearer(first["service"]["token"]))
    assert second.status_code == 200
    pair = second.json()
    assert (await client.get("/user/self", headers=bearer(pair["access"]["token"]))).status_code == 200
    # the spent token comes back (a thief, or the victim after a theft): the family and every token die
    reuse = await client.post("/user/token", headers=bearer(first["service"]["token"]))
    assert (reuse.status_code, reuse.json()) == (401, {"errorCode": 1})
    for token in (pair["access"]["token"], pair["service"]["token"], other_session["access"]["token"]):
        assert (await client.get("/user/self", headers=bearer(token))).status_code == 401
    assert (await client.post("/user/token", headers=bearer(pair["service"]["token"]))).status_code == 401
    assert (await client.post("/user/signin", json=signin_body(username))).status_code == 200


async def test_verifier_is_sealed_at_rest(client: httpx.AsyncClient, tenant: Tenant, app: Any) -> None:
    _, user_id = await tenant.register(client)
    clear = hashlib.sha256(PASSWORD.encode()).digest()
    async with app.state.runtime.resources.db.engine.connect() as conn:
        sealed = (
            await conn.execute(select(ContractorVerifier.sealed).where(ContractorVerifier.user_id == user_id))
        ).scalar_one()
    assert clear not in sealed and base64.b64encode(clear) not in sealed and clear.hex().encode() not in sealed
    assert len(sealed) == 12 + 32 + 16  # nonce, SHA-256 sealed, GCM tag


async def test_caller_kinds(client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner_id, mine = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    cid, task_id = call["id"], call["tasks"][0]["id"]
    erp_only = [
        ("POST", "/call", call_body(owner_id)),
        ("PATCH", f"/call/{cid}", {"tto": None}),
        ("POST", f"/call/{cid}/close", None),
        ("POST", f"/call/{cid}/dispatcher/message", {"message": "x", "date": "2026-01-01T00:00:00Z"}),
        ("POST", f"/call/{cid}/unjeopardy", {"answerComment": "x"}),
        ("PATCH", "/systemSettings", {"callCostDeadlineDayOfMonth": 3}),
        ("POST", "/user/register", {"userName": "sneaky", "password": "sneaky_pw_1"}),
        ("POST", f"/user/{owner_id}/lock", None),
        ("POST", f"/user/{owner_id}/changePassword", {"newPassword": "sneaky_pw_1"}),
    ]
    for method, path, body in erp_only:
        answer = await client.request(method, path, json=body, headers=mine)
        assert (answer.status_code, answer.json()) == (403, {"errorCode": 0}), (method, path)
    contractor_only = [
        ("POST", f"/call/{cid}/status", {"status": "Committed"}),
        ("POST", f"/call/{cid}/message", {"message": "x"}),
        ("POST", f"/call/{cid}/jeopardy", {"comment": "x"}),
        ("POST", f"/calltask/{task_id}/status", {"status": "Done"}),
        ("GET", "/notification", None),
        ("POST", "/notification/readAll", None),
    ]
    for method, path, body in contractor_only:
        answer = await client.request(method, path, json=body, headers=tenant.erp)
        assert (answer.status_code, answer.json()) == (403, {"errorCode": 0}), (method, path)
    for headers in ({}, {"Authorization": "Bearer"}, bearer("garbage"), bearer("0123456789abcdef." + "A" * 43)):
        answer = await client.get(f"/call/{cid}", headers=headers)
        assert (answer.status_code, answer.json()) == (401, {"errorCode": 1}), headers
    # the seed's apiKey scheme: the bare value without "Bearer " works too
    bare = {"Authorization": mine["Authorization"].removeprefix("Bearer ")}
    assert (await client.get(f"/call/{cid}", headers=bare)).status_code == 200


async def test_contractor_a_cannot_see_or_touch_contractor_b(
    client: httpx.AsyncClient, tenant: Tenant, services: Services
) -> None:
    a_id, a = await tenant.contractor(client)
    b_id, b = await tenant.contractor(client)
    call_b = await tenant.dispatch(client, b_id)
    call_a = await tenant.dispatch(client, a_id)
    cid, task_id = call_b["id"], call_b["tasks"][0]["id"]
    assert (await client.post(f"/call/{cid}/status", json={"status": "Committed"}, headers=b)).status_code == 200
    await client.post(f"/call/{cid}/message", json={"message": "b's secret"}, headers=b)
    for method, path, body in (
        ("GET", f"/call/{cid}", None),
        ("POST", f"/call/{cid}/status", {"status": "Done"}),
        ("POST", f"/call/{cid}/message", {"message": "x"}),
        ("POST", f"/call/{cid}/jeopardy", {"comment": "x"}),
        ("GET", f"/calltask/{task_id}", None),
        ("POST", f"/calltask/{task_id}/status", {"status": "Done"}),
        ("GET", f"/calltask/{task_id}/result", None),
    ):
        answer = await client.request(method, path, json=body, headers=a)
        assert (answer.status_code, answer.json()) == (404, {"errorCode": 1}), (method, path)
    # a's views hold only a's call; nothing of b leaks through lists or feeds
    listed = await client.get("/call", headers=a)
    assert [c["id"] for c in listed.json()] == [call_a["id"]] and listed.headers["X-Total-Count"] == "1"
    assert [c["id"] for c in (await client.get("/call/modifications/0", headers=a)).json()] == [call_a["id"]]
    assert (await client.get("/call/messages/modifications/0", headers=a)).json() == []
    assert {t["id"] for t in (await client.get("/calltask", headers=a)).json()} == {t["id"] for t in call_a["tasks"]}
    assert {t["callId"] for t in (await client.get("/calltask/modifications/0", headers=a)).json()} == {call_a["id"]}
    notes_a = (await client.get("/notification", headers=a)).json()
    assert {n["callId"] for n in notes_a} == {call_a["id"]}
    note_b = (await client.get("/notification", headers=b)).json()[0]["id"]
    assert (await client.post(f"/notification/{note_b}/read", headers=a)).status_code == 404
    # b's call is unchanged
    assert (await client.get(f"/call/{cid}", headers=b)).json()["status"] == "Committed"
    # a CREWMANAGER of the company sees both
    boss_user = await services.identity.create_user(
        UserCreate(username="crew_boss", password=PASSWORD, company_key=tenant.company, roles=[Role.CREWMANAGER])
    )
    boss_id = boss_user.id  # the ERP sets its password: that seals its sign-in verifier
    assert (
        await client.post(f"/user/{boss_id}/changePassword", json={"newPassword": PASSWORD}, headers=tenant.erp)
    ).status_code == 204
    boss = bearer((await tenant.sign_in(client, "crew_boss"))["access"]["token"])
    assert {c["id"] for c in (await client.get("/call", headers=boss)).json()} == {call_a["id"], cid}


async def test_tenant_x_cannot_touch_tenant_y(client: httpx.AsyncClient, tenant: Tenant, services: Services) -> None:
    other = await make_tenant(services)
    y_owner, y_headers = await other.contractor(client)
    call_y = await other.dispatch(client, y_owner)
    cid = call_y["id"]
    x = tenant.erp
    for method, path, body in (
        ("GET", f"/call/{cid}", None),
        ("PATCH", f"/call/{cid}", {"tto": None}),
        ("POST", f"/call/{cid}/close", None),
        ("POST", f"/call/{cid}/dispatcher/message", {"message": "x", "date": "2026-01-01T00:00:00Z"}),
        ("POST", f"/call/{cid}/unjeopardy", {"answerComment": "x"}),
        ("GET", f"/calltask/{call_y['tasks'][0]['id']}", None),
    ):
        answer = await client.request(method, path, json=body, headers=x)
        assert (answer.status_code, answer.json()) == (404, {"errorCode": 1}), (method, path)
    for path in (f"/user/{y_owner}/lock", f"/user/{y_owner}/unlock"):
        answer = await client.post(path, headers=x)
        assert (answer.status_code, answer.json()) == (404, {"errorCode": 3}), path
    answer = await client.post(f"/user/{y_owner}/changePassword", json={"newPassword": "hijack_pw_1"}, headers=x)
    assert (answer.status_code, answer.json()) == (404, {"errorCode": 3})
    # X cannot dispatch to Y's contractor, and X's feeds hold nothing of Y
    answer = await client.post("/call", json=call_body(y_owner), headers=x)
    assert (answer.status_code, answer.json()) == (404, {"errorCode": 3})
    for feed in (
        "/call/modifications/0",
        "/call/messages/modifications/0",
        "/call/jeopardies/modifications/0",
        "/calltask/modifications/0",
        "/calltask",
        "/call",
    ):
        assert (await client.get(feed, headers=x)).json() == [], feed
    # Y's contractor is untouched and still works
    assert (await client.get(f"/call/{cid}", headers=y_headers)).status_code == 200
    # the ERP cannot manage anyone but contractor staff of its company (not itself, not an owner)
    owner = await services.identity.create_user(
        UserCreate(username="x_owner", password=PASSWORD, company_key=tenant.company, roles=[Role.COMPANYOWNER])
    )
    assert (await client.post(f"/user/{owner.id}/lock", headers=x)).status_code == 404


async def test_no_password_material_in_answers(client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner_id, mine = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    written = await client.post(f"/call/{call['id']}/message", json={"message": "hello"}, headers=mine)
    assert written.status_code == 200
    assert written.json()["owner"] == {"id": owner_id, "name": next(iter(tenant.contractors))}
    feed = (await client.get("/call/messages/modifications/0", headers=tenant.erp)).text
    verifier = hashlib.sha256(PASSWORD.encode()).digest()
    for text in (written.text, feed, (await client.get(f"/call/{call['id']}", headers=tenant.erp)).text):
        lowered = text.lower()
        assert "password" not in lowered and "salt" not in lowered and "argon2" not in lowered
        assert base64.b64encode(verifier).decode() not in text and verifier.hex() not in text


async def test_a_password_changed_elsewhere_ends_the_old_salted_sign_in(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    username, user_id = await tenant.register(client)
    token = (await client.post("/account/token/generation", json={"username": username, "password": PASSWORD})).json()
    changed = await client.post(
        "/account/password",
        json={"current_password": PASSWORD, "new_password": "changed_in_account_api"},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    # the verifier was sealed for the old password: it no longer opens, the old password is refused here too
    old = await client.post("/user/signin", json=signin_body(username))
    assert (old.status_code, old.json()) == (401, {"errorCode": 1})
    # the external system sets a password: the salted sign-in works again with it
    reset = await client.post(f"/user/{user_id}/changePassword", json={"newPassword": "set_by_erp"}, headers=tenant.erp)
    assert reset.status_code == 204
    assert (await client.post("/user/signin", json=signin_body(username, password="set_by_erp"))).status_code == 200


async def test_a_user_who_owns_calls_cannot_be_deleted(
    client: httpx.AsyncClient, tenant: Tenant, make_user: UserFactory
) -> None:
    owner_id, _ = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    admin = await make_user(roles=[Role.ADMIN], company="platform_ops")
    headers = bearer(await login(client, admin))
    username = next(iter(tenant.contractors))
    refused = await client.delete(f"/admin/users/{username}", headers=headers)
    assert refused.status_code == 409, refused.text
    kept = await client.get(f"/call/{call['id']}", headers=tenant.erp)
    assert kept.status_code == 200 and kept.json()["userId"] == owner_id
    # a contractor without calls can be deleted, with its sign-in material
    other, _ = await tenant.register(client)
    assert (await client.delete(f"/admin/users/{other}", headers=headers)).status_code == 204
    gone = await client.post("/user/signin", json=signin_body(other))
    assert (gone.status_code, gone.json()) == (401, {"errorCode": 1})


async def test_known_and_unknown_names_take_the_same_path(
    client: httpx.AsyncClient, tenant: Tenant, services: Services
) -> None:
    """A wrong sign-in for a known name runs the very statements an unknown name does (one query), and the same
    check (a sealed verifier opened, a digest compared): nothing in the work says the name exists."""
    username, _ = await tenant.register(client)
    statements: list[str] = []
    checks: list[bool] = []
    engine = services.contractors.db.engine.sync_engine

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    opened = services.contractors._sealer.open

    def counted_open(*args: Any, **kwargs: Any) -> bytes:
        checks.append(True)
        return opened(*args, **kwargs)

    services.contractors._sealer.open = counted_open  # type: ignore[method-assign]
    event.listen(engine, "before_cursor_execute", note)
    try:
        paths = []
        for name in (username, "nobody_here_at_all"):
            statements.clear()
            checks.clear()
            answer = await client.post("/user/signin", json=signin_body(name, password="wrong_pw"))
            assert (answer.status_code, answer.json()) == (401, {"errorCode": 1})
            paths.append(([s for s in statements if "audit" not in s.lower()], len(checks)))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert paths[0] == paths[1]
    assert paths[0][1] == 1 and len(paths[0][0]) >= 1
