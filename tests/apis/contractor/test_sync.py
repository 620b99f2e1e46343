"""Incremental sync: paging, the task feed, and the proof that no change is skipped under concurrent writers
(in-process; on PostgreSQL the writers' transactions really overlap on the connection pool). The same proof
across two app processes is in tests/e2e/test_contractor_multiprocess.py."""

from __future__ import annotations

import httpx

from tests.apis.contractor.support import Tenant, sync_proof


async def test_no_change_is_skipped_under_concurrent_writers(client: httpx.AsyncClient, tenant: Tenant) -> None:
    polls = await sync_proof([client], tenant, calls=12, page=5, rounds=4)
    assert polls > 3  # the reader really polled while the writers worked


async def test_feeds_page_in_ascending_change_order(client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner_id, mine = await tenant.contractor(client)
    ids = [(await tenant.dispatch(client, owner_id))["id"] for _ in range(5)]
    # touch the first call again: it moves to the end of the feed with a newer number, and appears once
    assert (await client.post(f"/call/{ids[0]}/status", json={"status": "Committed"}, headers=mine)).status_code == 200
    seen: list[tuple[int, int]] = []
    cursor = 0
    while True:
        page = (await client.get(f"/call/modifications/{cursor}", params={"limit": 2}, headers=tenant.erp)).json()
        if not page:
            break
        assert len(page) <= 2
        seen += [(c["id"], c["timestamp"]) for c in page]
        cursor = page[-1]["timestamp"]
    assert [cid for cid, _ in seen] == ids[1:] + ids[:1]
    numbers = [n for _, n in seen]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    # from the last number: nothing; from before the last change: exactly that call
    assert (await client.get(f"/call/modifications/{cursor}", headers=tenant.erp)).json() == []
    again = (await client.get(f"/call/modifications/{numbers[-2]}", headers=tenant.erp)).json()
    assert [c["id"] for c in again] == [ids[0]]
    # the task feed: created tasks, then a task change (which also moves its call)
    tasks = (await client.get("/calltask/modifications/0", headers=tenant.erp)).json()
    assert len(tasks) == 10 and [t["timestamp"] for t in tasks] == sorted(t["timestamp"] for t in tasks)
    task_id = tasks[0]["id"]
    assert (await client.post(f"/calltask/{task_id}/status", json={"status": "Done"}, headers=mine)).status_code == 204
    changed = (await client.get(f"/calltask/modifications/{cursor}", headers=tenant.erp)).json()
    assert [(t["id"], t["status"], t["callId"]) for t in changed] == [(task_id, "Done", ids[0])]
    moved = (await client.get(f"/call/modifications/{cursor}", headers=tenant.erp)).json()
    assert [c["id"] for c in moved] == [ids[0]] and moved[0]["tasks"][0]["status"] == "Done"
    # limits are bounded
    for bad in ("0", "10001", "x"):
        answer = await client.get("/call/modifications/0", params={"limit": bad}, headers=tenant.erp)
        assert (answer.status_code, answer.json()) == (400, {"errorCode": 0}), bad
    assert (await client.get("/call/modifications/-1", headers=tenant.erp)).status_code == 400
