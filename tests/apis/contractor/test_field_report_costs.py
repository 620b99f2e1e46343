"""POST /shared/call/done takes the field employee's expenses and materials into the call's cost estimate, in the
same unit of work as the report: all or nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.apis.contractor.support import Tenant


async def _linked_call(client: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], str]:
    owner_id, headers = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    assert (
        await client.post(f"/call/{call['id']}/status", json={"status": "Committed"}, headers=headers)
    ).status_code == 200
    token = await client.post(f"/call/{call['id']}/templink", headers=headers)
    assert token.status_code == 200, token.text
    return call, token.json()


async def test_report_with_costs_opens_the_estimate(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call, token = await _linked_call(client, tenant)
    items = (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()["availableExpenditureItems"]
    report = {
        "comments": "fixed",
        "callTaskResults": [{"taskId": call["tasks"][0]["id"], "newStatus": "Done"}],
        "expenses": [{"expenditureItemId": items[0]["id"], "count": 2.5}],
        "materials": [{"name": "Belt", "serialNumber": "S1", "ownerType": "Contractor", "count": 3, "price": 0.35}],
    }
    done = await client.post("/shared/call/done", params={"token": token}, json=report)
    assert done.status_code == 200, done.text
    cost = (await client.get(f"/callCost/call/{call['id']}", headers=tenant.erp)).json()
    assert cost["status"] == "Draft"
    assert [(e["expenditureItemId"], e["count"]) for e in cost["expenses"]] == [(items[0]["id"], 2.5)]
    assert [(m["name"], m["total"]) for m in cost["materials"]] == [("Belt", "1.05")]


async def test_a_bad_cost_line_refuses_the_whole_report(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call, token = await _linked_call(client, tenant)
    report = {"comments": "fixed", "expenses": [{"expenditureItemId": 999_999, "count": 1}]}
    refused = await client.post("/shared/call/done", params={"token": token}, json=report)
    assert refused.status_code == 400 and refused.json() == {"errorCode": 15}
    assert (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()["status"] == "Committed"
    assert (await client.get(f"/callCost/call/{call['id']}", headers=tenant.erp)).status_code == 404
