"""Field links, attachments and cost estimates on the web pages, over HTTP: the field employee's report is the
/shared/call/done operation (tasks, comment, expenses and materials into the estimate), photos get thumbnails,
a dead link says so, and the contractor's estimate editor works through CostService."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from cabinet.domains.audit.schemas import AuditQuery
from tests.apis.contractor.files_support import jpeg, pdf
from tests.apis.contractor.support import PASSWORD, make_tenant
from tests.apis.web.support import csrf_of, page_token, sign_in, web_client

LINK_RE = re.compile(r'id="new-link" href="https?://[^/]+(/ui/link/[A-Za-z0-9_.-]+)"')


async def _accepted_call(client: httpx.AsyncClient, browser: httpx.AsyncClient, services: Any) -> tuple[Any, dict]:
    tenant = await make_tenant(services)
    name, user_id = await tenant.register(client)
    call = await tenant.dispatch(client, user_id)
    await sign_in(browser, name, PASSWORD)
    token = await page_token(browser, f"/ui/calls/{call['id']}")
    accepted = await browser.post(f"/ui/calls/{call['id']}/status", data={"status": "Committed", "csrf_token": token})
    assert accepted.status_code == 303
    return tenant, call


async def _issue_link(browser: httpx.AsyncClient, call_id: int) -> str:
    token = await page_token(browser, f"/ui/calls/{call_id}")
    issued = await browser.post(f"/ui/calls/{call_id}/link", data={"csrf_token": token})
    assert issued.status_code == 303 and issued.headers["location"] == f"/ui/calls/{call_id}#field-link"
    shown = await browser.get(f"/ui/calls/{call_id}")  # Post/Redirect/Get: the link is on the next page, once
    assert "<svg" in shown.text and "QR code of the field link" in shown.text
    match = LINK_RE.search(shown.text)
    assert match, "the page shows the new link"
    again = await browser.get(f"/ui/calls/{call_id}")
    assert LINK_RE.search(again.text) is None, "a reload shows no link"
    return match.group(1)


async def test_field_employee_reports_the_visit_and_adds_a_photo(
    app: Any, client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    tenant, call = await _accepted_call(client, browser_a, services)
    link = await _issue_link(browser_a, call["id"])
    diagnose, repair = (t["id"] for t in call["tasks"])
    fuel = call_items = (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()[
        "availableExpenditureItems"
    ]
    fuel, other = call_items[0]["id"], call_items[1]["id"]
    async with web_client(app) as phone:  # no account, no cookie: only the link
        visit = await phone.get(link)
        assert visit.status_code == 200
        assert "Main st. 1" in visit.text and "ATM does not dispense" in visit.text
        assert "openstreetmap.org/?mlat=55.75&amp;mlon=37.62" in visit.text and 'href="geo:55.75,37.62"' in visit.text
        assert "Sign out" not in visit.text  # the contractor's menu is not shown
        refused = await phone.post(f"{link}/done", data={"comments": "done", f"task_{diagnose}": "Done"})
        assert refused.status_code == 403  # no CSRF token
        form = {
            "csrf_token": csrf_of(visit.text),
            "comments": "Replaced the dispenser",
            f"task_{diagnose}": "Done",
            f"task_{repair}": "Canceled",
            "expense_row_1_item": str(fuel),  # rows added one at a time; two rows of one item add up
            "expense_row_1_count": "10",
            "expense_row_2_item": str(fuel),
            "expense_row_2_count": "2,5",
            "expense_row_3_item": str(fuel),  # a row left empty is no expense
            "expense_row_3_count": "",
            f"expense_{other}": "1",  # the form before the rows (a draft kept across an update) still counts
            "material_1_name": "Dispenser belt",
            "material_1_serial": "SN-1",
            "material_1_owner": "Contractor",
            "material_1_count": "2",
            "material_1_price": "10.05",
        }
        reported = await phone.post(f"{link}/done", data=form)
        assert reported.status_code == 303, reported.text
        after = await phone.get(link)
        assert "the visit is reported" in after.text and 'accept="image/*" capture="environment"' in after.text
        photo_action = re.search(rf'action="({link}/tasks/{diagnose}/photo\?csrf_token=[0-9a-f]+)"', after.text)
        assert photo_action
        uploaded = await phone.post(
            photo_action.group(1), files={"photo": ("IMG_0001.jpg", jpeg((800, 600)), "image/jpeg")}
        )
        assert uploaded.status_code == 303, uploaded.text
        with_photo = await phone.get(link)
        thumb = re.search(rf'src="({link}/tasks/{diagnose}/attachments/\d+/thumb)"', with_photo.text)
        assert thumb
        small = await phone.get(thumb.group(1))
        assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
        assert len(small.content) < len(jpeg((800, 600)))
    state = (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()
    assert state["status"] == "Done" and state["comments"] == "Replaced the dispenser"
    assert {t["id"]: t["status"] for t in state["tasks"]} == {diagnose: "Done", repair: "Canceled"}
    cost = await client.get(f"/callCost/call/{call['id']}", headers=tenant.erp)
    assert cost.status_code == 200, cost.text
    body = cost.json()
    assert sorted((e["expenditureItemId"], Decimal(str(e["count"]))) for e in body["expenses"]) == sorted(
        [(fuel, Decimal("12.5")), (other, Decimal("1"))]
    )
    assert [(m["name"], m["total"]) for m in body["materials"]] == [("Dispenser belt", "20.10")]
    # the contractor sees the photo's thumbnail on its call page
    page = await browser_a.get(f"/ui/calls/{call['id']}")
    assert re.search(rf'src="/ui/tasks/{diagnose}/attachments/\d+/thumb"', page.text)
    # the audit names the call by its number for the link's issue and the field employee's changes alike
    await services.audit.flush()
    now = datetime.now(UTC)
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=now - timedelta(hours=1), date_to=now + timedelta(hours=1), limit=100)
    )
    targets = {(r.operation, r.target) for r in rows}
    for operation in ("ui_createCallTempLink", "ui_reportSharedCallDone", "ui_attachSharedCallTaskFile"):
        assert (operation, f"call {call['number']}") in targets, (operation, targets)


async def test_a_replaced_or_unknown_link_says_so(
    app: Any, client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    _, call = await _accepted_call(client, browser_a, services)
    first = await _issue_link(browser_a, call["id"])
    second = await _issue_link(browser_a, call["id"])
    async with web_client(app) as phone:
        old = await phone.get(first)
        assert old.status_code == 404 and "replaced by a newer one" in old.text
        assert (await phone.get(second)).status_code == 200
        forged = await phone.get("/ui/link/" + "A" * 64)
        assert forged.status_code == 404 and "No call is reachable with this link" in forged.text
        too_long = await phone.get("/ui/link/" + "A" * 600)
        assert too_long.status_code == 400


async def test_contractor_edits_and_sends_a_cost_estimate_and_attaches_files(
    client: httpx.AsyncClient, browser_a: httpx.AsyncClient, services: Any
) -> None:
    tenant, call = await _accepted_call(client, browser_a, services)
    base = f"/ui/calls/{call['id']}/cost"
    empty = await browser_a.get(base)
    assert "Open a cost estimate" in empty.text
    token = csrf_of(empty.text)
    assert (await browser_a.post(base, data={"csrf_token": token})).status_code == 303
    item = call_items = (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()[
        "availableExpenditureItems"
    ]
    item = call_items[1]["id"]
    added = await browser_a.post(f"{base}/expenses", data={"item": item, "count": "3", "csrf_token": token})
    assert added.status_code == 303
    bad = await browser_a.post(
        f"{base}/materials",
        data={"name": "Bolt", "owner": "Contractor", "count": "x", "price": "1", "csrf_token": token},
    )
    assert bad.status_code == 400 and "Enter a number" in bad.text and "“count”" not in bad.text
    material = {"name": "Bolt", "serial": "", "owner": "Unknown", "count": "3", "price": "0.335", "csrf_token": token}
    too_precise = await browser_a.post(f"{base}/materials", data=material)
    assert too_precise.status_code == 400  # the domain's rule: at most 2 places in a price
    material["price"] = "0.35"
    assert (await browser_a.post(f"{base}/materials", data=material)).status_code == 303
    editor = await browser_a.get(base)
    assert "Bolt" in editor.text and "1.05" in editor.text  # 3 x 0.35
    # each line is changed in place: its own form, the current values in it, the line total beside
    line_id = re.search(r'id="material-(\d+)"', editor.text).group(1)  # type: ignore[union-attr]
    expense_id = re.search(r'id="expense-(\d+)"', editor.text).group(1)  # type: ignore[union-attr]
    assert f'id="m{line_id}-price"' in editor.text and 'value="0.35"' in editor.text
    edited = {**material, "name": "Bolt M8", "count": "4", "price": "1,25"}  # a decimal comma is taken
    saved = await browser_a.post(f"{base}/materials/{line_id}", data=edited)
    assert saved.status_code == 303 and saved.headers["location"] == f"{base}#material-{line_id}"
    changed = (await client.get(f"/callCost/call/{call['id']}", headers=tenant.erp)).json()
    assert [(m["name"], m["count"], m["price"]) for m in changed["materials"]] == [("Bolt M8", 4, 1.25)]
    assert "5.00" in (await browser_a.get(base)).text  # the line total and the total: 4 x 1.25
    expense = {"item": item, "count": "2,5", "csrf_token": token}
    assert (await browser_a.post(f"{base}/expenses/{expense_id}", data=expense)).status_code == 303
    erp_view = (await client.get(f"/callCost/call/{call['id']}", headers=tenant.erp)).json()
    assert erp_view["expenses"][0]["count"] == 2.5
    wrong = await browser_a.post(f"{base}/materials/{line_id}", data={**edited, "price": "abc"})
    assert wrong.status_code == 400  # nothing changed
    erp_view = (await client.get(f"/callCost/call/{call['id']}", headers=tenant.erp)).json()
    assert erp_view["materials"][0]["price"] == 1.25
    assert (await browser_a.post(f"{base}/materials/999999999", data=edited)).status_code == 404
    sent = await browser_a.post(f"{base}/send", data={"csrf_token": token})
    assert sent.status_code == 303
    assert (await client.get(f"/callCost/call/{call['id']}", headers=tenant.erp)).json()["status"] == "InProgress"
    after = await browser_a.get(base)
    assert "Send the estimate" not in after.text and "Sent for review" in after.text
    assert f'id="m{line_id}-price"' not in after.text and "Bolt M8" in after.text  # read-only once sent
    late = await browser_a.post(f"{base}/materials/{line_id}", data={**edited, "count": "9"})
    assert late.status_code == 409  # a sent estimate is not edited (an old page)

    # files on a Done task of the accepted call
    diagnose = call["tasks"][0]["id"]
    await browser_a.post(f"/ui/tasks/{diagnose}/status", data={"status": "Done", "csrf_token": token})
    no_token = await browser_a.post(
        f"/ui/tasks/{diagnose}/attachments", files={"file": ("report.pdf", pdf(), "application/pdf")}
    )
    assert no_token.status_code == 403
    attached = await browser_a.post(
        f"/ui/tasks/{diagnose}/attachments?csrf_token={token}", files={"file": ("report.pdf", pdf(), "application/pdf")}
    )
    assert attached.status_code == 303, attached.text
    refused = await browser_a.post(
        f"/ui/tasks/{diagnose}/attachments?csrf_token={token}",
        files={"file": ("evil.exe", b"MZ" + b"\0" * 200, "x/y")},
        headers={"Referer": f"https://testserver/ui/calls/{call['id']}"},  # an upload's body is never read again
    )
    assert refused.status_code == 422 and "This file cannot be taken" in refused.text
    page = await browser_a.get(f"/ui/calls/{call['id']}")
    link = re.search(rf'href="(/ui/tasks/{diagnose}/attachments/\d+)">report.pdf<', page.text)
    assert link
    download = await browser_a.get(link.group(1))
    assert download.status_code == 200 and download.content == pdf()
    assert download.headers["content-type"] == "application/pdf"


async def test_files_and_estimates_of_another_tenant_are_not_found(
    app: Any, client: httpx.AsyncClient, browser_a: httpx.AsyncClient, browser_b: httpx.AsyncClient, services: Any
) -> None:
    _, call_a = await _accepted_call(client, browser_a, services)
    _, call_b = await _accepted_call(client, browser_b, services)
    task_a = call_a["tasks"][0]["id"]
    token_a = await page_token(browser_a, f"/ui/calls/{call_a['id']}")
    await browser_a.post(f"/ui/tasks/{task_a}/status", data={"status": "Done", "csrf_token": token_a})
    attached = await browser_a.post(
        f"/ui/tasks/{task_a}/attachments?csrf_token={token_a}", files={"file": ("a.jpg", jpeg(), "image/jpeg")}
    )
    assert attached.status_code == 303
    page = await browser_a.get(f"/ui/calls/{call_a['id']}")
    thumb = re.search(rf'src="(/ui/tasks/{task_a}/attachments/(\d+)/thumb)"', page.text)
    assert thumb and (await browser_a.get(thumb.group(1))).status_code == 200
    # the other tenant's contractor, and the other call's field link, reach none of it
    assert (await browser_b.get(thumb.group(1))).status_code == 404
    assert (await browser_b.get(f"/ui/tasks/{task_a}/attachments/{thumb.group(2)}")).status_code == 404
    assert (await browser_b.get(f"/ui/calls/{call_a['id']}/cost")).status_code == 404
    report = re.search(r'href="(/ui/calls/\d+/report.pdf)"', page.text)
    assert report and report.group(1) == f"/ui/calls/{call_a['id']}/report.pdf"  # the call page links its report
    own = await browser_a.get(report.group(1))
    assert own.status_code == 200 and own.content.startswith(b"%PDF-")
    assert own.headers["content-type"] == "application/pdf"
    assert (await browser_b.get(report.group(1))).status_code == 404
    bundle = await browser_a.get(f"/ui/calls/{call_a['id']}/evidence.zip")
    assert bundle.status_code == 200 and bundle.content.startswith(b"PK")
    assert f'href="/ui/calls/{call_a["id"]}/evidence.zip"' in page.text
    assert (await browser_b.get(f"/ui/calls/{call_a['id']}/evidence.zip")).status_code == 404
    token_b = await page_token(browser_b, f"/ui/calls/{call_b['id']}")
    upload = await browser_b.post(
        f"/ui/tasks/{task_a}/attachments?csrf_token={token_b}", files={"file": ("b.jpg", jpeg(), "image/jpeg")}
    )
    assert upload.status_code == 404
    # another tenant's estimate line is not found, through the call's address or through one's own call
    cost_a = f"/ui/calls/{call_a['id']}/cost"
    assert (await browser_a.post(cost_a, data={"csrf_token": token_a})).status_code == 303
    line = {"name": "Part", "serial": "", "owner": "Unknown", "count": "1", "price": "2", "csrf_token": token_a}
    assert (await browser_a.post(f"{cost_a}/materials", data=line)).status_code == 303
    line_a = re.search(r'id="material-(\d+)"', (await browser_a.get(cost_a)).text).group(1)  # type: ignore[union-attr]
    foreign_line = {**line, "name": "Taken", "csrf_token": token_b}
    assert (await browser_b.post(f"{cost_a}/materials/{line_a}", data=foreign_line)).status_code == 404
    cost_b = f"/ui/calls/{call_b['id']}/cost"
    assert (await browser_b.post(cost_b, data={"csrf_token": token_b})).status_code == 303
    assert (await browser_b.post(f"{cost_b}/materials/{line_a}", data=foreign_line)).status_code == 404
    assert "Taken" not in (await browser_a.get(cost_a)).text
    link_b = await _issue_link(browser_b, call_b["id"])
    async with web_client(app) as phone:
        foreign = await phone.get(f"{link_b}/tasks/{task_a}/attachments/{thumb.group(2)}/thumb")
        assert foreign.status_code in (403, 404)
        assert b"\xff\xd8" not in foreign.content  # no image bytes


def test_an_erp_description_keeps_its_lines_and_nothing_else() -> None:
    from cabinet.apis.web.formats import html_text

    described = (
        "<p>ATM does not <b>dispense</b></p><p>Call ahead:<br>+7 495 000-00-00</p>"
        "<ul><li>key at the desk</li><li>door 3</li></ul><script>alert(1)</script><style>p{}</style>"
        "<p>5 &lt; 6 &amp; &quot;ok&quot;</p>"
    )
    assert html_text(described) == (
        'ATM does not dispense\nCall ahead:\n+7 495 000-00-00\n• key at the desk\n• door 3\n5 < 6 & "ok"'
    )
    assert html_text(None) == "" and html_text("<p></p><br><br><br>") == ""


async def test_the_field_app_is_named_for_the_deployment_in_the_visitors_language(app: Any) -> None:
    for language, name in (("ru", "cabinet · выездные работы"), ("en", "cabinet · field work")):
        async with web_client(app, language=language) as phone:
            manifest = (await phone.get("/ui/link/" + "A" * 64 + "/manifest.webmanifest")).json()
        assert manifest["name"] == name and manifest["lang"] == language and manifest["short_name"] == "cabinet"
