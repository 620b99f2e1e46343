"""What a person sees: the web pages driven in real headless Chromium (Debian's package, via playwright) against
the real server on a loopback port. Login; an operator creating a user and a key; a contractor accepting a call,
writing to the dispatcher, sending a cost estimate and giving a field link; the field employee's whole visit on a
360 px phone, photo included. Every page visited is checked for labels, keyboard reach and contrast, and saved as
a screenshot under $CABINET_SCREENSHOT_DIR (default /tmp/cabinet-screens)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cabinet.core.principal import CredentialKind, principal_of
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserCreate
from cabinet.settings import Settings
from tests.apis.contractor.files_support import jpeg
from tests.apis.contractor.support import PASSWORD, make_tenant
from tests.e2e.web_a11y import check_page
from tests.e2e.web_checks import FLAGS, screenshot_dir
from tests.helpers import LiveServer, clean_sync_copy
from tests.system_packages import require_chromium

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "en-US",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}
TIMEOUT_MS = 15_000


def artifacts() -> Path:
    """Screenshots go outside the repository ($CABINET_SCREENSHOT_DIR, default /tmp/cabinet-screens)."""
    return screenshot_dir()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live_server(settings: Settings, clock: Any) -> Iterator[LiveServer]:
    """The real server on loopback, speaking plain http (so its session cookie cannot be Secure there). Cleaned up
    from a thread of its own: playwright's sync API keeps an event loop running in this one."""
    server = LiveServer(settings.model_copy(update={"web_cookie_secure": False}), clock)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        cleaner = threading.Thread(target=asyncio.run, args=(clean_sync_copy(settings),))
        cleaner.start()
        cleaner.join(timeout=60)


def new_page(chromium: Any, options: dict[str, Any]) -> tuple[Any, Any, list[str]]:
    """A fresh context and page; the list fills with the console's errors (a script or style the
    Content-Security-Policy blocks would show there)."""
    context = chromium.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")  # 4xx pages we visit
            else None
        ),
    )
    return context, page, errors


def snap(page: Any, name: str) -> None:
    """Check the page's accessibility basics, then keep its screenshot."""
    check_page(page)
    page.screenshot(path=str(artifacts() / f"{name}.png"), full_page=True)


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (
        f"{page.url} is {width}px wide on a {page.viewport_size['width']}px screen"
    )


def sign_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/")
    assert page.url.endswith("/ui/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _user(server: LiveServer, username: str, company: str, roles: list[Role]) -> None:
    server.run(
        server.services.identity.create_user(
            UserCreate(username=username, password="web_pass_1", company_key=company, roles=roles, create_company=True)
        )
    )


async def _dispatched_call(server: LiveServer, *, accept_and_link: bool = False) -> dict[str, Any]:
    """A tenant with its ERP key, a contractor and a call dispatched to it (accepted, with a field link, if asked)."""
    services = server.services
    tenant = await make_tenant(services)
    async with httpx.AsyncClient(base_url=server.url) as client:
        name, user_id = await tenant.register(client)
        call = await tenant.dispatch(client, user_id, critical=True)
        answer = await client.post(
            f"/call/{call['id']}/dispatcher/message",
            json={"message": "Please call the branch first", "date": "2026-11-27T08:00:00Z"},
            headers=tenant.erp,
        )
        assert answer.status_code == 200, answer.text
    seed: dict[str, Any] = {"tenant": tenant, "name": name, "user_id": user_id, "call": call}
    if accept_and_link:
        contractor = principal_of(await services.identity.get_account_by_id(user_id), CredentialKind.ACCESS, None)
        from cabinet.domains.fieldservice.states import CallStatus

        await services.calls.change_status(contractor, call["id"], CallStatus.COMMITTED, None)
        seed["old_token"] = await services.field_links.issue(contractor, call["id"])
        seed["token"] = await services.field_links.issue(contractor, call["id"])
    return seed


def test_operator_creates_a_user_and_a_key(chromium: Any, live_server: LiveServer) -> None:
    _user(live_server, "ops_owner", "browser_co", [Role.COMPANYOWNER])
    context, page, console_errors = new_page(chromium, DESKTOP)
    try:
        page.goto(f"{live_server.url}/ui/login")
        snap(page, "login")
        page.get_by_label("Username").fill("ops_owner")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text().strip() == "Wrong username or password."
        sign_in(page, live_server.url, "ops_owner", "web_pass_1")
        assert page.url.endswith("/ui/calls")  # an owner works calls too: that is its first page
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        page.wait_for_url("**/ui/admin/users")
        snap(page, "admin-users")

        page.locator("#new-user > summary").click()  # the form is folded under the heading
        page.get_by_label("Username (letters, digits, _)").fill("field_boss")
        page.locator("#new-password").fill("boss_password_1")
        page.locator("#new-name").fill("Field Boss")
        page.locator("#new-role-CREWMANAGER").check()
        page.get_by_role("button", name="Create user").click()
        page.wait_for_url("**/ui/admin/users/field_boss")
        assert "User field_boss created." in page.locator("#flash").inner_text()
        assert page.locator("#name").input_value() == "Field Boss"

        page.get_by_label("What the key is for").fill("erp")
        page.get_by_role("button", name="Issue key").click()
        key = page.locator("#new-key").inner_text().strip()
        assert re.fullmatch(r"cab_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", key)
        snap(page, "admin-user-key")
        principal = live_server.run(live_server.services.credentials.authenticate_key(key))
        assert principal.username == "field_boss"
        page.goto(f"{live_server.url}/ui/admin/users/field_boss")
        assert key not in page.content()  # shown once

        page.goto(f"{live_server.url}/ui/admin/usage")
        assert page.locator("svg.chart:visible").count() == 1  # the desk drawing (the phone one is hidden)
        snap(page, "admin-usage")
        live_server.run(live_server.services.audit.flush())
        page.goto(f"{live_server.url}/ui/admin/audit?username=ops_owner")
        assert page.get_by_role("cell", name="ui_create_user").count() >= 1
        snap(page, "admin-audit")
        page.goto(f"{live_server.url}/ui/admin/companies/browser_co")
        page.get_by_label("Network (CIDR or address)").fill("203.0.113.7/24")
        page.get_by_role("button", name="Allow network").click()
        page.wait_for_selector("text=203.0.113.0/24")  # stored in canonical form
        snap(page, "admin-company")
        page.goto(f"{live_server.url}/ui/account")
        snap(page, "account")
        assert console_errors == [], console_errors
    finally:
        context.close()


def test_contractor_accepts_messages_and_sends_an_estimate(chromium: Any, live_server: LiveServer) -> None:
    seed = live_server.run(_dispatched_call(live_server))
    call = seed["call"]
    context, page, console_errors = new_page(chromium, DESKTOP)
    try:
        sign_in(page, live_server.url, seed["name"], PASSWORD)
        assert page.url.endswith("/ui/calls")
        row = page.get_by_role("row").filter(has_text=call["number"])
        assert row.get_by_text("Critical").is_visible()
        page.wait_for_selector("#unread .badge")  # htmx loaded the unread count into the menu
        assert page.locator("#unread").inner_text().startswith("2")  # assigned + the dispatcher's message
        snap(page, "contractor-queue")
        assert page.get_by_label("Status").is_visible()  # on a desk the filters sit in the search's row, unfolded
        page.get_by_label("Status").select_option("Committed")  # htmx redraws the queue in place
        page.wait_for_url("**/ui/calls?*status=Committed*")
        assert page.get_by_text("No calls match.").is_visible()
        page.get_by_label("Status").select_option("")
        page.wait_for_selector(f"text={call['number']}")

        page.get_by_role("link", name=call["number"]).click()
        page.wait_for_url(f"**/ui/calls/{call['id']}")
        assert page.get_by_text("Please call the branch first").is_visible()
        page.get_by_role("button", name="Accept call").click()
        page.wait_for_selector("text=Call accepted.")
        before = page.evaluate("() => performance.getEntriesByType('navigation').length + ':' + location.href")
        page.get_by_label("Message to the dispatcher").fill("On my way, 20 minutes")
        page.get_by_role("button", name="Send message").click()
        page.wait_for_selector("#thread >> text=On my way, 20 minutes")
        assert page.evaluate("() => performance.getEntriesByType('navigation').length + ':' + location.href") == before
        page.get_by_text("Report a deadline risk…").click()  # the form is folded until asked for
        page.get_by_label("What puts the deadline at risk").fill("Spare part is 2 days away")
        page.get_by_role("button", name="Report a deadline risk").click()
        page.wait_for_selector("text=Deadline risk reported")
        page.get_by_role("button", name="Issue a field link").click()
        link = page.locator("#new-link").get_attribute("href")
        assert link and "/ui/link/" in link
        assert page.locator(".qr svg").count() == 1
        snap(page, "contractor-call")
        page.set_viewport_size(PHONE["viewport"])  # the same pages on a phone: nothing runs off the side
        no_sideways_scroll(page)
        page.screenshot(path=str(artifacts() / "contractor-call-phone.png"), full_page=True)
        page.goto(f"{live_server.url}/ui/calls")
        no_sideways_scroll(page)
        assert not page.get_by_label("Status").is_visible()  # folded on a phone: the first call on the first screen
        page.locator("details.more-filters > summary").click()
        assert page.get_by_label("Status").is_visible()
        page.screenshot(path=str(artifacts() / "contractor-queue-phone.png"), full_page=True)
        page.set_viewport_size(DESKTOP["viewport"])
        page.goto(f"{live_server.url}/ui/calls/{call['id']}")

        page.get_by_role("link", name="Cost estimate").click()
        page.get_by_role("button", name="Open a cost estimate").click()
        page.get_by_label("Item").select_option(label="Parking")
        page.locator("#e-count").fill("2")
        page.get_by_role("button", name="Add expense").click()
        page.wait_for_selector("text=Expense added.")
        page.get_by_label("Name").fill("Dispenser belt")
        page.get_by_label("Serial number").fill("SN-77")
        page.get_by_label("Whose part").select_option("Contractor")
        page.locator("#m-count").fill("3")
        page.get_by_label("Unit price").fill("12,40")
        page.get_by_role("button", name="Add material").click()
        page.wait_for_selector("text=Material added.")
        assert "37.20" in page.locator("[data-grand-total]").inner_text()  # the materials total
        snap(page, "contractor-cost")
        page.get_by_role("button", name="Send the estimate").click()
        dialog = page.locator("#confirm-dialog")  # an irreversible action asks first
        assert dialog.get_by_text("It can no longer be edited afterwards").is_visible()
        dialog.get_by_role("button", name="Send the estimate").click()
        page.wait_for_selector("text=Cost estimate sent to the dispatcher.")
        assert page.locator("h1 .badge").inner_text() == "Sent for review"

        page.goto(f"{live_server.url}/ui/notifications")
        snap(page, "contractor-notifications")
        page.get_by_role("button", name="Mark all read").click()
        page.wait_for_selector("text=0 unread.")
        assert console_errors == [], console_errors
    finally:
        context.close()


def test_field_employee_visit_on_a_phone(chromium: Any, live_server: LiveServer) -> None:
    seed = live_server.run(_dispatched_call(live_server, accept_and_link=True))
    call = seed["call"]
    context, page, console_errors = new_page(chromium, PHONE)
    photo = artifacts() / "field-photo.jpg"
    photo.write_bytes(jpeg((1200, 900)))
    try:
        page.goto(f"{live_server.url}/ui/link/{seed['old_token']}")
        assert "replaced by a newer one" in page.locator("main").inner_text()
        snap(page, "field-link-replaced")

        page.goto(f"{live_server.url}/ui/link/{seed['token']}")
        assert (
            page.get_by_role("link", name="Open the map")
            .get_attribute("href")
            .startswith("https://www.openstreetmap.org/?mlat=55.75&mlon=37.62")
        )
        assert page.get_by_text("ATM does not dispense").is_visible()
        no_sideways_scroll(page)
        snap(page, "field-visit")
        diagnose, repair = call["tasks"]
        page.locator(f"#task-{diagnose['id']}-Done").check()
        page.locator(f"#task-{repair['id']}-Canceled").check()
        page.get_by_label("Comment (required)").fill("Belt replaced, repair not needed")
        page.get_by_role("button", name="Add expense").click()  # no rows until one is added
        expense = page.get_by_role("group", name="Expense 1", exact=True)  # a row is a group named by its number
        expense.get_by_label("Item").select_option(label="Fuel")
        expense.get_by_label("Quantity").fill("4.5")
        page.get_by_role("button", name="Add material").click()
        material = page.get_by_role("group", name="Material 1", exact=True)
        material.get_by_label("Name").fill("Belt")
        material.get_by_label("Quantity").fill("1")
        material.get_by_label("Unit price").fill("19.99")
        assert page.get_by_role("button", name="Remove material 1").is_visible()  # "Remove", named by its row
        page.get_by_role("button", name="Send the report").click()
        page.wait_for_selector("text=Photo for “Diagnose”")  # sent by the page's outbox, then the Done view
        upload = page.get_by_label("Photo for “Diagnose”")
        assert upload.get_attribute("accept") == "image/*" and upload.get_attribute("capture") == "environment"
        upload.set_input_files(str(photo))
        page.get_by_role("button", name="Upload photo").click()
        page.wait_for_selector("text=Photo added.")
        thumb = page.locator(f"#task-{diagnose['id']} img.thumb")
        thumb.scroll_into_view_if_needed()  # it loads lazily
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        assert 0 < page.evaluate("img => img.naturalWidth", thumb.element_handle()) <= 320
        no_sideways_scroll(page)
        snap(page, "field-done")
        assert console_errors == [], console_errors
    finally:
        context.close()
    state = live_server.run(_erp_view(live_server, seed))
    assert state["call"]["status"] == "Done"
    assert [m["total"] for m in state["cost"]["materials"]] == ["19.99"]


async def _erp_view(server: LiveServer, seed: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers=seed["tenant"].erp) as erp:
        call = (await erp.get(f"/call/{seed['call']['id']}")).json()
        cost = (await erp.get(f"/callCost/call/{seed['call']['id']}")).json()
    return {"call": call, "cost": cost}
