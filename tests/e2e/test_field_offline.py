"""The field page offline (issue 19 section 3), in real headless Chromium on a 360 px phone with Playwright's
offline switch: the page reopens without a network (service worker), what was typed survives a reload (IndexedDB),
a report sent offline waits on the phone and says so, and reaches the server once, by itself, when the network
returns; the same request replayed with its Idempotency-Key changes nothing."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.apis.contractor.files_support import jpeg
from tests.e2e.test_web_browser import PHONE, _dispatched_call, artifacts, chromium, live_server, new_page  # noqa: F401
from tests.helpers import LiveServer

OUTBOX = (
    "() => new Promise(r => { const o = indexedDB.open('cabinet-field', 1); o.onsuccess = () => {"
    " const q = o.result.transaction('outbox').objectStore('outbox').getAll();"
    " q.onsuccess = () => r(q.result.map(i => i.kind)); }; })"
)
QUEUED_REPORT = (
    "() => new Promise(r => { const o = indexedDB.open('cabinet-field', 1); o.onsuccess = () => {"
    " const q = o.result.transaction('outbox').objectStore('outbox').getAll(); q.onsuccess = () =>"
    " r(q.result.filter(i => i.kind === 'report').map(i => ({key: i.key, body: JSON.stringify(i.body)}))); }; })"
)
SYNC_TAGS = "() => navigator.serviceWorker.ready.then(r => r.sync.getTags())"
CACHED = "() => caches.open('cabinet-field-v1').then(c => c.match(location.pathname)).then(r => !!r)"


def _until(page: Any, predicate: str) -> None:
    """Polls a script that answers a promise (wait_for_function takes a pending promise as truthy)."""
    for _ in range(150):
        if page.evaluate(predicate):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {predicate}")


async def _call(server: LiveServer, seed: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers=seed["tenant"].erp) as erp:
        return (await erp.get(f"/call/{seed['call']['id']}")).json()  # type: ignore[no-any-return]


def test_a_report_written_offline_reaches_the_server_once(chromium: Any, live_server: LiveServer) -> None:  # noqa: F811
    seed = live_server.run(_dispatched_call(live_server, accept_and_link=True))
    diagnose, repair = seed["call"]["tasks"]
    context, page, console_errors = new_page(chromium, PHONE)
    photos = [artifacts() / f"offline-{n}.jpg" for n in (1, 2)]
    for n, path in enumerate(photos):
        path.write_bytes(jpeg((3000 + n * 100, 2000)))
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            sent.append({"key": r.headers.get("idempotency-key"), "body": r.post_data})
            if "/shared/call/done" in r.url
            else None
        ),
    )
    answers: list[tuple[str, int]] = []
    page.on("response", lambda r: answers.append((r.url.split("?")[0], r.status)) if "/shared/" in r.url else None)
    try:
        url = f"{live_server.url}/ui/link/{seed['token']}"
        page.goto(url)
        manifest = page.locator("link[rel=manifest]").get_attribute("href")
        assert manifest == f"/ui/link/{seed['token']}/manifest.webmanifest"
        _until(page, CACHED)  # the service worker is active and the page is kept for offline

        context.set_offline(True)
        check_in, check_out = page.locator("button[data-visit=checkIn]"), page.locator("button[data-visit=checkOut]")
        assert "secondary" in (check_out.get_attribute("class") or "")  # not on site yet: checking in is the step
        check_in.click()
        page.wait_for_selector("#field-status[data-state=queued]")
        assert "secondary" not in (check_out.get_attribute("class") or "")  # on site now: checking out is next
        assert "secondary" in (check_in.get_attribute("class") or "")
        page.locator(f"#task-{diagnose['id']}-Done").check()
        page.locator(f"#task-{repair['id']}-Canceled").check()
        page.get_by_label("Comment (required)").fill("Fixed in the basement")
        page.wait_for_selector("#field-status[data-state=saved]")
        page.reload()  # no network: the service worker answers, the draft comes back
        page.wait_for_function("() => document.getElementById('comments').value === 'Fixed in the basement'")
        assert page.locator(f"#task-{diagnose['id']}-Done").is_checked()
        page.get_by_label("Photos for “Diagnose”").set_input_files([str(photos[0]), str(photos[1])])
        page.wait_for_function("() => document.querySelector('[data-photo-count]').textContent.includes('2')")
        page.locator("#signature-pad").scroll_into_view_if_needed()
        pad = page.locator("#signature-pad").bounding_box()
        page.mouse.move(pad["x"] + 20, pad["y"] + 40)
        page.mouse.down()
        for step in range(1, 12):
            page.mouse.move(pad["x"] + 20 + step * 25, pad["y"] + 40 + (step % 3) * 20)
        page.mouse.up()
        page.get_by_label("Customer's name").fill("Анна Петрова")
        page.get_by_role("button", name="Save the signature").click()
        _until(page, f"() => ({OUTBOX})().then(kinds => kinds.includes('signature'))")
        page.get_by_role("button", name="Check out").click()
        page.get_by_role("button", name="Send the report").click()
        page.wait_for_selector("#field-status[data-report=queued]")  # said once the one transaction is done
        assert "not yet at the office" in page.locator("#field-status").inner_text()
        page.wait_for_selector("#field-status[data-sync=registered]")  # Background Sync asked to send it
        assert page.evaluate(SYNC_TAGS) == ["cabinet-field-outbox"]
        waiting = "On this phone only: the report, check-ins and check-outs: 2, the signature, photos: 2"
        page.wait_for_function("(text) => document.querySelector('[data-phone]').innerText === text", arg=waiting)
        page.reload()  # at once, still offline: the report, its photos and the signature wait in the outbox
        page.wait_for_selector("#field-status[data-state=queued]")
        assert live_server.run(_call(live_server, seed))["status"] == "Committed"
        assert sorted(page.evaluate(OUTBOX)) == ["photo", "photo", "report", "signature", "visit", "visit"]

        (report,) = page.evaluate(QUEUED_REPORT)  # its key and body as the phone keeps them
        context.set_offline(False)  # Background Sync (or the page's online event) sends the outbox
        page.wait_for_function(
            "() => ['sent', 'refused'].includes(document.getElementById('field-status')?.dataset.state)"
            " || document.querySelector('[id^=photo-]') !== null"
        )
        page.wait_for_selector("text=Upload photo")  # the page reloads onto the Done view
        page.wait_for_selector("[data-office]:not([hidden])")
        assert page.locator("[data-phone]").is_hidden()
        assert page.locator("[data-office]").inner_text() == (
            "Reached the office: the report, check-ins and check-outs: 2, the signature, photos: 2"
        )
        assert console_errors == [], console_errors
    finally:
        context.close()
    call = live_server.run(_call(live_server, seed))
    assert call["status"] == "Done" and call["comments"] == "Fixed in the basement"
    assert [t["status"] for t in call["tasks"]] == ["Done", "Canceled"]
    attachments = call["tasks"][0]["result"]["attachments"]
    assert len(attachments) == 2 and all(a["type"] == "JPEG" for a in attachments)  # both photos, once each
    assert call["signature"] is not None, answers
    assert call["signature"]["signerName"] == "Анна Петрова"
    (visit,) = call["visits"]
    assert visit["checkOutAt"] is not None
    done = [s for s in sent if s["key"] is not None]
    assert all(s["key"] == report["key"] for s in done)  # the page's tries (if it sent rather than the worker)

    async def replay() -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            return await client.post(
                f"/shared/call/done?token={seed['token']}",
                content=report["body"],
                headers={"Content-Type": "application/json", "Idempotency-Key": report["key"]},
            )

    again = live_server.run(replay())
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert live_server.run(_call(live_server, seed))["timestamp"] == call["timestamp"]  # nothing changed


def test_background_sync_sends_the_outbox_with_the_page_closed(chromium: Any, live_server: LiveServer) -> None:  # noqa: F811
    """The report queued offline, the page closed: when the network returns, the service worker's sync event
    sends it (the page, gone, cannot); the open pages hear of it."""
    seed = live_server.run(_dispatched_call(live_server, accept_and_link=True))
    diagnose, repair = seed["call"]["tasks"]
    context, page, console_errors = new_page(chromium, PHONE)
    try:
        page.goto(f"{live_server.url}/ui/link/{seed['token']}")
        _until(page, CACHED)
        context.set_offline(True)
        page.locator(f"#task-{diagnose['id']}-Done").check()
        page.locator(f"#task-{repair['id']}-Done").check()
        page.get_by_label("Comment (required)").fill("Synced in the background")
        page.get_by_role("button", name="Send the report").click()
        page.wait_for_selector("#field-status[data-report=queued]")
        page.wait_for_selector("#field-status[data-sync=registered]")
        assert page.evaluate(SYNC_TAGS) == ["cabinet-field-outbox"]
        assert console_errors == [], console_errors
        page.close()  # only the service worker is left to send it
        assert live_server.run(_call(live_server, seed))["status"] == "Committed"
        context.set_offline(False)
        for _ in range(200):
            call = live_server.run(_call(live_server, seed))
            if call["status"] == "Done":
                break
            time.sleep(0.1)
        assert call["status"] == "Done" and call["comments"] == "Synced in the background"
        assert [t["status"] for t in call["tasks"]] == ["Done", "Done"]
        again = context.new_page()  # the next visit finds the outbox empty and says what reached the office
        again.goto(f"{live_server.url}/ui/link/{seed['token']}")
        again.wait_for_selector("[data-office]:not([hidden])")
        assert again.locator("[data-office]").inner_text() == "Reached the office: the report"
        assert again.locator("[data-phone]").is_hidden()
    finally:
        context.close()


ROW_WORDS = {
    "en": {
        "add_expense": "Add expense",
        "add_material": "Add material",
        "remove_material_2": "Remove material 2",
        "expense_2": "Expense 2",
        "item": "Item",
        "material_2": "Material 2",
        "name": "Name",
        "send": "Send the report",
    },
    "ru": {
        "add_expense": "Добавить расход",
        "add_material": "Добавить материал",
        "remove_material_2": "Убрать материал 2",
        "expense_2": "Расход 2",
        "item": "Статья",
        "material_2": "Материал 2",
        "name": "Название",
        "send": "Отправить отчёт",
    },
}
ROW_BUTTONS = "() => Array.from(document.querySelectorAll('[data-rows] button')).filter(b => b.offsetParent)"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_rows_added_offline_come_back_after_a_reload_and_are_all_sent(
    chromium: Any,  # noqa: F811
    live_server: LiveServer,  # noqa: F811
    lang: str,
) -> None:
    """Expenses and materials one row at a time on a 360 px phone: two rows of each added (and one removed)
    offline, the page reloaded without a network: the rows come back from the draft, filled; the report queued
    offline carries every row and reaches the estimate when the network returns."""
    words = ROW_WORDS[lang]
    seed = live_server.run(_dispatched_call(live_server, accept_and_link=True))
    diagnose, _repair = seed["call"]["tasks"]
    items = live_server.run(_call(live_server, seed))["availableExpenditureItems"]
    context, page, console_errors = new_page(chromium, {**PHONE, "locale": "ru-RU" if lang == "ru" else "en-US"})
    try:
        page.goto(f"{live_server.url}/ui/link/{seed['token']}")
        assert page.locator("html").get_attribute("lang") == lang
        _until(page, CACHED)
        assert page.locator("#e1-count").is_hidden() and page.locator("#m1-name").is_hidden()  # no rows at first
        assert page.get_by_role("button", name=words["add_material"]).is_visible()
        context.set_offline(True)
        page.locator(f"#task-{diagnose['id']}-Done").check()
        page.locator("#comments").fill("Rows offline")
        page.get_by_role("button", name=words["add_expense"]).click()
        page.locator("#e1-item").select_option(str(items[0]["id"]))
        page.locator("#e1-count").fill("3")
        page.get_by_role("button", name=words["add_expense"]).click()
        assert page.evaluate("() => document.activeElement.id") == "e2-item"  # the new row takes the focus
        page.get_by_role("group", name=words["expense_2"], exact=True).get_by_label(words["item"]).select_option(
            str(items[1]["id"])
        )
        page.locator("#e2-count").fill("1,5")
        page.get_by_role("button", name=words["add_material"]).click()
        page.locator("#m1-name").fill("Belt")
        page.locator("#m1-price").fill("10")
        page.get_by_role("button", name=words["add_material"]).click()
        page.get_by_role("group", name=words["material_2"], exact=True).get_by_label(words["name"]).fill("Wrong part")
        page.get_by_role("button", name=words["add_material"]).click()
        page.locator("#m3-name").fill("Fuse")
        page.locator("#m3-count").fill("2")
        page.locator("#m3-price").fill("0,5")
        page.get_by_role("button", name=words["remove_material_2"]).click()  # the rows below move up
        assert page.locator("#m2-name").input_value() == "Fuse" and page.locator("#m2-count").input_value() == "2"
        assert page.locator("#m3-name").is_hidden() and page.locator("#m3-name").input_value() == ""
        for box in page.evaluate(ROW_BUTTONS + ".map(b => [b.textContent, b.getBoundingClientRect().height])"):
            assert box[1] >= 44, box  # Add and Remove are thumb-sized
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        page.wait_for_selector("#field-status[data-state=saved]")
        page.wait_for_timeout(300)  # the last keystroke's draft write

        page.reload()  # offline: the service worker answers and the draft brings the added rows back
        page.wait_for_function("() => document.getElementById('m2-name').value === 'Fuse'")
        assert page.locator("#e2-count").is_visible() and page.locator("#e2-count").input_value() == "1,5"
        assert page.locator("#e2-item").input_value() == str(items[1]["id"])
        assert page.locator("#m2-name").is_visible() and page.locator("#m3-name").is_hidden()
        assert page.locator("#comments").input_value() == "Rows offline"
        page.get_by_role("button", name=words["send"]).click()
        page.wait_for_selector("#field-status[data-report=queued]")
        (report,) = page.evaluate(QUEUED_REPORT)
        body = json.loads(report["body"])
        assert sorted((e["expenditureItemId"], e["count"]) for e in body["expenses"]) == sorted(
            [(items[0]["id"], 3), (items[1]["id"], 1.5)]
        )
        assert [(m["name"], m["count"], m["price"]) for m in body["materials"]] == [("Belt", 1, 10), ("Fuse", 2, 0.5)]
        page.reload()  # still offline: the report waits in the outbox with all its rows
        page.wait_for_selector("#field-status[data-state=queued]")
        context.set_offline(False)
        for _ in range(200):
            if live_server.run(_call(live_server, seed))["status"] == "Done":
                break
            page.wait_for_timeout(100)
        assert console_errors == [], console_errors
    finally:
        context.close()

    async def estimate() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=live_server.url, headers=seed["tenant"].erp) as erp:
            return (await erp.get(f"/callCost/call/{seed['call']['id']}")).json()  # type: ignore[no-any-return]

    cost = live_server.run(estimate())
    assert sorted((e["expenditureItemId"], Decimal(str(e["count"]))) for e in cost["expenses"]) == sorted(
        [(items[0]["id"], Decimal("3")), (items[1]["id"], Decimal("1.5"))]
    )
    assert [(m["name"], m["total"]) for m in cost["materials"]] == [("Belt", "10.00"), ("Fuse", "1.00")]


def test_a_draft_from_before_the_expense_rows_comes_back_as_rows(chromium: Any, live_server: LiveServer) -> None:  # noqa: F811
    """A draft a phone kept before the update (one field per expense item, expense_<item id>) is not lost: the
    page turns it into expense rows, shown and filled."""
    seed = live_server.run(_dispatched_call(live_server, accept_and_link=True))
    items = live_server.run(_call(live_server, seed))["availableExpenditureItems"]
    first, second = items[0]["id"], items[1]["id"]
    context, page, console_errors = new_page(chromium, PHONE)
    try:
        page.goto(f"{live_server.url}/ui/link/{seed['token']}")
        _until(page, CACHED)
        legacy = {
            "comments": "Old draft",
            f"expense_{first}": "",
            f"expense_{second}": "7,5",
            "material_1_name": "Belt",
        }
        page.evaluate(
            "([key, values]) => new Promise(r => { const o = indexedDB.open('cabinet-field', 1); o.onsuccess = () => {"
            " const t = o.result.transaction('drafts', 'readwrite');"
            " t.objectStore('drafts').put({values: values, saved: Date.now()}, key);"
            " t.oncomplete = () => r(true); }; })",
            [f"draft:{seed['token']}", legacy],
        )
        page.reload()
        page.wait_for_function("() => document.getElementById('comments').value === 'Old draft'")
        assert page.locator("#e1-item").input_value() == str(second)  # the empty one is no row
        assert page.locator("#e1-count").input_value() == "7,5"
        assert page.locator("#e2-count").is_hidden() and page.locator("#m1-name").input_value() == "Belt"
        assert console_errors == [], console_errors
    finally:
        context.close()
