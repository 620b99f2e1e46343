"""Every page, as its people see it: the real server on a loopback port with the demo data, Debian's Chromium at
360×740 (a phone, touch) and 1366×768 (a desk), in Russian and in English. Each page state passes web_checks
(axe-core WCAG 2.2 AA + best practice with no serious or critical violation, 44 px targets on the phone, no
sideways scrolling, no console error) and leaves a screenshot in $CABINET_SCREENSHOT_DIR (default
/tmp/cabinet-screens)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cabinet.demo import DEMO_CONTRACTOR, load_demo_data
from cabinet.domains.fieldservice.schemas import CallListQuery
from cabinet.domains.fieldservice.states import CallStatus
from tests.e2e.test_web_browser import chromium, live_server  # noqa: F401  (fixtures)
from tests.e2e.web_checks import DESKTOP_VIEWPORT, PHONE_VIEWPORT, check_everything
from tests.helpers import LiveServer

TIMEOUT_MS = 15_000
SIZES = {"phone": PHONE_VIEWPORT, "desk": DESKTOP_VIEWPORT}


class Visitor:
    """One signed-in person in one language at one size: a context and a page reused for every visit."""

    def __init__(self, browser: Any, base: str, lang: str, size: str, problems: list[str]) -> None:
        viewport = SIZES[size]
        options: dict[str, Any] = {"viewport": viewport, "locale": "ru-RU" if lang == "ru" else "en-US"}
        if size == "phone":
            options |= {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.base, self.lang, self.size = base, lang, size
        self.problems = problems  # every page is checked, then the test fails with all that is wrong

    def _console(self, message: Any) -> None:
        # an error page we meant to open (a 404) is logged as a failed load of the document itself: not a fault
        if message.type == "error" and message.location.get("url") != self.page.url:
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def sign_in(self, username: str, password: str) -> None:
        self.page.goto(f"{self.base}/ui/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(password)
        self.page.locator("form[action='/ui/login'] button[type=submit]").click()
        self.page.wait_for_load_state()
        assert "/ui/login" not in self.page.url, self.page.url

    def visit(self, path: str, name: str) -> None:
        answer = self.page.goto(f"{self.base}{path}")
        assert answer is not None
        self.check(name)

    def check(self, name: str) -> None:
        try:
            assert self.page.locator("html").get_attribute("lang") == self.lang, name
            check_everything(self.page, f"{name}-{self.lang}-{self.size}", self.errors)
        except AssertionError as failure:
            self.problems.append(str(failure))

    def close(self) -> None:
        self.context.close()


async def _seed(server: LiveServer) -> dict[str, Any]:
    """The demo data, the demo contractor's first call accepted and given a field link."""
    services = server.services
    await load_demo_data(services)
    token = await services.identity.sign_in(
        DEMO_CONTRACTOR.username, DEMO_CONTRACTOR.password, client_ip=None, ttl=timedelta(minutes=5)
    )
    contractor = await services.identity.resolve_access_token(token.token)
    views, _total = await services.calls.list_calls(contractor, CallListQuery(sort="number"))
    first, second = views[0].call, views[1].call
    await services.calls.change_status(contractor, first.id, CallStatus.COMMITTED, None)
    link = await services.field_links.issue(contractor, first.id)
    return {"call": first.id, "new_call": second.id, "token": link}


def _field_filled(visitor: Visitor) -> None:
    """The field page with a task marked Done, two material rows and an expense added (one row at a time)."""
    page = visitor.page
    page.locator(".segmented .check.done").first.click()
    assert page.locator("#m1-name").is_hidden() and page.locator("#e1-count").is_hidden()  # none until added
    page.locator("[data-rows=material] [data-row-add]").click()
    page.locator("#m1-name").fill("Belt")
    page.locator("[data-rows=material] [data-row-add]").click()
    page.locator("#m2-name").fill("Filter")
    assert page.locator("#m3-name").is_hidden()
    page.locator("[data-rows=expense] [data-row-add]").click()
    page.locator("#e1-count").fill("2")
    visitor.check("field-filled")


def _webhook_pages(visitor: Visitor) -> None:
    """A company's webhooks: the list, a new endpoint's page with its secret shown once, then with a delivery
    (a receiver that refuses the connection: the failure is shown)."""
    visitor.visit("/ui/admin/companies/demo_company/webhooks", "admin-webhooks")
    visitor.page.locator("#new-url").fill("http://127.0.0.1:9/hook")  # nothing listens on the discard port
    visitor.page.locator("#new-description").fill("ERP")
    every, first = visitor.page.locator("#new-ev-all"), visitor.page.locator("#new-ev-1")
    first.check()
    assert not every.is_checked()  # one event chosen: "all events" is unticked, the two exclude each other
    every.check()
    assert not first.is_checked()
    visitor.page.locator("form[action$='/webhooks'] button[type=submit]").click()
    visitor.page.wait_for_load_state()
    assert visitor.page.locator("#new-secret").count() == 1, visitor.page.url
    visitor.check("admin-webhook-secret")
    visitor.page.locator("form[action$='/test'] button[type=submit]").click()
    visitor.page.wait_for_load_state()
    visitor.page.reload()
    visitor.check("admin-webhook")


def _cost_editor(visitor: Visitor, call: int) -> None:
    """The estimate editor: open it, add a material, change its quantity in place: the line total and the total
    follow what is typed before it is saved; saved, the page shows the new figures."""
    page = visitor.page
    page.goto(f"{visitor.base}/ui/calls/{call}/cost")
    opener = page.locator(f"form[action='/ui/calls/{call}/cost'] button[type=submit]")
    if opener.count():
        with page.expect_navigation():
            opener.click()
    adder = page.locator("#add-material")  # folded once the estimate has a material
    if adder.get_attribute("open") is None:
        adder.locator("summary").click()
    page.locator("#m-name").fill("Фильтр")
    page.locator("#m-count").fill("2")
    page.locator("#m-price").fill("150,50")
    with page.expect_navigation():
        page.locator(f"form[action='/ui/calls/{call}/cost/materials'] button[type=submit]").click()
    line = page.locator("ol.lines form[data-line-total]").last
    count = line.locator("[data-count]")
    count.fill("3")
    total = line.locator("[data-total]").inner_text()
    assert "451" in total.replace("\u00a0", "").replace(" ", ""), total  # 3 × 150,50, before saving
    visitor.check("cost-editor")
    with page.expect_navigation():
        line.locator("button[type=submit]:not([formaction])").click()
    assert page.locator("ol.lines form[data-line-total]").last.locator("[data-count]").input_value() == "3"


def _form_error(visitor: Visitor) -> None:
    """A new user the server refuses (a one-letter name): back on the form, what was typed is still there (the
    password is not), the message beside the field, the summary on top, the focus on the field to fix."""
    page = visitor.page
    page.goto(f"{visitor.base}/ui/admin/users")
    assert not page.locator("#new-username").is_visible()  # the form is folded under the heading
    page.locator("#new-user > summary").click()
    page.locator("#new-username").fill("ivan_petrov")
    page.locator("#new-password").fill("a-Secret-pw-123")
    page.locator("#new-name").fill("Я")
    page.locator("#new-email").fill("ivan@example.com")
    with page.expect_navigation():
        page.locator("form[action='/ui/admin/users'][method=post] button[type=submit]").click()
    page.wait_for_selector("#new-name[aria-invalid=true]")  # the fold opened again, the form in view
    assert page.locator("#new-username").input_value() == "ivan_petrov"
    assert page.locator("#new-email").input_value() == "ivan@example.com"
    assert page.locator("#new-name").input_value() == "Я" and page.locator("#new-password").input_value() == ""
    assert page.locator("form[action='/ui/admin/users'][method=post] #form-errors").count() == 1
    assert page.evaluate("() => document.activeElement.id") == "new-name"
    note = page.locator("#new-name").get_attribute("aria-describedby") or ""
    assert page.locator(f"#{note.split()[-1]}").inner_text() == page.locator("#new-name ~ .field-error").inner_text()
    visitor.check("admin-users-form-error")


def _rotate_a_key(visitor: Visitor, path: str, name: str) -> None:
    """Rotate the first key on ``path`` through its confirm dialog: the new key is shown once after the redirect."""
    visitor.page.goto(f"{visitor.base}{path}")
    visitor.page.locator("form[action$='/rotate'] button[type=submit]").first.click()
    dialog = visitor.page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    with visitor.page.expect_navigation():
        dialog.locator("[data-ok]").click()
    assert visitor.page.locator("#new-key").count() == 1, visitor.page.url
    visitor.check(name)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_page(chromium: Any, live_server: LiveServer, lang: str, size: str) -> None:  # noqa: F811
    """At each size in each language (four tests of ~25 s share the workers better than two of ~50 s)."""
    browser = chromium
    seed = live_server.run(_seed(live_server))
    live_server.services.webhooks.allow_private = True  # the pages' endpoint is on loopback
    base = live_server.url
    problems: list[str] = []
    visitor = Visitor(browser, base, lang, size, problems)
    try:
        visitor.visit("/ui/login", "login")
        visitor.visit(f"/ui/link/{seed['token']}", "field")
        _field_filled(visitor)
        visitor.visit("/ui/nowhere", "not-found")
        visitor.sign_in(DEMO_CONTRACTOR.username, DEMO_CONTRACTOR.password)
        visitor.check("queue")
        visitor.visit("/ui/calls?q=00000001&status=Committed", "queue-search")  # filters open, one card
        visitor.visit(f"/ui/calls/{seed['call']}", "call")
        visitor.visit(f"/ui/calls/{seed['new_call']}", "call-new")
        visitor.visit(f"/ui/calls/{seed['call']}/cost", "cost")
        _cost_editor(visitor, seed["call"])
        visitor.visit("/ui/notifications", "notifications")
        visitor.visit("/ui/account", "contractor-account")
    finally:
        visitor.close()
    visitor = Visitor(browser, base, lang, size, problems)
    try:
        visitor.sign_in("demo_admin", "demo_admin_password")
        visitor.visit("/ui/admin/users", "admin-users")
        _form_error(visitor)
        visitor.visit("/ui/admin/users/demo_owner", "admin-user")
        visitor.visit("/ui/admin/companies", "admin-companies")
        visitor.page.locator("#new-company > summary").click()
        visitor.check("admin-companies-new")  # the folded form, open
        visitor.visit("/ui/admin/companies/demo_company", "admin-company")
        visitor.visit("/ui/admin/usage", "admin-usage")
        visitor.visit("/ui/admin/audit", "admin-audit")
        visitor.visit("/ui/admin/audit?kind=reads", "admin-audit-reads")
        visitor.visit("/ui/account", "admin-account")
        _webhook_pages(visitor)
        _rotate_a_key(visitor, "/ui/admin/users/demo_owner", "admin-user-key-rotated")
    finally:
        visitor.close()
    visitor = Visitor(browser, base, lang, size, problems)
    try:
        visitor.sign_in("demo_owner", "demo_owner_password")
        _rotate_a_key(visitor, "/ui/account", "account-key-rotated")  # one's own key
    finally:
        visitor.close()
    assert not problems, "\n".join(problems)


def test_safe_to_click_on_a_phone(chromium: Any, live_server: LiveServer) -> None:  # noqa: F811
    """Post/Redirect/Get (a reload neither repeats an action nor mints a second link), the confirm dialog (cancel
    keeps the task, confirm closes it), one request for a double tap, the Copy button."""
    seed = live_server.run(_seed(live_server))
    problems: list[str] = []
    visitor = Visitor(chromium, live_server.url, "ru", "phone", problems)
    page = visitor.page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    try:
        visitor.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        visitor.sign_in(DEMO_CONTRACTOR.username, DEMO_CONTRACTOR.password)
        call = f"/ui/calls/{seed['call']}"
        page.goto(f"{live_server.url}{call}")
        # the seed gave the field employee a link: a new one (which stops it) is asked for first
        assert "Новая ссылка заменит её" in page.locator("#field-link").inner_text()
        page.locator(f"form[action='{call}/link'] button").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "перестанет работать" in dialog.inner_text()
        visitor.check("call-link-confirm")
        dialog.locator("[data-ok]").click()
        page.wait_for_url(f"**{call}#field-link")
        link = page.locator("#new-link").get_attribute("href")
        assert link and "/ui/link/" in link
        visitor.check("call-link-issued")
        page.locator("button[data-copy='#new-link']").click()
        page.wait_for_selector("#new-link-said:has-text('Скопировано')")
        assert page.evaluate("() => navigator.clipboard.readText()") == link
        posts.clear()
        page.reload()
        assert posts == [], "a reload repeats no POST"
        assert page.locator("#new-link").count() == 0, "the secret is shown once"
        page.goto(link)  # the link shown is still the call's link: the reload minted no other
        assert page.locator("form[action$='/done']").count() == 1

        page.goto(f"{live_server.url}{call}")
        task = page.locator("li[id^='task-']").first
        task_id = (task.get_attribute("id") or "").removeprefix("task-")
        task.locator("form:has(input[value=Done]) button").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "Отметить" in dialog.inner_text()
        visitor.check("confirm-dialog")
        dialog.locator("button[value=cancel]").click()
        assert dialog.is_hidden() and task.locator("form").count() == 2, "cancel leaves the task as it was"
        posts.clear()
        task.locator("form:has(input[value=Done]) button").click()
        dialog.locator("[data-ok]").click()
        page.wait_for_selector(f"#task-{task_id}:has-text('Выполнена')")
        assert len([p for p in posts if p.endswith(f"/ui/tasks/{task_id}/status")]) == 1

        page.locator("#jeopardy-fold > summary").click()  # folded until asked for
        page.locator("#jeopardy-comment").fill("Запчасть будет через 2 дня")
        posts.clear()
        with page.expect_navigation():
            page.locator(f"form[action='{call}/jeopardy'] button").dblclick()  # a double tap sends once
        page.wait_for_selector("text=Запчасть будет через 2 дня")
        assert len([p for p in posts if p.endswith(f"{call}/jeopardy")]) == 1, posts

        close = page.locator(f"form[action='{call}/status']:has(input[value=Done])")
        close.locator("button").click()
        assert "Замена диспенсера" in dialog.inner_text()  # names the task still open
        posts.clear()
        with page.expect_navigation():
            dialog.locator("[data-ok]").click()
        assert len([p for p in posts if p.endswith(f"{call}/status")]) == 1
        assert page.locator("h1 .badge.status").inner_text() == "Выполнена"
        page.reload()
        assert len([p for p in posts if p.endswith(f"{call}/status")]) == 1, "a reload does not close it again"
    finally:
        visitor.close()
    assert not problems, "\n".join(problems)
