"""The web pages over HTTP: sessions, CSRF, tenant isolation, and the actions going through the domain services
(audited like the APIs). What a person sees in a real browser is tests/e2e/test_web_browser.py."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR
from tests.apis.contractor.support import PASSWORD, make_tenant
from tests.apis.web.support import csrf_of, page_token, sign_in, web_client
from tests.helpers import UserFactory, bearer, login


async def test_root_and_ui_lead_to_the_login_page(client: httpx.AsyncClient) -> None:
    for path in ("/", "/ui", "/ui/"):
        answer = await client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/ui/login"
    login = await client.get("/ui/login")
    assert login.status_code == 200
    assert 'for="username"' in login.text and 'for="password"' in login.text
    assert "default-src 'self'" in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"


async def test_session_cookie_is_secure_httponly_samesite(browser_a: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user(roles=[Role.USER])
    answer = await sign_in(browser_a, user.username, user.password)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/calls"
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("cabinet_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path"} <= attributes
    assert "samesite=lax" in cookie.lower() and "path=/ui" in cookie.lower()
    account = await browser_a.get("/ui/account")
    assert account.status_code == 200 and user.username in account.text


async def test_wrong_password_unknown_user_and_throttling(
    browser_a: httpx.AsyncClient, make_user: UserFactory, settings: Any
) -> None:
    user = await make_user()
    wrong = await sign_in(browser_a, user.username, "not-the-password")
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    assert "cabinet_session" not in browser_a.cookies
    unknown = await sign_in(browser_a, "nobody_here", "whatever1")
    assert unknown.status_code == 401 and "Wrong username or password" in unknown.text
    limit = int(settings.login_failures_per_username.split("/")[0])
    for _ in range(limit):
        await sign_in(browser_a, user.username, "not-the-password")
    throttled = await sign_in(browser_a, user.username, user.password)  # even the right password now waits
    assert throttled.status_code == 429 and "Too many failed attempts" in throttled.text
    assert throttled.headers["retry-after"]


async def test_forms_without_a_valid_csrf_token_are_refused(
    app: Any, browser_a: httpx.AsyncClient, browser_b: httpx.AsyncClient, make_user: UserFactory, services: Any
) -> None:
    owner = await make_user(roles=[Role.COMPANYOWNER], company="csrf_co")
    other = await make_user(roles=[Role.COMPANYOWNER], company="csrf_co")
    await sign_in(browser_a, owner.username, owner.password)
    await sign_in(browser_b, other.username, other.password)
    token_b = await page_token(browser_b, "/ui/account")
    # the login form itself: no token, or a token of another browser
    async with web_client(app) as fresh:
        await fresh.get("/ui/login")
        refused_login = await fresh.post("/ui/login", data={"username": owner.username, "password": owner.password})
        assert refused_login.status_code == 403
        assert "cabinet_session" not in fresh.cookies
    attempts = [
        ("/ui/account/profile", {"name": "Forged Name"}),
        ("/ui/admin/users", {"username": "forged_user", "password": "forged_pw1"}),
        ("/ui/admin/companies/csrf_co/networks", {"cidr": "10.0.0.0/8"}),
        (
            "/ui/account/password",
            {"current_password": owner.password, "new_password": "x" * 12, "repeat_password": "x" * 12},
        ),
        ("/ui/logout", {}),
    ]
    for path, data in attempts:
        for token in (None, token_b, "0" * 64):  # missing, another session's, made up
            body = dict(data, **({"csrf_token": token} if token else {}))
            answer = await browser_a.post(path, data=body)
            assert answer.status_code == 403, (path, token, answer.status_code)
            assert "did not come from this site" in answer.text
        header = await browser_a.post(path, data=data, headers={"X-CSRF-Token": token_b, "HX-Request": "true"})
        assert header.status_code == 403
    account = await services.identity.get_account_by_id(owner.id)
    assert account.specification is None
    assert await services.credentials.list_networks(_operator(account), "csrf_co") == []
    assert (await browser_a.get("/ui/account")).status_code == 200  # still signed in: logout was refused too
    # and with the right token the same form works
    token_a = await page_token(browser_a, "/ui/account")
    saved = await browser_a.post("/ui/account/profile", data={"name": "Real Name", "csrf_token": token_a})
    assert saved.status_code == 303
    assert (await services.identity.get_account_by_id(owner.id)).specification == "Real Name"


def _operator(user: Any) -> Any:
    from cabinet.core.principal import CredentialKind, principal_of

    return principal_of(user, CredentialKind.ACCESS, None)


async def test_a_page_never_shows_another_tenants_data(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any, make_user: UserFactory
) -> None:
    tenant_a = await make_tenant(services, "tenant_alpha")
    tenant_b = await make_tenant(services, "tenant_beta")
    name_a, id_a = await tenant_a.register(client)
    name_b, id_b = await tenant_b.register(client)
    call_a = await tenant_a.dispatch(client, id_a, clientName="Alpha Secret Client")
    call_b = await tenant_b.dispatch(client, id_b, clientName="Beta Client")
    owner_b = await make_user(roles=[Role.COMPANYOWNER], company="tenant_beta")

    await sign_in(browser_a, name_b, PASSWORD)
    queue = await browser_a.get("/ui/calls")
    assert "Beta Client" in queue.text and "Alpha Secret Client" not in queue.text
    assert (await browser_a.get(f"/ui/calls/{call_b['id']}")).status_code == 200
    foreign = await browser_a.get(f"/ui/calls/{call_a['id']}")
    assert foreign.status_code == 404 and "Alpha Secret Client" not in foreign.text
    token = await page_token(browser_a, "/ui/calls")
    for path, data in (
        (f"/ui/calls/{call_a['id']}/status", {"status": "Committed"}),
        (f"/ui/calls/{call_a['id']}/message", {"message": "hello"}),
        (f"/ui/calls/{call_a['id']}/jeopardy", {"comment": "late"}),
    ):
        assert (await browser_a.post(path, data={**data, "csrf_token": token})).status_code == 404, path
    assert (await client.get(f"/call/{call_a['id']}", headers=tenant_a.erp)).json()["status"] == "New"

    await browser_a.post("/ui/logout", data={"csrf_token": token})
    await sign_in(browser_a, owner_b.username, owner_b.password)
    users = await browser_a.get("/ui/admin/users")
    assert name_b in users.text and name_a not in users.text
    asked_for_alpha = await browser_a.get("/ui/admin/users", params={"company": "tenant_alpha"})
    assert asked_for_alpha.status_code == 200 and name_a not in asked_for_alpha.text  # the scope still holds
    own = await browser_a.get("/ui/admin/users", params={"company": "tenant_beta"})
    assert name_b in own.text and "Company: tenant_beta" in own.text
    assert (await browser_a.get("/ui/admin/users", params={"company": "no such'key"})).status_code == 400
    assert (await browser_a.get(f"/ui/admin/users/{name_a}")).status_code == 404
    assert (await browser_a.get("/ui/admin/companies/tenant_alpha")).status_code == 404
    companies = await browser_a.get("/ui/admin/companies")
    assert "tenant_beta" in companies.text and "tenant_alpha" not in companies.text
    await services.audit.flush()
    audit = await browser_a.get("/ui/admin/audit")
    assert audit.status_code == 200
    assert tenant_a.company not in audit.text and name_a not in audit.text
    token = await page_token(browser_a, "/ui/admin/users")
    issued = await browser_a.post(f"/ui/admin/users/{name_a}/keys", data={"csrf_token": token})
    assert issued.status_code == 404


async def test_contractor_works_a_call_and_each_action_is_audited(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    tenant = await make_tenant(services)
    name, user_id = await tenant.register(client)
    call = await tenant.dispatch(client, user_id, critical=True)
    await sign_in(browser_a, name, PASSWORD)
    queue = await browser_a.get("/ui/calls?critical=yes")
    assert call["number"] in queue.text and "Critical" in queue.text
    token = await page_token(browser_a, f"/ui/calls/{call['id']}")
    base = f"/ui/calls/{call['id']}"

    returned = await browser_a.post(f"{base}/status", data={"status": "Committed", "csrf_token": token})
    assert returned.status_code == 303
    no_comment = await browser_a.post(f"{base}/status", data={"status": "New", "csrf_token": token})
    assert no_comment.status_code == 400  # returning needs a comment: the domain's rule, shown as a page
    thread = await browser_a.post(
        f"{base}/message", data={"message": "On my way", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert thread.status_code == 200 and 'id="thread"' in thread.text and "On my way" in thread.text
    assert "<html" not in thread.text  # a fragment for htmx, not a page
    jeopardy = await browser_a.post(f"{base}/jeopardy", data={"comment": "Parts are late", "csrf_token": token})
    assert jeopardy.status_code == 303
    task_id = call["tasks"][0]["id"]
    task = await browser_a.post(
        f"/ui/tasks/{task_id}/status", data={"status": "Done", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert task.status_code == 200 and "Done" in task.text
    done = await browser_a.post(f"{base}/status", data={"status": "Done", "csrf_token": token})
    assert done.status_code == 303
    state = (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()
    assert state["status"] == "Done" and state["jeopardies"][0]["comment"] == "Parts are late"
    page = await browser_a.get(base)
    assert "On my way" in page.text and "Parts are late" in page.text

    await services.audit.flush()
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=now - timedelta(hours=1), date_to=now + timedelta(hours=1), username=name, limit=100)
    )
    operations = {(r.service, r.operation, r.status) for r in rows}
    assert ("STUDIO", "ui_setCallStatus", "FINISHED_IN_TIME") in operations
    assert ("STUDIO", "ui_setCallStatus", "FAILED") in operations  # the refused return
    assert ("STUDIO", "ui_postCallMessage", "FINISHED_IN_TIME") in operations
    assert ("STUDIO", "ui_getCall", "FINISHED_IN_TIME") in operations
    # each change names its object as people do (the call's number); looking at a page names none
    targets = {(r.operation, r.target) for r in rows}
    assert ("ui_setCallStatus", f"call {call['number']}") in targets
    assert ("ui_raiseCallJeopardy", f"call {call['number']}") in targets
    assert ("ui_setCallTaskStatus", f"call {call['number']}") in targets
    assert {r.target for r in rows if r.operation == "ui_getCall"} == {None}


async def test_notifications_and_unread_badge(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    tenant = await make_tenant(services)
    name, user_id = await tenant.register(client)
    await tenant.dispatch(client, user_id)
    await tenant.dispatch(client, user_id)
    await sign_in(browser_a, name, PASSWORD)
    badge = await browser_a.get("/ui/notifications/badge", headers={"HX-Request": "true"})
    assert re.search(r'class="badge count">2<span class="visually-hidden"> unread notifications<', badge.text)
    # the same count, out of band, beside a phone's folded menu
    assert re.search(r'<span id="unread-menu" hx-swap-oob="innerHTML"><span class="badge count">2<', badge.text)
    listing = await browser_a.get("/ui/notifications")
    assert "2 unread" in listing.text
    # the badge speaks the viewer's saved language, not the browser's (the locale cookie forgotten)
    switched = await browser_a.post("/ui/account/locale", data={"csrf_token": csrf_of(listing.text), "locale": "ru"})
    assert switched.status_code == 303
    browser_a.cookies.delete("cabinet_locale")
    badge = await browser_a.get("/ui/notifications/badge", headers={"HX-Request": "true"})
    assert "> непрочитанных уведомления<" in badge.text, badge.text
    listed = (await browser_a.get("/ui/notifications")).text  # the domain's English notice, said in Russian
    assert "was assigned" not in listed and re.search(r"Назначена новая заявка</strong>: №\u00a0\d{8} · ", listed)
    marked = await browser_a.post("/ui/notifications/read-all", data={"csrf_token": csrf_of(listing.text)})
    assert marked.status_code == 303
    emptied = (await browser_a.get("/ui/notifications/badge")).text
    assert emptied == '<span id="unread-menu" hx-swap-oob="innerHTML"></span>', emptied  # both places emptied


async def test_password_change_and_lock_end_other_sessions(
    app: Any, browser_a: httpx.AsyncClient, browser_b: httpx.AsyncClient, make_user: UserFactory
) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="ops_co")
    worker = await make_user(roles=[Role.USER], company="ops_co")
    await sign_in(browser_a, worker.username, worker.password)
    await sign_in(browser_b, worker.username, worker.password)
    token = await page_token(browser_a, "/ui/account")
    changed = await browser_a.post(
        "/ui/account/password",
        data={
            "current_password": worker.password,
            "new_password": "brand_new_pw_1",
            "repeat_password": "brand_new_pw_1",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 303
    assert (await browser_a.get("/ui/account")).status_code == 200  # this session got the new token
    ended = await browser_b.get("/ui/account")
    assert ended.status_code == 303 and ended.headers["location"].startswith("/ui/login")

    async with web_client(app) as operator:
        await sign_in(operator, admin.username, admin.password)
        token = await page_token(operator, f"/ui/admin/users/{worker.username}")
        locked = await operator.post(f"/ui/admin/users/{worker.username}/lock", data={"csrf_token": token})
        assert locked.status_code == 303
    gone = await browser_a.get("/ui/account")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/ui/login")
    again = await sign_in(browser_a, worker.username, "brand_new_pw_1")
    assert again.status_code == 401 and "locked" in again.text


async def test_a_role_or_company_change_ends_web_sessions(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, make_user: UserFactory
) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="ops_co")
    worker = await make_user(roles=[Role.USER], company="ops_co")
    headers = {"Authorization": f"Bearer {await login(client, admin)}"}
    body = {"username": worker.username, "company_key": "ops_co", "roles": ["USER"]}
    made = await client.post("/admin/companies", json={"key": "next_co", "detail": "moved here"}, headers=headers)
    assert made.status_code == 200, made.text
    for change in ({"roles": ["USER", "COMPANYOWNER"]}, {"company_key": "next_co"}):
        await sign_in(browser_a, worker.username, worker.password)
        assert (await browser_a.get("/ui/account")).status_code == 200
        body.update(change)
        changed = await client.put("/admin/users", json=body, headers=headers)
        assert changed.status_code == 200, changed.text
        ended = await browser_a.get("/ui/account")
        assert ended.status_code == 303 and ended.headers["location"].startswith("/ui/login"), change


async def test_signing_out_ends_the_session_on_the_server(
    app: Any, client: httpx.AsyncClient, browser_a: httpx.AsyncClient, make_user: UserFactory, services: Any
) -> None:
    worker = await make_user(roles=[Role.USER], company="signout_co")
    await sign_in(browser_a, worker.username, worker.password)
    copied = browser_a.cookies["cabinet_session"]  # what a stolen or shared cookie would carry
    # the web's token is no API credential: the Account API refuses it as a bearer token
    bearer = await client.get("/account/info", headers={"Authorization": f"Bearer {copied}"})
    assert bearer.status_code == 401, bearer.text
    async with web_client(app) as second:  # the same person on a second device stays signed in
        await sign_in(second, worker.username, worker.password)
        token = await page_token(browser_a, "/ui/account")
        out = await browser_a.post("/ui/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        assert "cabinet_session" not in browser_a.cookies
        async with web_client(app) as thief:
            thief.cookies.set("cabinet_session", copied, domain="testserver", path="/ui")
            refused = await thief.get("/ui/account")
            assert refused.status_code == 303 and refused.headers["location"].startswith("/ui/login")
            assert (await thief.get("/ui/login")).status_code == 200  # the login page, not a loop back home
        assert (await second.get("/ui/account")).status_code == 200
        own = second.cookies["cabinet_session"]
        token = await page_token(second, "/ui/account")
        assert (await second.post("/ui/logout", data={"csrf_token": token})).status_code == 303
    # ending it again, twice at once (a double click, a replayed form), or ending what is no web session: no error
    await asyncio.gather(*(services.identity.end_web_session(t) for t in (own, own, copied, "not-a-token")))
    api_token = await login(client, worker)
    await services.identity.end_web_session(api_token)
    assert (await client.get("/account/info", headers={"Authorization": f"Bearer {api_token}"})).status_code == 200


async def test_operator_creates_a_user_and_a_key_shown_once(
    browser_a: httpx.AsyncClient, make_user: UserFactory, services: Any
) -> None:
    owner = await make_user(roles=[Role.COMPANYOWNER], company="keys_co")
    await sign_in(browser_a, owner.username, owner.password)
    token = await page_token(browser_a, "/ui/admin/users")
    created = await browser_a.post(
        "/ui/admin/users",
        data={
            "username": "new_hand",
            "password": "new_hand_pw",
            "roles": ["USER"],
            "zone": "Europe/Samara",
            "csrf_token": token,
        },
    )
    assert created.status_code == 303 and created.headers["location"] == "/ui/admin/users/new_hand"
    platform = await browser_a.post(
        "/ui/admin/users",
        data={"username": "wannabe", "password": "wannabe_pw", "roles": ["ADMIN"], "csrf_token": token},
    )
    assert platform.status_code == 403  # an owner may not give platform roles: the directory's rule
    issued = await browser_a.post("/ui/admin/users/new_hand/keys", data={"name": "erp", "csrf_token": token})
    assert issued.status_code == 303 and issued.headers["location"] == "/ui/admin/users/new_hand#keys"
    assert "new-key" not in issued.text
    shown = await browser_a.get("/ui/admin/users/new_hand")  # Post/Redirect/Get: the secret is on the next page
    key = re.search(r'id="new-key">([^<]+)<', shown.text).group(1)  # type: ignore[union-attr]
    principal = await services.credentials.authenticate_key(key)
    assert principal.username == "new_hand" and principal.company_key == "keys_co"
    later = await browser_a.get("/ui/admin/users/new_hand")  # a reload: shown once, nothing new minted
    assert key not in later.text and key[:20] in later.text and "new-key" not in later.text
    assert len(await services.credentials.list_keys(PLATFORM_OPERATOR, "new_hand")) == 1
    assert '<option value="Europe/Samara" selected>' in later.text  # its own zone (the integer follows: +4)
    # each zone named as a person looks for it: the place in the page's language, today's offset, the IANA name
    assert "Samara (UTC+4) · Europe/Samara</option>" in later.text
    await services.audit.flush()
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=now - timedelta(hours=1), date_to=now + timedelta(hours=1), operation="ui_create_api_key")
    )
    assert rows and all(r.input_blob is None and r.output_blob is None for r in rows)  # the secret is never kept


async def test_usage_chart_and_reports(browser_a: httpx.AsyncClient, make_user: UserFactory, services: Any) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="usage_co")
    await sign_in(browser_a, admin.username, admin.password)
    await browser_a.get("/ui/account")
    listing = await browser_a.get("/ui/admin/users")  # looking is free: the chart counts the change below
    created = await browser_a.post(
        "/ui/admin/companies", data={"key": "usage_co_new", "csrf_token": csrf_of(listing.text)}
    )
    assert created.status_code == 303
    await services.audit.flush()
    usage = await browser_a.get(f"/ui/admin/usage?username={admin.username}")
    assert usage.status_code == 200
    assert '<svg class="chart wide"' in usage.text and "<rect" in usage.text and "Administration" in usage.text
    assert '<svg class="chart narrow"' in usage.text  # drawn again for a phone: fewer, readable day labels
    assert usage.text.count('fill="#b3261e"') == 2  # the Admin API's one colour, on both drawings
    report = await browser_a.get(f"/ui/admin/usage/report?username={admin.username}")
    assert report.status_code == 200 and report.content[:2] == b"PK"
    own = await browser_a.get("/ui/account/report")
    assert own.status_code == 200 and own.content[:2] == b"PK"
    bad = await browser_a.get("/ui/admin/usage?date_from=yesterday")
    assert bad.status_code == 400 and "not a date" in bad.text
    support_only = await make_user(roles=[Role.USER], company="usage_co")
    async with web_client(browser_a._transport.app) as other:  # type: ignore[attr-defined]
        await sign_in(other, support_only.username, support_only.password)
        assert (await other.get("/ui/admin/usage")).status_code == 403


async def test_audit_search_downloads_a_payload(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, make_user: UserFactory, services: Any
) -> None:
    from tests.helpers import login

    admin = await make_user(roles=[Role.ADMIN], company="audit_co")
    token = await login(client, admin)
    changed = await client.put(
        "/account/info",
        json={"email": "ops@example.com", "specification": "Пётр Иванов"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200
    assert (await client.get("/account/info", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    await services.audit.flush()
    await sign_in(browser_a, admin.username, admin.password)
    # changes by default (the read of /account/info is a toggle away); the operation matches on part of its name
    found = await browser_a.get(f"/ui/admin/audit?username={admin.username}&service=ACCOUNT&operation=DATE_inf")
    assert found.status_code == 200 and "update_info" in found.text and ">read_info<" not in found.text
    assert 'aria-current="page">Changes<' in found.text
    reads = await browser_a.get(f"/ui/admin/audit?username={admin.username}&service=ACCOUNT&kind=reads")
    assert ">read_info<" in reads.text and ">update_info<" not in reads.text
    everything = await browser_a.get(f"/ui/admin/audit?username={admin.username}&service=ACCOUNT&kind=all")
    assert ">read_info<" in everything.text and ">update_info<" in everything.text
    assert "update_info" not in (await browser_a.get("/ui/admin/audit?operation=update%25")).text  # % is a letter
    # a person reads what was done, the code stays beside it for integrators; the search matches either
    assert ">Edit account info<" in everything.text and ">Read account info<" in everything.text
    assert 'class="op-code">update_info<' in everything.text
    by_label = await browser_a.get(f"/ui/admin/audit?username={admin.username}&kind=all&operation=edit%20ACCOUNT")
    assert ">Edit account info<" in by_label.text and ">Read account info<" not in by_label.text
    link = re.search(r'href="(/ui/admin/audit/[0-9a-f-]{36}/input)"', found.text)
    assert link
    payload = await browser_a.get(link.group(1))
    assert payload.status_code == 200 and payload.headers["content-type"] == "application/json; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="update_info_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_input.json"',
        payload.headers["content-disposition"],
    )
    assert '"specification": "Пётр Иванов"' in payload.content.decode("utf-8")  # letters, not \\u escapes
    assert payload.json()["email"] == "ops@example.com"
    assert (await browser_a.get("/ui/admin/audit?service=NOPE")).status_code == 400
    missing = await browser_a.get("/ui/admin/audit/00000000-0000-4000-8000-000000000000/input")
    assert missing.status_code == 404


async def test_looking_at_pages_takes_nothing_from_the_quota(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, make_user: UserFactory, services: Any
) -> None:
    """A person whose ACCOUNT reads are limited to 2 points a day opens the Account page five times: every look
    is audited with 0 points and the API's own reads still have their 2 points."""
    from datetime import UTC, datetime, timedelta

    from cabinet.core.metering import ProcessType, Service
    from cabinet.domains.quotas.schemas import QuotaSpec

    user = await make_user()
    account = await services.identity.get_account_by_id(user.id)
    spec = QuotaSpec(
        Service.ACCOUNT, ProcessType.NOTRACE, points_per_request=1, points_per_day=2, max_concurrent_execution=1
    )
    await services.quotas.replace_for_user(user.id, account.company_id, [spec])
    await sign_in(browser_a, user.username, user.password)
    looks = [(await browser_a.get("/ui/account")).status_code for _ in range(5)]
    assert looks == [200] * 5
    token = await login(client, user)
    api = [
        (await client.get("/account/info", headers={"Authorization": f"Bearer {token}"})).status_code for _ in range(3)
    ]
    assert api == [200, 200, 402]
    await services.audit.flush()
    now = datetime.now(UTC)
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=now - timedelta(hours=1), date_to=now + timedelta(hours=1), username=user.username)
    )
    views = [r for r in rows if r.operation == "ui_read_account"]
    assert len(views) == 5 and {r.request_points for r in views} == {0}


async def test_the_pages_carry_the_deployment_s_brand(app: Any, tmp_path: Any) -> None:
    settings = app.state.runtime.settings
    async with web_client(app) as browser:
        plain = await browser.get("/ui/login")
        assert "/ui/brand-logo" not in plain.text  # the product's own mark beside its name
        assert '<img class="mark" src="/ui/static/favicon.svg" alt="" width="28" height="28">cabinet</a>' in plain.text
        assert (await browser.get("/ui/brand-logo")).status_code == 404  # no logo set
        logo = tmp_path / "logo.svg"
        logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>', encoding="utf-8")
        settings.brand_name, settings.brand_logo_path = "Сервис ТО", logo
        branded = await browser.get("/ui/login")
        assert '<img src="/ui/brand-logo" alt="">Сервис ТО</a>' in branded.text
        assert re.search(r"<title>[^<]+ · Сервис ТО</title>", branded.text)
        served = await browser.get("/ui/brand-logo")
        assert served.status_code == 200 and served.headers["content-type"] == "image/svg+xml"
        settings.brand_logo_path = tmp_path / "logo.exe"  # not an image type: never served
        (tmp_path / "logo.exe").write_bytes(b"MZ")
        assert (await browser.get("/ui/brand-logo")).status_code == 404


async def test_a_contractor_s_account_page_shows_no_keys_quota_or_points(
    client: httpx.AsyncClient,
    browser_a: httpx.AsyncClient,
    browser_b: httpx.AsyncClient,
    make_user: UserFactory,
    services: Any,
) -> None:
    tenant = await make_tenant(services)
    name, _user_id = await tenant.register(client)  # through the contractor API, as the company's system does
    await sign_in(browser_a, name, PASSWORD)
    mine = await browser_a.get("/ui/account")
    assert mine.status_code == 200 and "Profile" in mine.text and "Password" in mine.text
    for absent in ("My API keys", "My quota", "My usage", "/ui/account/report"):
        assert absent not in mine.text, absent
    api_user = await make_user(roles=[Role.PARTNER])  # an API user keeps them
    await sign_in(browser_b, api_user.username, api_user.password)
    theirs = await browser_b.get("/ui/account")
    assert "My API keys" in theirs.text and "My quota" in theirs.text and "My usage" in theirs.text


async def test_operators_are_offered_only_what_they_may_do(app: Any, make_user: UserFactory) -> None:
    """Roles offered are the ones the viewer may give, grouped and explained; SUPPORT sees no form at all."""
    owner = await make_user(roles=[Role.COMPANYOWNER], company="grant_co")
    worker = await make_user(roles=[Role.USER], company="grant_co")
    admin = await make_user(roles=[Role.ADMIN], company="grant_ops")
    support = await make_user(roles=[Role.SUPPORT], company="grant_ops")
    async with web_client(app) as browser:
        await sign_in(browser, owner.username, owner.password)
        users = await browser.get("/ui/admin/users")
        assert 'value="COMPANYOWNER"' in users.text and 'value="CREW"' in users.text
        for platform in ("ADMIN", "OVERLORD", "SUPPORT"):
            assert f'value="{platform}"' not in users.text, platform
        assert "Field work" in users.text and "accepts and works its own calls" in users.text
        assert 'aria-describedby="new-role-USER-hint"' in users.text
    async with web_client(app) as browser:
        await sign_in(browser, admin.username, admin.password)
        page = await browser.get(f"/ui/admin/users/{worker.username}")
        assert 'value="ADMIN"' in page.text and 'value="SUPPORT"' in page.text
        assert 'value="OVERLORD"' not in page.text  # only an OVERLORD gives that one
        assert f'action="/ui/admin/users/{worker.username}"' in page.text
    async with web_client(app) as browser:
        await sign_in(browser, support.username, support.password)
        for path in ("/ui/admin/users", f"/ui/admin/users/{worker.username}", "/ui/admin/companies/grant_co"):
            seen = await browser.get(path)
            assert seen.status_code == 200, path
            assert '<form method="post" action="/ui/admin' not in seen.text, path  # read-only: nothing to submit
        shown = await browser.get(f"/ui/admin/users/{worker.username}")
        assert "<dt>Roles</dt><dd>Contractor employee</dd>" in shown.text  # the details, read-only


async def test_the_queue_searches_number_address_and_text_in_the_own_company_only(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    tenant_a = await make_tenant(services, "tenant_search_a")
    tenant_b = await make_tenant(services, "tenant_search_b")
    name_a, id_a = await tenant_a.register(client)
    _name_b, id_b = await tenant_b.register(client)
    lenina = await tenant_a.dispatch(client, id_a, clientName="Client Lenina", serviceObjectAddress="ул. Ленина, 5")
    boiler = await tenant_a.dispatch(
        client, id_a, clientName="Client Boiler", descriptionTextForFieldEmployee="The BOILER leaks_100%"
    )
    await tenant_b.dispatch(client, id_b, clientName="Foreign Lenina", serviceObjectAddress="ул. Ленина, 7")

    await sign_in(browser_a, name_a, PASSWORD)

    async def found(q: str) -> list[str]:
        page = await browser_a.get("/ui/calls", params={"q": q})
        assert page.status_code == 200
        return re.findall(r"Client \w+|Foreign \w+", page.text)

    assert await found("Ленина") == ["Client Lenina"]  # the address; not the other company's call
    assert await found("ЛЕНИНА") == await found("ленина") == ["Client Lenina"]  # any case, Cyrillic too
    assert await found("boiler") == ["Client Boiler"]  # the description, any case
    assert await found("leaks_100%") == ["Client Boiler"]  # % and _ are plain characters
    assert await found("leaks_1000") == []
    assert await found(boiler["number"]) == ["Client Boiler"]
    assert sorted(await found("")) == ["Client Boiler", "Client Lenina"]
    assert lenina["number"] != boiler["number"]
    too_long = await browser_a.get("/ui/calls", params={"q": "x" * 201})
    assert too_long.status_code == 400  # the error page, not a 500


async def test_opening_a_call_from_a_notification_marks_it_read(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    tenant = await make_tenant(services)
    name, user_id = await tenant.register(client)
    call = await tenant.dispatch(client, user_id, descriptionTextForFieldEmployee="First line\nSecond line")
    await tenant.dispatch(client, user_id)
    await sign_in(browser_a, name, PASSWORD)
    listing = await browser_a.get("/ui/notifications")
    links = re.findall(rf'href="(/ui/calls/{call["id"]}\?notification=\d+)"', listing.text)
    assert len(links) == 1, listing.text
    opened = await browser_a.get(links[0])
    assert opened.status_code == 200
    assert '<p class="keep-lines">First line\nSecond line</p>' in opened.text  # the line break stays
    assert "1 unread" in (await browser_a.get("/ui/notifications")).text
    assert (await browser_a.get(f"/ui/calls/{call['id']}?notification=999999")).status_code == 200  # stale: no matter
    assert (await browser_a.get(f"/ui/calls/{call['id']}?notification=0")).status_code == 400


async def test_the_audit_names_what_each_change_was_about(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, services: Any
) -> None:
    """An operator's changes on the pages and through the Admin API name their object; the audit page says it in
    the reader's language."""
    operator = await make_user(roles=[Role.COMPANYOWNER], company="target_co")
    worker = await make_user(roles=[Role.USER], company="target_co")
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, operator.username, operator.password)
        token = await page_token(browser, f"/ui/admin/users/{worker.username}")
        locked = await browser.post(f"/ui/admin/users/{worker.username}/lock", data={"csrf_token": token})
        assert locked.status_code == 303
        created = await browser.post(
            "/ui/admin/users", data={"username": "petrov_ivan", "password": "a-Secret-pw-123", "csrf_token": token}
        )
        assert created.status_code == 303
        await services.audit.flush()
        audit = await browser.get("/ui/admin/audit")
    assert f"пользователь {worker.username}" in audit.text and "пользователь petrov_ivan" in audit.text
    assert ">Блокировка пользователя<" in audit.text and ">Создание пользователя<" in audit.text  # not ui_lock_user
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, operator.username, operator.password)
        found = await browser.get("/ui/admin/audit?operation=%D0%A1%D0%9E%D0%97%D0%94%D0%90%D0%9D%D0%98%D0%95")
    assert ">Создание пользователя<" in found.text and ">Блокировка пользователя<" not in found.text  # "СОЗДАНИЕ"
    admin_token = await login(client, operator)
    made = await client.post(
        "/admin/users",
        headers=bearer(admin_token),
        json={"username": "sidorov_petr", "password": "a-Secret-pw-123", "company_key": "target_co", "roles": []},
    )
    assert made.status_code in (200, 201), made.text
    await services.audit.flush()
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=now - timedelta(hours=1), date_to=now + timedelta(hours=1), username=operator.username)
    )
    targets = {(r.operation, r.target) for r in rows}
    assert any(t == f"user {worker.username}" for _, t in targets)  # the lock on the pages
    assert any(t == "user sidorov_petr" for _, t in targets)  # the Admin API's change too


def test_a_service_has_one_colour_on_every_chart() -> None:
    from datetime import date

    from cabinet.apis.web.charts import PALETTE, daily_points

    day = date(2026, 12, 1)
    alone = daily_points([(day, "STUDIO", 3)], day, day, "t")
    together = daily_points([(day, "ACCOUNT", 1), (day, "STUDIO", 3), (day, "ADMIN", 2)], day, day, "t")
    assert [s.colour_index for s in alone.series] == [3]
    assert {s.name: s.colour_index for s in together.series} == {"ACCOUNT": 0, "ADMIN": 1, "STUDIO": 3}
    assert PALETTE[3] in alone.svg and PALETTE[3] in together.svg_narrow
    month = daily_points([(day, "ADMIN", 1)], date(2026, 11, 1), date(2026, 12, 1), "t")
    day_label = 'text-anchor="middle"'
    assert month.svg_narrow.count(day_label) <= 4 < month.svg.count(day_label)


async def test_the_response_deadline_shows_only_while_a_response_is_due(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    """The queue's "Respond by" holds the acceptance deadline of a new call (with how long is left); an accepted
    call's cell is empty (hidden on a phone), and its page says whether it was accepted in time."""
    tenant = await make_tenant(services)
    name, user_id = await tenant.register(client)
    fresh = await tenant.dispatch(client, user_id, tto="2099-01-01T09:00:00Z", ttf="2099-01-02T09:00:00Z")
    taken = await tenant.dispatch(client, user_id, tto="2099-01-01T09:00:00Z", ttf="2099-01-02T09:00:00Z")
    await sign_in(browser_a, name, PASSWORD)
    token = await page_token(browser_a, f"/ui/calls/{taken['id']}")
    accepted = await browser_a.post(
        f"/ui/calls/{taken['id']}/status", data={"status": "Committed", "csrf_token": token}
    )
    assert accepted.status_code == 303
    queue = (await browser_a.get("/ui/calls")).text
    rows = {
        number: row for row in queue.split("<tr>")[1:] for number in (fresh["number"], taken["number"]) if number in row
    }
    assert 'class="respond-by"' in rows[fresh["number"]] and "2099" in rows[fresh["number"]].split("respond-by")[1]
    assert 'class="respond-by not-due"' in rows[taken["number"]]
    assert "2099" not in rows[taken["number"]].split("respond-by")[1].split("</td>")[0]
    page = (await browser_a.get(f"/ui/calls/{taken['id']}")).text
    assert "accepted in time" in page
    assert "accepted in time" not in (await browser_a.get(f"/ui/calls/{fresh['id']}")).text
