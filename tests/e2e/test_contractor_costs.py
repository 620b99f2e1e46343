"""A cost estimate's whole life through real HTTP (uvicorn on a loopback port), on a controlled clock, for a
company at UTC+3: the contractor accepts a call, builds the estimate (expenses from the call's catalog and
materials at 0.1 and 0.2 a unit: exact totals), finishes the call on 31 January 22:30 UTC (1 February there),
still edits it on 10 February (already too late at UTC) and sends it; the dispatcher (external system) decides
line by line (Approved, ApprovedWithCorrection, Rejected) and the estimate becomes Processed; the contractor is
notified; the cost feed carried every change once, in order. A second call finished at the same instant is
refused a late edit (409, errorCode 12) just after the end of 5 March there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import update

from cabinet.core.clock import OffsetClock
from cabinet.core.db.uow import unit_of_work
from cabinet.models import Company
from tests.apis.contractor.support import Tenant, bearer, call_body, make_tenant, signin_body
from tests.helpers import LiveServer

FINISHED = datetime(2027, 1, 31, 22, 30, tzinfo=UTC)


class CostFeed:
    """The external system's sync client for /callCost/modifications: one cursor, every change kept."""

    def __init__(self, http: httpx.Client, erp: dict[str, str]) -> None:
        self.http, self.erp, self.cursor = http, erp, 0
        self.changes: list[dict[str, Any]] = []

    def pull(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.http.get(f"/callCost/modifications/{self.cursor}", headers=self.erp).json()
        for item in items:
            assert item["timestamp"] > self.cursor
            self.cursor = item["timestamp"]
        self.changes += items
        return items


def test_cost_estimate_from_draft_to_processed(live_server: LiveServer, clock: OffsetClock) -> None:
    tenant: Tenant = live_server.run(make_tenant(live_server.services))
    erp = tenant.erp

    async def company_at_utc_plus_3() -> None:
        async with unit_of_work(live_server.services.costs.db) as session:
            await session.execute(update(Company).where(Company.key == tenant.company).values(timezone=3))

    live_server.run(company_at_utc_plus_3())
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        feed = CostFeed(http, erp)
        registered = http.post("/user/register", json={"userName": "olga_k", "password": "olga_pw_123"}, headers=erp)
        olga = registered.json()["id"]
        cid, late_cid = (http.post("/call", json=call_body(olga), headers=erp).json()["id"] for _ in range(2))

        def sign_in_at(moment: datetime) -> dict[str, str]:
            clock.offset = moment - datetime.now(UTC)
            return bearer(
                http.post("/user/signin", json=signin_body("olga_k", "olga_pw_123")).json()["access"]["token"]
            )

        me = sign_in_at(datetime(2027, 1, 31, 9, 0, tzinfo=UTC))
        for call_id in (cid, late_cid):
            assert http.post(f"/call/{call_id}/status", json={"status": "Committed"}, headers=me).status_code == 200
            assert http.post(f"/callCost/call/{call_id}", headers=me).status_code == 200
        fuel, parking = (i["id"] for i in http.get(f"/call/{cid}", headers=me).json()["availableExpenditureItems"])

        # the contractor builds the estimate: two expenses, three materials; changes one, removes one
        def add(kind: str, body: dict[str, Any], call_id: int = cid) -> int:
            answer = http.post(f"/callCost/call/{call_id}/{kind}", json=body, headers=me)
            assert answer.status_code == 200, answer.text
            return int(answer.json()["id"])

        fuel_line = add("expense", {"count": 40.5, "expenditureItemId": fuel})
        parking_line = add("expense", {"count": 1, "expenditureItemId": parking})
        part = {"name": "Fuse", "ownerType": "Contractor", "serialNumber": "F-1"}
        fuse = add("material", {**part, "count": 1, "price": 0.1})
        belt = add("material", {**part, "name": "Belt", "count": 1, "price": 0.2, "ownerType": "ContractHolders"})
        spare = add("material", {**part, "name": "Spare", "count": 9, "price": 99.99})
        assert (
            http.patch(f"/callCost/call/{cid}/expense/{parking_line}", json={"count": 2}, headers=me).status_code == 204
        )
        assert http.delete(f"/callCost/call/{cid}/material/{spare}", headers=me).status_code == 204
        draft = http.get(f"/callCost/call/{cid}", headers=me).json()
        assert (draft["status"], draft["materialsTotal"], draft["editableUntil"]) == ("Draft", "0.30", None)
        assert [(e["id"], e["count"]) for e in draft["expenses"]] == [(fuel_line, 40.5), (parking_line, 2)]
        pulled = feed.pull()
        assert {c["callId"] for c in pulled} == {cid, late_cid} and pulled[-1] == draft

        # both calls are finished at 31 January 22:30 UTC: 1 February at UTC+3, so the deadline is 5 March there
        me = sign_in_at(FINISHED)
        for call_id in (cid, late_cid):
            assert http.post(f"/call/{call_id}/status", json={"status": "Done"}, headers=me).status_code == 200
        assert http.get(f"/callCost/call/{cid}", headers=me).json()["editableUntil"] == "2027-03-05T21:00:00Z"

        # 10 February: past the 5th, but the month counts from February here; edit once more and send
        me = sign_in_at(datetime(2027, 2, 10, 12, 0, tzinfo=UTC))
        assert http.patch(f"/callCost/call/{cid}/material/{belt}", json={"count": 2}, headers=me).status_code == 204
        assert http.post(f"/callCost/status/call/{cid}", headers=me).status_code == 204
        sent = http.get(f"/callCost/call/{cid}", headers=erp).json()
        assert (sent["status"], sent["materialsTotal"]) == ("InProgress", "0.50")
        assert feed.pull() == [sent]

        # the dispatcher decides line by line; the last decision makes it Processed
        approvals = f"/callCost/call/{cid}/changeApprovalStatus"
        decisions = [
            {"expenses": {str(fuel_line): "Approved"}},
            {"materials": {str(fuse): "ApprovedWithCorrection"}},
            {"expenses": {str(parking_line): "Rejected"}, "materials": {str(belt): "Approved"}},
        ]
        for n, decision in enumerate(decisions):
            assert http.patch(approvals, json=decision, headers=erp).status_code == 204
            state = http.get(f"/callCost/call/{cid}", headers=erp).json()
            assert state["status"] == ("Processed" if n == len(decisions) - 1 else "InProgress")
            assert feed.pull() == [state]
        assert [e["status"] for e in state["expenses"]] == ["Approved", "Rejected"]
        assert [m["status"] for m in state["materials"]] == ["ApprovedWithCorrection", "Approved"]
        refused = http.patch(approvals, json=decisions[0], headers=erp)
        assert (refused.status_code, refused.json()) == (409, {"errorCode": 13})

        # the contractor is told
        notes = http.get("/notification", params={"unreadOnly": "true"}, headers=me).json()
        processed = [n for n in notes if n["kind"] == "call_cost_processed"]
        assert [(n["callId"], n["isRead"]) for n in processed] == [(cid, False)]
        assert processed[0]["text"].endswith("processed: 2 approved, 1 approved with correction, 1 rejected")

        # the second call: editable until the end of 5 March at UTC+3, refused a second later
        me = sign_in_at(datetime(2027, 3, 5, 20, 59, 59, tzinfo=UTC))
        add("material", {**part, "count": 1, "price": 5}, late_cid)
        me = sign_in_at(datetime(2027, 3, 5, 21, 0, 1, tzinfo=UTC))
        late = http.post(f"/callCost/call/{late_cid}/expense", json={"count": 1, "expenditureItemId": fuel}, headers=me)
        assert (late.status_code, late.json()) == (409, {"errorCode": 12})
        late_send = http.post(f"/callCost/status/call/{late_cid}", headers=me)
        assert (late_send.status_code, late_send.json()) == (409, {"errorCode": 12})

        # every change reached the feed once and in order; nothing is left
        feed.pull()
        assert feed.pull() == []
        numbers = [c["timestamp"] for c in feed.changes]
        assert numbers == sorted(set(numbers))
        last = {c["callId"]: c for c in feed.changes}
        assert last[cid] == http.get(f"/callCost/call/{cid}", headers=erp).json()
        assert last[late_cid] == http.get(f"/callCost/call/{late_cid}", headers=erp).json()
        assert len(last[late_cid]["materials"]) == 1 and last[late_cid]["status"] == "Draft"
