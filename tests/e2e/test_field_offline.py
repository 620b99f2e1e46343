"""The field page offline (issue 19 section 3), in real headless Chromium on a 360 px phone with Playwright's
offline switch: the page reopens without a network (service worker), what was typed survives a reload (IndexedDB),
a report sent offline waits on the phone and says so, and reaches the server once, by itself, when the network
returns; the same request replayed with its Idempotency-Key changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.test_web_browser import PHONE, _dispatched_call, chromium, live_server, new_page  # noqa: F401
from tests.helpers import LiveServer

CACHED = "() => caches.open('cabinet-field-v1').then(c => c.match(location.pathname)).then(r => !!r)"


async def _call(server: LiveServer, seed: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers=seed["tenant"].erp) as erp:
        return (await erp.get(f"/call/{seed['call']['id']}")).json()  # type: ignore[no-any-return]


def test_a_report_written_offline_reaches_the_server_once(chromium: Any, live_server: LiveServer) -> None:  # noqa: F811
    seed = live_server.run(_dispatched_call(live_server, accept_and_link=True))
    diagnose, repair = seed["call"]["tasks"]
    context, page, console_errors = new_page(chromium, PHONE)
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            sent.append({"key": r.headers.get("idempotency-key"), "body": r.post_data})
            if "/shared/call/done" in r.url
            else None
        ),
    )
    try:
        url = f"{live_server.url}/ui/link/{seed['token']}"
        page.goto(url)
        manifest = page.locator("link[rel=manifest]").get_attribute("href")
        assert manifest == f"/ui/link/{seed['token']}/manifest.webmanifest"
        page.wait_for_function(
            "() => navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller || true)"
        )
        page.wait_for_function(CACHED)

        context.set_offline(True)
        page.locator(f"#task-{diagnose['id']}-Done").check()
        page.locator(f"#task-{repair['id']}-Canceled").check()
        page.get_by_label("Comment (required)").fill("Fixed in the basement")
        page.wait_for_selector("#field-status[data-state=saved]")
        page.reload()  # no network: the service worker answers, the draft comes back
        page.wait_for_function("() => document.getElementById('comments').value === 'Fixed in the basement'")
        assert page.locator(f"#task-{diagnose['id']}-Done").is_checked()
        page.get_by_role("button", name="Send the report").click()
        page.wait_for_selector("#field-status[data-state=queued]")
        assert "not yet at the office" in page.locator("#field-status").inner_text()
        page.reload()  # still offline: the report waits in the outbox
        page.wait_for_selector("#field-status[data-state=queued]")
        assert live_server.run(_call(live_server, seed))["status"] == "Committed"

        context.set_offline(False)  # the online event sends the outbox
        page.wait_for_function(
            "() => ['sent', 'refused'].includes(document.getElementById('field-status')?.dataset.state)"
            " || document.querySelector('[id^=photo-]') !== null"
        )
        page.wait_for_selector("text=Upload photo")  # the page reloads onto the Done view
        assert console_errors == [], console_errors
    finally:
        context.close()
    call = live_server.run(_call(live_server, seed))
    assert call["status"] == "Done" and call["comments"] == "Fixed in the basement"
    assert [t["status"] for t in call["tasks"]] == ["Done", "Canceled"]
    delivered = [s for s in sent if s["key"]]
    assert delivered and len({s["key"] for s in delivered}) == 1  # one report, one key, however many tries

    async def replay() -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            return await client.post(
                f"/shared/call/done?token={seed['token']}",
                content=delivered[0]["body"],
                headers={"Content-Type": "application/json", "Idempotency-Key": delivered[0]["key"]},
            )

    again = live_server.run(replay())
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert live_server.run(_call(live_server, seed))["timestamp"] == call["timestamp"]  # nothing changed
