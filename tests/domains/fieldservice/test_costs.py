"""Cost estimates in the domain: the deadline arithmetic (the company's timezone decides the month), exact
money on both backends, and the field employee's report (``record_field_report``) inside a caller's unit of
work: it opens the Draft, adds the lines, feeds the sync, and refuses what the REST endpoints refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from cabinet.core.db.uow import unit_of_work
from cabinet.domains.fieldservice.costs import cost_deadline, record_field_report
from cabinet.domains.fieldservice.errors import CostInvalid, CostItemUnknown, CostNotDraft
from cabinet.domains.fieldservice.schemas import ExpenseLine, MaterialLine
from cabinet.domains.fieldservice.states import CallStatus, MaterialOwner
from cabinet.domains.registry import Services
from cabinet.models import Call
from tests.apis.contractor.support import Tenant, make_tenant


@pytest.mark.parametrize(
    ("finished", "day", "tz", "deadline"),
    [
        # the end of day 5 of the next month, local time
        ("2026-01-15T12:00:00+00:00", 5, 0, "2026-02-06T00:00:00+00:00"),
        ("2026-01-15T12:00:00+00:00", 5, 3, "2026-02-05T21:00:00+00:00"),
        # 31 January 22:30 UTC is already 1 February at UTC+3: the deadline moves to March
        ("2026-01-31T22:30:00+00:00", 5, 3, "2026-03-05T21:00:00+00:00"),
        ("2026-01-31T22:30:00+00:00", 5, 0, "2026-02-06T00:00:00+00:00"),
        # 1 March 02:00 UTC is still February at UTC-5
        ("2026-03-01T02:00:00+00:00", 28, -5, "2026-03-29T05:00:00+00:00"),
        # December rolls over the year
        ("2026-12-20T00:00:00+00:00", 1, 0, "2027-01-02T00:00:00+00:00"),
    ],
)
def test_deadline_is_the_end_of_the_day_of_the_next_month_in_the_company_timezone(
    finished: str, day: int, tz: int, deadline: str
) -> None:
    assert cost_deadline(datetime.fromisoformat(finished), day, tz) == datetime.fromisoformat(deadline)


async def _committed_call(client: httpx.AsyncClient, tenant: Tenant) -> tuple[int, dict[str, str], dict]:
    owner_id, headers = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    answer = await client.post(f"/call/{call['id']}/status", json={"status": "Committed"}, headers=headers)
    assert answer.status_code == 200
    return call["id"], headers, (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()


async def test_field_report_opens_the_draft_and_feeds_the_sync(client: httpx.AsyncClient, services: Services) -> None:
    tenant = await make_tenant(services)
    cid, headers, call = await _committed_call(client, tenant)
    fuel = call["availableExpenditureItems"][0]["id"]
    cursor = max(c["timestamp"] for c in (await client.get("/call/modifications/0", headers=tenant.erp)).json())
    db = services.costs.db
    async with unit_of_work(db) as session:  # as the other helper's POST /shared/call/done does
        locked = await session.get(Call, cid, with_for_update=True)
        assert locked is not None
        locked.status = CallStatus.DONE.value
        locked.finished_at = datetime.now(UTC)
        cost = await record_field_report(
            locked,
            expenses=[ExpenseLine(fuel, Decimal("1.5"))],
            materials=[
                MaterialLine("Fuse", "SN-1", MaterialOwner.CONTRACTOR, Decimal("3"), Decimal("0.10")),
                MaterialLine("Belt", "", MaterialOwner.CONTRACT_HOLDERS, Decimal("1"), Decimal("0.20")),
            ],
            now=datetime.now(UTC),
        )
        assert cost is not None and cost.status == "Draft"
        assert await record_field_report(locked, expenses=[], materials=[], now=datetime.now(UTC)) is None
    estimate = (await client.get(f"/callCost/call/{cid}", headers=tenant.erp)).json()
    assert estimate["status"] == "Draft" and estimate["materialsTotal"] == "0.50"
    assert [(e["expenditureItemId"], e["count"], e["status"]) for e in estimate["expenses"]] == [(fuel, 1.5, "New")]
    assert [(m["name"], m["price"], m["total"]) for m in estimate["materials"]] == [
        ("Fuse", 0.1, "0.30"),
        ("Belt", 0.2, "0.20"),
    ]
    fed = (await client.get(f"/callCost/modifications/{cursor}", headers=tenant.erp)).json()
    assert [(c["callId"], c["timestamp"]) for c in fed] == [(cid, estimate["timestamp"])]
    assert estimate["timestamp"] > cursor

    # a second report adds to the same Draft; a bad line rolls the whole report back
    async with unit_of_work(db) as session:
        locked = await session.get(Call, cid, with_for_update=True)
        assert locked is not None
        await record_field_report(locked, expenses=[ExpenseLine(fuel, Decimal(2))], materials=[], now=datetime.now(UTC))
    for bad, error in (
        (ExpenseLine(fuel, Decimal(0)), CostInvalid),
        (ExpenseLine(fuel, Decimal("0.0001")), CostInvalid),
        (ExpenseLine(fuel + 1000, Decimal(1)), CostItemUnknown),
    ):
        with pytest.raises(error):
            async with unit_of_work(db) as session:
                locked = await session.get(Call, cid, with_for_update=True)
                assert locked is not None
                await record_field_report(locked, expenses=[bad], materials=[], now=datetime.now(UTC))
    estimate = (await client.get(f"/callCost/call/{cid}", headers=headers)).json()
    assert [e["count"] for e in estimate["expenses"]] == [1.5, 2]

    # once sent, the field employee can no longer add to it
    assert (await client.post(f"/callCost/status/call/{cid}", headers=headers)).status_code == 204
    with pytest.raises(CostNotDraft):
        async with unit_of_work(db) as session:
            locked = await session.get(Call, cid, with_for_update=True)
            assert locked is not None
            await record_field_report(
                locked, expenses=[ExpenseLine(fuel, Decimal(1))], materials=[], now=datetime.now(UTC)
            )
