"""Errors stay on the form (issue 18, item 6): a form sent with mistakes comes back to its page with what was
typed (never a password or the CSRF token) and each message in words a person uses, in their language, shown
once; without a page of ours to go back to, the error page answers, with a way out that fits the visitor."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx

from cabinet.core.clock import OffsetClock
from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.domains.registry import Services
from tests.apis.web.support import page_token, sign_in, web_client
from tests.helpers import UserFactory

STATE_RE = re.compile(r'<script type="application/json" id="form-state">(.*?)</script>', re.S)
PAGE = "https://testserver/ui/admin/users"


def _state(html: str) -> dict[str, Any]:
    match = STATE_RE.search(html)
    assert match, "the page carries the failed form's state"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


async def _owner(browser: httpx.AsyncClient, make_user: UserFactory, company: str = "forms_co") -> str:
    owner = await make_user(roles=[Role.COMPANYOWNER], company=company)
    await sign_in(browser, owner.username, owner.password)
    return await page_token(browser, "/ui/admin/users")


async def test_a_refused_new_user_comes_back_to_the_form_with_what_was_typed(
    browser_a: httpx.AsyncClient, make_user: UserFactory, services: Services, clock: OffsetClock
) -> None:
    token = await _owner(browser_a, make_user)
    typed = {"username": "bad name!", "password": "a-Secret-pw-123", "name": "Пётр Иванов", "email": "p@example.com"}
    sent = await browser_a.post("/ui/admin/users", data={**typed, "csrf_token": token}, headers={"Referer": PAGE})
    assert sent.status_code == 303 and sent.headers["location"] == "/ui/admin/users", sent.text
    shown = await browser_a.get("/ui/admin/users")
    assert shown.status_code == 200
    state = _state(shown.text)
    assert state["action"] == "/ui/admin/users" and state["method"] == "POST"
    assert state["values"]["username"] == ["bad name!"] and state["values"]["name"] == ["Пётр Иванов"]
    assert "password" not in state["values"] and "csrf_token" not in state["values"]  # never echoed
    assert "a-Secret-pw-123" not in shown.text
    assert "username" in state["errors"] and 'id="form-errors"' in shown.text
    assert "body." not in shown.text  # a field's wire path means nothing to a person
    again = await browser_a.get("/ui/admin/users")
    assert 'id="form-errors"' not in again.text  # shown once: a reload is a clean page
    await services.audit.flush()
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=clock.now() - timedelta(hours=1), date_to=clock.now() + timedelta(hours=1))
    )
    created = [r for r in rows if r.operation == "ui_create_user"]
    assert [(r.status, r.request_points) for r in created] == [("FAILED", 0)]  # a redirect, yet a failure


async def test_limits_are_said_in_words_and_in_the_persons_language(app: Any, make_user: UserFactory) -> None:
    async with web_client(app, language="ru") as browser:
        token = await _owner(browser, make_user, "forms_ru")
        sent = await browser.post(
            "/ui/admin/users",
            data={"username": "x" * 300, "password": "a-Secret-pw-123", "csrf_token": token},
            headers={"Referer": PAGE},
        )
        assert sent.status_code == 303, sent.text
        state = _state((await browser.get("/ui/admin/users")).text)
    assert state["errors"]["username"] == "Не более 256 символов"
    assert state["values"]["username"] == ["x" * 300]
    async with web_client(app, language="ru") as browser:
        token = await _owner(browser, make_user, "forms_ru2")
        body = {"username": "плохое имя", "password": "a-Secret-pw-123", "csrf_token": token}
        await browser.post("/ui/admin/users", data=body, headers={"Referer": PAGE})
        state = _state((await browser.get("/ui/admin/users")).text)
    assert state["errors"]["username"] == "Имя пользователя: от 2 до 256 символов — буквы, цифры, _"


async def test_without_a_page_to_go_back_to_the_error_page_answers(
    browser_a: httpx.AsyncClient, make_user: UserFactory
) -> None:
    token = await _owner(browser_a, make_user, "forms_nr")
    body = {"username": "bad name!", "password": "a-Secret-pw-123", "csrf_token": token}
    for headers in ({}, {"Referer": "https://elsewhere.example/ui/admin/users"}, {"HX-Request": "true"}):
        answer = await browser_a.post("/ui/admin/users", data=body, headers=headers)
        assert answer.status_code == 400, (headers, answer.status_code)
        assert "body." not in answer.text
    error_page = await browser_a.post("/ui/admin/users", data=body)
    assert 'href="/ui/calls">Home</a>' in error_page.text  # the signed-in person's start page (an owner works calls)
    assert error_page.text.count("word characters") == 1  # said once


async def test_a_sealed_form_state_is_for_its_own_session_and_page(
    app: Any, browser_a: httpx.AsyncClient, make_user: UserFactory
) -> None:
    token = await _owner(browser_a, make_user, "forms_x")
    sent = await browser_a.post(
        "/ui/admin/users",
        data={"username": "bad name!", "password": "a-Secret-pw-123", "csrf_token": token},
        headers={"Referer": PAGE},
    )
    stolen = sent.cookies["cabinet_form"]
    async with web_client(app) as other:
        await _owner(other, make_user, "forms_y")
        other.cookies.set("cabinet_form", stolen, domain="testserver", path="/ui/admin/users")
        assert 'id="form-errors"' not in (await other.get("/ui/admin/users")).text  # bound to the session
    browser_a.cookies.set("cabinet_form", stolen, domain="testserver", path="/ui/account")
    assert 'id="form-errors"' not in (await browser_a.get("/ui/account")).text  # and to the page


async def test_a_field_link_holder_is_never_sent_to_sign_in(app: Any) -> None:
    async with web_client(app) as phone:
        missing = await phone.get("/ui/link/" + "A" * 64 + "/tasks/1/attachments/1/thumb")
        assert missing.status_code == 404
        assert f'href="/ui/link/{"A" * 64}">Back to the job</a>' in missing.text
        assert "/ui/login" not in missing.text
        dead = await phone.get("/ui/link/" + "A" * 64)
        assert dead.status_code == 404 and "/ui/login" not in dead.text
        anonymous = await phone.get("/ui/no-such-page")
        assert anonymous.status_code == 404 and 'href="/ui/login">Sign in</a>' in anonymous.text


async def test_the_new_users_company_is_offered_to_a_platform_operator_only(
    browser_a: httpx.AsyncClient, browser_b: httpx.AsyncClient, make_user: UserFactory
) -> None:
    """A platform operator types a new user's company with the companies offered (a datalist); a company's owner
    gets their own company, fixed, and the list of the others is never sent to them."""
    await make_user(company="offered_co")
    operator = await make_user(roles=[Role.ADMIN], company="platform_co")
    await sign_in(browser_a, operator.username, operator.password)
    shown = (await browser_a.get("/ui/admin/users")).text
    offered = re.findall(r'<datalist id="company-keys">(.*?)</datalist>', shown, re.S)
    assert offered and '<option value="offered_co">' in offered[0] and 'list="company-keys"' in shown
    await _owner(browser_b, make_user, company="owned_co")
    owners = (await browser_b.get("/ui/admin/users")).text
    assert "company-keys" not in owners and "offered_co" not in owners
    assert re.search(r'id="new-company"[^>]*value="owned_co"[^>]*readonly', owners)
