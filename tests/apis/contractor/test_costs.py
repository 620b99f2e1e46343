"""Cost estimates over the wire (/callCost): every endpoint's status and ErrorDTO codes, who may do what, another
tenant's or contractor's ids answering 404, wrong states 409, adversarial input 400, exact decimal totals, the
deadline with a controlled clock and the company's timezone, the cost feed, and concurrent sends and decisions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import update

from cabinet.core.clock import OffsetClock
from cabinet.core.db.uow import unit_of_work
from cabinet.domains.registry import Services
from cabinet.models import Company
from tests.apis.contractor.support import Tenant, bearer, make_tenant

FUSE = {"count": 1, "name": "Fuse", "ownerType": "Contractor", "price": 0.1, "serialNumber": "SN-1"}


def status(response: httpx.Response) -> tuple[int, int | None]:
    """(HTTP status, errorCode or None for a success)."""
    if response.status_code >= 400:
        return response.status_code, response.json()["errorCode"]
    return response.status_code, None


async def committed_call(client: httpx.AsyncClient, tenant: Tenant) -> tuple[int, dict[str, str], list[int]]:
    """A call accepted by a new contractor: (call id, the contractor's headers, the call's expenditure item ids)."""
    owner_id, headers = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    answer = await client.post(f"/call/{call['id']}/status", json={"status": "Committed"}, headers=headers)
    assert answer.status_code == 200, answer.text
    items = (await client.get(f"/call/{call['id']}", headers=headers)).json()["availableExpenditureItems"]
    return call["id"], headers, [i["id"] for i in items]


async def set_company_timezone(services: Services, company: str, hours: int) -> None:
    async with unit_of_work(services.costs.db) as session:
        await session.execute(update(Company).where(Company.key == company).values(timezone=hours))


async def test_every_endpoint_answers_its_documented_codes(client: httpx.AsyncClient, tenant: Tenant) -> None:
    erp = tenant.erp
    owner_id, me = await tenant.contractor(client)
    new_call = (await tenant.dispatch(client, owner_id))["id"]
    # a New call has no estimate and cannot get one; unknown calls are 404 code 1 everywhere
    assert status(await client.post(f"/callCost/call/{new_call}", headers=me)) == (409, 10)
    assert status(await client.get(f"/callCost/call/{new_call}", headers=erp)) == (404, 2)
    for method, path, body in (
        ("POST", "/callCost/call/{}", None),
        ("GET", "/callCost/call/{}", None),
        ("POST", "/callCost/call/{}/expense", {"count": 1, "expenditureItemId": 1}),
        ("PATCH", "/callCost/call/{}/expense/1", {"count": 1}),
        ("DELETE", "/callCost/call/{}/expense/1", None),
        ("POST", "/callCost/call/{}/material", FUSE),
        ("PATCH", "/callCost/call/{}/material/1", {"count": 1}),
        ("DELETE", "/callCost/call/{}/material/1", None),
        ("POST", "/callCost/status/call/{}", None),
    ):
        answer = await client.request(method, path.format(999_999), json=body, headers=me)
        assert status(answer) == (404, 1), (method, path)
    decided = {"expenses": {"1": "Approved"}}
    assert status(await client.patch("/callCost/call/999999/changeApprovalStatus", json=decided, headers=erp)) == (
        404,
        1,
    )

    cid, me, (fuel, parking) = await committed_call(client, tenant)
    for method, path in (("POST", "/callCost/call/{}/expense"), ("POST", "/callCost/call/{}/material")):
        body = {"count": 1, "expenditureItemId": fuel} if "expense" in path else FUSE
        assert status(await client.request(method, path.format(cid), json=body, headers=me)) == (404, 2)
    assert status(await client.post(f"/callCost/status/call/{cid}", headers=me)) == (404, 2)
    # the external system neither opens nor edits; the contractor does not decide
    assert status(await client.post(f"/callCost/call/{cid}", headers=erp)) == (403, 0)
    created = await client.post(f"/callCost/call/{cid}", headers=me)
    assert created.status_code == 200
    estimate = created.json()
    assert (estimate["status"], estimate["expenses"], estimate["materials"], estimate["materialsTotal"]) == (
        "Draft",
        [],
        [],
        "0.00",
    )
    assert estimate["editableUntil"] is None and estimate["sent"] is None  # the call is not finished yet
    assert status(await client.post(f"/callCost/call/{cid}", headers=me)) == (409, 10)  # one per call
    assert status(await client.post(f"/callCost/status/call/{cid}", headers=me)) == (409, 14)  # nothing to send
    assert status(await client.patch(f"/callCost/call/{cid}/changeApprovalStatus", json=decided, headers=me)) == (
        403,
        0,
    )

    # lines: an item outside the call's catalog is 400 code 15; unknown lines 404 code 3 / 4
    other_call = (await tenant.dispatch(client, owner_id))["id"]
    foreign_item = (await client.get(f"/call/{other_call}", headers=erp)).json()["availableExpenditureItems"][0]["id"]
    added = await client.post(f"/callCost/call/{cid}/expense", json={"count": 1, "expenditureItemId": fuel}, headers=me)
    assert added.status_code == 200 and set(added.json()) == {"id"}
    expense = added.json()["id"]
    wrong_item = {"count": 1, "expenditureItemId": foreign_item}
    assert status(await client.post(f"/callCost/call/{cid}/expense", json=wrong_item, headers=me)) == (400, 15)
    assert status(await client.patch(f"/callCost/call/{cid}/expense/{expense}", json=wrong_item, headers=me)) == (
        400,
        15,
    )
    assert status(await client.post(f"/callCost/call/{cid}/expense", json={**wrong_item}, headers=erp)) == (403, 0)
    material = (await client.post(f"/callCost/call/{cid}/material", json=FUSE, headers=me)).json()["id"]
    for path, code in (
        (f"/callCost/call/{cid}/expense/{material + 1000}", 3),
        (f"/callCost/call/{cid}/material/{material + 1000}", 4),
    ):
        assert status(await client.patch(path, json={"count": 2}, headers=me)) == (404, code)
        assert status(await client.delete(path, headers=me)) == (404, code)
    patched = await client.patch(
        f"/callCost/call/{cid}/expense/{expense}", json={"expenditureItemId": parking}, headers=me
    )
    assert patched.status_code == 204
    assert status(await client.patch(f"/callCost/call/{cid}/material/{material}", json={"price": 2.5}, headers=me)) == (
        204,
        None,
    )
    spare = (await client.post(f"/callCost/call/{cid}/material", json=FUSE, headers=me)).json()["id"]
    assert status(await client.delete(f"/callCost/call/{cid}/material/{spare}", headers=me)) == (204, None)
    assert status(await client.delete(f"/callCost/call/{cid}/material/{spare}", headers=me)) == (404, 4)
    estimate = (await client.get(f"/callCost/call/{cid}", headers=me)).json()
    assert [(e["id"], e["expenditureItemId"], e["count"], e["status"]) for e in estimate["expenses"]] == [
        (expense, parking, 1, "New")
    ]
    assert [(m["id"], m["price"], m["total"]) for m in estimate["materials"]] == [(material, 2.5, "2.50")]

    # decisions only on a sent estimate; sending freezes the Draft
    on_draft = {"expenses": {str(expense): "Approved"}}  # a real line: the Draft itself is what refuses
    assert status(await client.patch(f"/callCost/call/{cid}/changeApprovalStatus", json=on_draft, headers=erp)) == (
        409,
        13,
    )
    assert status(await client.post(f"/callCost/status/call/{cid}", headers=me)) == (204, None)
    assert status(await client.post(f"/callCost/status/call/{cid}", headers=me)) == (409, 11)
    for method, path, body in (
        ("POST", f"/callCost/call/{cid}/expense", {"count": 1, "expenditureItemId": fuel}),
        ("PATCH", f"/callCost/call/{cid}/expense/{expense}", {"count": 3}),
        ("DELETE", f"/callCost/call/{cid}/expense/{expense}", None),
        ("POST", f"/callCost/call/{cid}/material", FUSE),
        ("PATCH", f"/callCost/call/{cid}/material/{material}", {"count": 3}),
        ("DELETE", f"/callCost/call/{cid}/material/{material}", None),
    ):
        assert status(await client.request(method, path, json=body, headers=me)) == (409, 11), (method, path)
    sent = (await client.get(f"/callCost/call/{cid}", headers=erp)).json()
    assert sent["status"] == "InProgress" and sent["sent"] is not None

    # the external system decides: unknown lines 404 3 / 4, New or empty 400, then line by line to Processed
    approvals = f"/callCost/call/{cid}/changeApprovalStatus"
    for body, expected in (
        ({"expenses": {str(expense + 10**6): "Approved"}}, (404, 3)),
        ({"materials": {str(material + 10**6): "Approved"}}, (404, 4)),
        ({"expenses": {str(expense): "New"}}, (400, 0)),
        ({"expenses": {str(expense): "Maybe"}}, (400, 0)),
        ({"expenses": {"abc": "Approved"}}, (400, 0)),
        ({"expenses": {"-1": "Approved"}}, (400, 0)),
        ({}, (400, 0)),
        ({"expenses": []}, (400, 0)),
    ):
        assert status(await client.patch(approvals, json=body, headers=erp)) == expected, body
    assert (await client.patch(approvals, content=b"not json", headers=erp)).status_code == 400
    partial = await client.patch(approvals, json={"expenses": {str(expense): "Rejected"}}, headers=erp)
    assert partial.status_code == 204
    assert (await client.get(f"/callCost/call/{cid}", headers=erp)).json()["status"] == "InProgress"
    again = {"expenses": {str(expense): "ApprovedWithCorrection"}, "materials": {str(material): "Approved"}}
    assert (await client.patch(approvals, json=again, headers=erp)).status_code == 204
    done = (await client.get(f"/callCost/call/{cid}", headers=me)).json()
    assert done["status"] == "Processed" and done["processed"] is not None
    assert [e["status"] for e in done["expenses"]] == ["ApprovedWithCorrection"]
    assert [m["status"] for m in done["materials"]] == ["Approved"]
    assert status(await client.patch(approvals, json=again, headers=erp)) == (409, 13)
    notes = (await client.get("/notification", headers=me)).json()
    assert [n["kind"] for n in notes if n["callId"] == cid][0] == "call_cost_processed"
    assert "1 approved, 1 approved with correction, 0 rejected" in notes[0]["text"]


BAD_MATERIAL_VALUES: list[dict[str, Any]] = [
    {"count": "1"},
    {"count": True},
    {"count": None},
    {"count": 0},
    {"count": -1},
    {"count": 0.0001},
    {"count": 1_000_001},
    {"count": 10**40},
    {"count": 1e308},
    {"price": -0.01},
    {"price": 0.001},
    {"price": 1_000_000_000.01},
    {"price": "0.1"},
    {"price": [1]},
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 2001},
    {"name": "a\x00b"},
    {"name": 5},
    {"serialNumber": "s" * 257},
    {"ownerType": "Nobody"},
    {"ownerType": None},
]


async def test_bad_lines_are_400(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cid, me, _ = await committed_call(client, tenant)
    assert (await client.post(f"/callCost/call/{cid}", headers=me)).status_code == 200
    material = (await client.post(f"/callCost/call/{cid}/material", json=FUSE, headers=me)).json()["id"]
    for bad in BAD_MATERIAL_VALUES:
        answer = await client.post(f"/callCost/call/{cid}/material", json={**FUSE, **bad}, headers=me)
        assert status(answer) == (400, 0), bad
        answer = await client.patch(f"/callCost/call/{cid}/material/{material}", json=bad, headers=me)
        assert status(answer) == (400, 0), bad  # a PATCH refuses the same values (and null)
    for missing in FUSE:
        body = {k: v for k, v in FUSE.items() if k != missing}
        assert status(await client.post(f"/callCost/call/{cid}/material", json=body, headers=me)) == (400, 0)
    for expense in ({"count": 1}, {"count": 1, "expenditureItemId": 0}, {"count": 1, "expenditureItemId": 2**63}):
        assert status(await client.post(f"/callCost/call/{cid}/expense", json=expense, headers=me)) == (400, 0)
    for body in (b"", b"[]", b"{", b'{"count": NaN, "expenditureItemId": 1}', b'{"count": Infinity}'):
        answer = await client.post(f"/callCost/call/{cid}/expense", content=body, headers=me)
        assert status(answer) == (400, 0), body
    # nothing of that reached the estimate
    estimate = (await client.get(f"/callCost/call/{cid}", headers=me)).json()
    assert [m["id"] for m in estimate["materials"]] == [material] and estimate["expenses"] == []
    assert estimate["materials"][0] == {**estimate["materials"][0], "count": 1, "price": 0.1, "name": "Fuse"}


async def test_decimals_are_exact(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cid, me, (fuel, _) = await committed_call(client, tenant)
    await client.post(f"/callCost/call/{cid}", headers=me)
    lines = [
        (1, 0.1, "0.10"),
        (1, 0.2, "0.20"),  # 0.1 + 0.2 = 0.30, not 0.30000000000000004
        (3, 0.1, "0.30"),
        (0.5, 0.01, "0.01"),  # 0.005 rounds half-up to the cent
        (0.333, 0.01, "0.00"),  # 0.00333
        (1.005, 1000, "1005.00"),
        (999_999.999, 999_999_999.99, "999999998990000.00"),  # 999999998990000.00001 -> the cent
        (1_000_000, 1_000_000_000, "1000000000000000.00"),
        (2.5, 0, "0.00"),
    ]
    for count, price, _ in lines:
        body = {**FUSE, "count": count, "price": price}
        assert (await client.post(f"/callCost/call/{cid}/material", json=body, headers=me)).status_code == 200
    add = await client.post(
        f"/callCost/call/{cid}/expense", json={"count": 0.001, "expenditureItemId": fuel}, headers=me
    )
    assert add.status_code == 200
    estimate = (await client.get(f"/callCost/call/{cid}", headers=tenant.erp)).json()
    assert [(m["count"], m["price"], m["total"]) for m in estimate["materials"]] == lines
    assert estimate["materialsTotal"] == "1999999998991005.61"
    assert estimate["expenses"][0]["count"] == 0.001


async def test_other_tenants_and_contractors_get_404(
    client: httpx.AsyncClient, services: Services, tenant: Tenant
) -> None:
    cid, me, (fuel, _) = await committed_call(client, tenant)
    await client.post(f"/callCost/call/{cid}", headers=me)
    expense = (
        await client.post(f"/callCost/call/{cid}/expense", json={"count": 1, "expenditureItemId": fuel}, headers=me)
    ).json()["id"]
    material = (await client.post(f"/callCost/call/{cid}/material", json=FUSE, headers=me)).json()["id"]
    other = await make_tenant(services)
    _, stranger = await other.contractor(client)
    _, colleague = await tenant.contractor(client)  # same company, not the call's owner
    for who in (stranger, colleague):
        for method, path, body in (
            ("POST", f"/callCost/call/{cid}", None),
            ("GET", f"/callCost/call/{cid}", None),
            ("POST", f"/callCost/call/{cid}/expense", {"count": 1, "expenditureItemId": fuel}),
            ("PATCH", f"/callCost/call/{cid}/expense/{expense}", {"count": 2}),
            ("DELETE", f"/callCost/call/{cid}/expense/{expense}", None),
            ("POST", f"/callCost/call/{cid}/material", FUSE),
            ("PATCH", f"/callCost/call/{cid}/material/{material}", {"count": 2}),
            ("DELETE", f"/callCost/call/{cid}/material/{material}", None),
            ("POST", f"/callCost/status/call/{cid}", None),
        ):
            assert status(await client.request(method, path, json=body, headers=who)) == (404, 1), (method, path)
    approve = {"materials": {str(material): "Approved"}}
    assert status(
        await client.patch(f"/callCost/call/{cid}/changeApprovalStatus", json=approve, headers=other.erp)
    ) == (
        404,
        1,
    )
    assert status(await client.get(f"/callCost/call/{cid}", headers=other.erp)) == (404, 1)
    assert (await client.get("/callCost/modifications/0", headers=other.erp)).json() == []
    assert (await client.get("/callCost/modifications/0", headers=colleague)).json() == []
    # the owner sees only its estimate in the feed; a line is looked up within this call's estimate only
    cid2, me2, _ = await committed_call(client, tenant)
    await client.post(f"/callCost/call/{cid2}", headers=me2)
    other_material = (await client.post(f"/callCost/call/{cid2}/material", json=FUSE, headers=me2)).json()["id"]
    assert [c["callId"] for c in (await client.get("/callCost/modifications/0", headers=me)).json()] == [cid]
    assert status(await client.delete(f"/callCost/call/{cid}/material/{other_material}", headers=me)) == (404, 4)
    assert status(await client.delete(f"/callCost/call/{cid2}/material/{material}", headers=me2)) == (404, 4)


async def test_the_deadline_follows_the_company_timezone(
    client: httpx.AsyncClient, services: Services, tenant: Tenant, clock: OffsetClock
) -> None:
    """Finished on 31 January 22:30 UTC: in February at UTC+3, so editable until the end of 5 March there."""
    await set_company_timezone(services, tenant.company, 3)
    cid, _, (fuel, _) = await committed_call(client, tenant)
    username = next(reversed(tenant.contractors))

    async def at(moment: datetime) -> dict[str, str]:
        """Move the clock; a new sign-in (the old access token has expired by then)."""
        clock.offset = moment - datetime.now(UTC)
        return bearer((await tenant.sign_in(client, username))["access"]["token"])

    me = await at(datetime(2027, 1, 31, 22, 30, tzinfo=UTC))
    await client.post(f"/callCost/call/{cid}", headers=me)
    assert (await client.post(f"/call/{cid}/status", json={"status": "Done"}, headers=me)).status_code == 200
    until = (await client.get(f"/callCost/call/{cid}", headers=me)).json()["editableUntil"]
    assert until == "2027-03-05T21:00:00Z"
    body = {"count": 1, "expenditureItemId": fuel}
    me = await at(datetime(2027, 3, 5, 20, 59, 50, tzinfo=UTC))
    assert (await client.post(f"/callCost/call/{cid}/expense", json=body, headers=me)).status_code == 200
    me = await at(datetime(2027, 3, 5, 21, 0, 1, tzinfo=UTC))
    assert status(await client.post(f"/callCost/call/{cid}/expense", json=body, headers=me)) == (409, 12)
    assert status(await client.post(f"/callCost/status/call/{cid}", headers=me)) == (409, 12)
    # at UTC the same call was finished in January: its deadline was 6 February 00:00 UTC
    await set_company_timezone(services, tenant.company, 0)
    assert (await client.get(f"/callCost/call/{cid}", headers=me)).json()["editableUntil"] == "2027-02-06T00:00:00Z"
    # the external system moves the day to 28 (UTC+3 again): editable until 28 March there, and sendable
    await set_company_timezone(services, tenant.company, 3)
    answer = await client.patch("/systemSettings", json={"callCostDeadlineDayOfMonth": 28}, headers=tenant.erp)
    assert answer.json() == 28
    assert (await client.get(f"/callCost/call/{cid}", headers=me)).json()["editableUntil"] == "2027-03-28T21:00:00Z"
    assert status(await client.post(f"/callCost/status/call/{cid}", headers=me)) == (204, None)


async def test_cost_feed_carries_every_change_once_in_order(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cid, me, (fuel, _) = await committed_call(client, tenant)
    cursor = 0
    seen: list[tuple[str, int, int]] = []

    async def pull() -> list[dict[str, Any]]:
        nonlocal cursor
        items = (await client.get(f"/callCost/modifications/{cursor}", params={"limit": 1}, headers=tenant.erp)).json()
        for item in items:
            assert item["timestamp"] > cursor
            cursor = item["timestamp"]
            seen.append((item["status"], len(item["expenses"]) + len(item["materials"]), item["timestamp"]))
        return items

    await client.post(f"/callCost/call/{cid}", headers=me)
    assert len(await pull()) == 1
    expense = (
        await client.post(f"/callCost/call/{cid}/expense", json={"count": 1, "expenditureItemId": fuel}, headers=me)
    ).json()["id"]
    assert [len(c["expenses"]) for c in await pull()] == [1]
    await client.delete(f"/callCost/call/{cid}/expense/{expense}", headers=me)
    assert [len(c["expenses"]) for c in await pull()] == [0]  # a removed line disappears from the estimate
    material = (await client.post(f"/callCost/call/{cid}/material", json=FUSE, headers=me)).json()["id"]
    await client.patch(f"/callCost/call/{cid}/material/{material}", json={"count": 4}, headers=me)
    assert [c["materials"][0]["count"] for c in await pull()] == [4]  # two changes, the latest state once
    await client.post(f"/callCost/status/call/{cid}", headers=me)
    approve = {"materials": {str(material): "Rejected"}}
    await client.patch(f"/callCost/call/{cid}/changeApprovalStatus", json=approve, headers=tenant.erp)
    assert [c["status"] for c in await pull()] == ["Processed"]
    assert await pull() == []
    assert [s for s, _, _ in seen] == ["Draft", "Draft", "Draft", "Draft", "Processed"]
    numbers = [n for _, _, n in seen]
    assert numbers == sorted(set(numbers))
    # the contractor's own feed shows its estimate; bad cursors and limits are 400
    assert [c["callId"] for c in (await client.get("/callCost/modifications/0", headers=me)).json()] == [cid]
    for path in ("/callCost/modifications/-1", "/callCost/modifications/x", "/callCost/modifications/0?limit=0"):
        assert status(await client.get(path, headers=tenant.erp)) == (400, 0)


async def test_concurrent_sends_and_decisions_keep_one_outcome(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cid, me, (fuel, parking) = await committed_call(client, tenant)
    await client.post(f"/callCost/call/{cid}", headers=me)
    ids = []
    for item in (fuel, parking):
        body = {"count": 1, "expenditureItemId": item}
        ids.append((await client.post(f"/callCost/call/{cid}/expense", json=body, headers=me)).json()["id"])
    material = (await client.post(f"/callCost/call/{cid}/material", json=FUSE, headers=me)).json()["id"]
    sends = await asyncio.gather(*(client.post(f"/callCost/status/call/{cid}", headers=me) for _ in range(4)))
    assert sorted(status(r) for r in sends) == [(204, None), (409, 11), (409, 11), (409, 11)]
    # disjoint decisions at once: all succeed, the estimate is Processed once, one notification
    approvals = f"/callCost/call/{cid}/changeApprovalStatus"
    parts = [{"expenses": {str(ids[0]): "Approved"}}, {"expenses": {str(ids[1]): "Rejected"}}]
    parts.append({"materials": {str(material): "ApprovedWithCorrection"}})
    answers = await asyncio.gather(*(client.patch(approvals, json=p, headers=tenant.erp) for p in parts))
    assert [r.status_code for r in answers] == [204, 204, 204]
    final = (await client.get(f"/callCost/call/{cid}", headers=me)).json()
    assert final["status"] == "Processed"
    assert [e["status"] for e in final["expenses"]] == ["Approved", "Rejected"]
    assert [m["status"] for m in final["materials"]] == ["ApprovedWithCorrection"]
    notes = [n for n in (await client.get("/notification", headers=me)).json() if n["kind"] == "call_cost_processed"]
    assert len(notes) == 1
    # competing complete decisions on a second estimate: one wins, the others find it Processed
    cid2, me2, (fuel2, _) = await committed_call(client, tenant)
    await client.post(f"/callCost/call/{cid2}", headers=me2)
    line = (
        await client.post(f"/callCost/call/{cid2}/expense", json={"count": 2, "expenditureItemId": fuel2}, headers=me2)
    ).json()["id"]
    await client.post(f"/callCost/status/call/{cid2}", headers=me2)
    verdicts = ("Approved", "Rejected", "ApprovedWithCorrection")
    answers = await asyncio.gather(
        *(
            client.patch(
                f"/callCost/call/{cid2}/changeApprovalStatus", json={"expenses": {str(line): v}}, headers=tenant.erp
            )
            for v in verdicts
        )
    )
    assert sorted(status(r) for r in answers) == [(204, None), (409, 13), (409, 13)]
    winner = verdicts[[r.status_code for r in answers].index(204)]
    final = (await client.get(f"/callCost/call/{cid2}", headers=me2)).json()
    assert (final["status"], final["expenses"][0]["status"]) == ("Processed", winner)
    fed = [c for c in (await client.get("/callCost/modifications/0", headers=tenant.erp)).json() if c["callId"] == cid2]
    assert fed == [final]


async def test_the_estimate_follows_the_call_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """Opened on a Committed or Done call (not New, not Closed); its Draft stays editable on a Closed call until
    the deadline; a call handed back (New) freezes it."""
    cid, me, (fuel, _) = await committed_call(client, tenant)
    line = {"count": 1, "expenditureItemId": fuel}
    assert (await client.post(f"/call/{cid}/status", json={"status": "Done"}, headers=me)).status_code == 200
    assert status(await client.post(f"/callCost/call/{cid}", headers=me)) == (200, None)  # a Done call
    assert (await client.post(f"/call/{cid}/close", headers=tenant.erp)).status_code == 204
    assert status(await client.post(f"/callCost/call/{cid}/expense", json=line, headers=me)) == (200, None)
    assert status(await client.post(f"/callCost/status/call/{cid}", headers=me)) == (204, None)

    closed, me2, _ = await committed_call(client, tenant)
    assert (await client.post(f"/call/{closed}/status", json={"status": "Done"}, headers=me2)).status_code == 200
    assert (await client.post(f"/call/{closed}/close", headers=tenant.erp)).status_code == 204
    assert status(await client.post(f"/callCost/call/{closed}", headers=me2)) == (409, 10)

    back, me3, (fuel3, _) = await committed_call(client, tenant)
    assert status(await client.post(f"/callCost/call/{back}", headers=me3)) == (200, None)
    handed = await client.post(f"/call/{back}/status", json={"status": "New", "comments": "not ours"}, headers=me3)
    assert handed.status_code == 200
    line3 = {"count": 1, "expenditureItemId": fuel3}
    assert status(await client.post(f"/callCost/call/{back}/expense", json=line3, headers=me3)) == (409, 14)
    assert status(await client.post(f"/callCost/status/call/{back}", headers=me3)) == (409, 14)
    assert (await client.get(f"/callCost/call/{back}", headers=tenant.erp)).json()["status"] == "Draft"
