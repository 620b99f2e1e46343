"""Every cell of the state tables of the contractor area (as decided in domains/fieldservice/states.py):
the call transitions by the contractor and by the external system, what each call status permits, and the
task transitions. Allowed cells succeed with their side effects; the rest answer the seed's code."""

from __future__ import annotations

from typing import Any

import httpx

from tests.apis.contractor.support import Tenant, call_body

STATUSES = ["New", "Committed", "Done", "Closed"]
CONTRACTOR_MOVES = {("New", "Committed"), ("Committed", "Done"), ("Committed", "New")}
PATH_TO = {"New": [], "Committed": ["Committed"], "Done": ["Committed", "Done"], "Closed": ["Committed", "Done"]}


class Calls:
    def __init__(self, client: httpx.AsyncClient, tenant: Tenant, owner_id: int, headers: dict[str, str]) -> None:
        self.client = client
        self.tenant = tenant
        self.owner_id = owner_id
        self.headers = headers

    async def in_status(self, status: str) -> dict[str, Any]:
        created = await self.tenant.dispatch(self.client, self.owner_id)
        for step in PATH_TO[status]:
            moved = await self.client.post(f"/call/{created['id']}/status", json={"status": step}, headers=self.headers)
            assert moved.status_code == 200, moved.text
        if status == "Closed":
            closed = await self.client.post(f"/call/{created['id']}/close", headers=self.tenant.erp)
            assert closed.status_code == 204, closed.text
        read = await self.client.get(f"/call/{created['id']}", headers=self.tenant.erp)
        assert read.json()["status"] == status
        return created


async def _calls(client: httpx.AsyncClient, tenant: Tenant) -> Calls:
    owner_id, headers = await tenant.contractor(client)
    return Calls(client, tenant, owner_id, headers)


async def test_every_status_change_by_the_contractor(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    for current in STATUSES:
        for target in STATUSES:
            call = await calls.in_status(current)
            answer = await client.post(
                f"/call/{call['id']}/status", json={"status": target, "comments": "reason"}, headers=calls.headers
            )
            cell = f"{current} -> {target}"
            if (current, target) in CONTRACTOR_MOVES:
                assert answer.status_code == 200, (cell, answer.text)
                after = (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()
                assert after["status"] == target, cell
                assert answer.json() == {"commited": after["commited"], "finished": after["finished"]}, cell
                assert (after["commited"] is not None) == (target in ("Committed", "Done")), cell
                assert (after["finished"] is not None) == (target == "Done"), cell
                assert after["comments"] == "reason", cell
            else:
                assert (answer.status_code, answer.json()) == (409, {"errorCode": 7}), cell
                after = (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()
                assert after["status"] == current, cell


async def test_handing_a_call_back_needs_a_comment(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    call = await calls.in_status("Committed")
    for body in ({"status": "New"}, {"status": "New", "comments": ""}, {"status": "New", "comments": "   "}):
        answer = await client.post(f"/call/{call['id']}/status", json=body, headers=calls.headers)
        assert (answer.status_code, answer.json()) == (400, {"errorCode": 6}), body
    # a comment is not needed (nor harmful) elsewhere
    assert (
        await client.post(f"/call/{call['id']}/status", json={"status": "Done"}, headers=calls.headers)
    ).status_code == 200


async def test_close_from_every_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    for current in STATUSES:
        call = await calls.in_status(current)
        answer = await client.post(f"/call/{call['id']}/close", headers=tenant.erp)
        if current == "Done":
            assert answer.status_code == 204, answer.text
            assert (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()["status"] == "Closed"
        else:
            assert (answer.status_code, answer.json()) == (409, {"errorCode": 7}), current
        # only the external system closes; the contractor's own status endpoint cannot either
        assert (await client.post(f"/call/{call['id']}/close", headers=calls.headers)).status_code == 403


async def test_what_each_status_permits(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    erp, mine = tenant.erp, calls.headers
    for status in STATUSES:
        call = await calls.in_status(status)
        cid = call["id"]
        open_ = status != "Closed"
        ahead = status in ("New", "Committed")

        message = await client.post(f"/call/{cid}/message", json={"message": "on my way"}, headers=mine)
        assert message.status_code == (200 if open_ else 409), (status, message.text)
        dispatcher = await client.post(
            f"/call/{cid}/dispatcher/message", json={"message": "thanks", "date": "2026-11-27T10:00:00Z"}, headers=erp
        )
        assert dispatcher.status_code == (200 if open_ else 409), (status, dispatcher.text)
        if not open_:
            assert message.json() == dispatcher.json() == {"errorCode": 7}

        patch = await client.patch(f"/call/{cid}", json={"ttf": "2030-01-01T00:00:00Z"}, headers=erp)
        if ahead:
            assert (patch.status_code, patch.json()) == (200, cid), status
        else:
            assert (patch.status_code, patch.json()) == (409, {"errorCode": 7}), status

        nothing_open = await client.post(f"/call/{cid}/unjeopardy", json={"answerComment": "ok"}, headers=erp)
        assert (nothing_open.status_code, nothing_open.json()) == (409, {"errorCode": 9}), status
        raised = await client.post(f"/call/{cid}/jeopardy", json={"comment": "parts late"}, headers=mine)
        if ahead:
            assert raised.status_code == 200, (status, raised.text)
            again = await client.post(f"/call/{cid}/jeopardy", json={"comment": "still"}, headers=mine)
            assert (again.status_code, again.json()) == (409, {"errorCode": 8}), status
            answered = await client.post(f"/call/{cid}/unjeopardy", json={"answerComment": "ok"}, headers=erp)
            assert answered.status_code == 200, status
        else:
            assert (raised.status_code, raised.json()) == (409, {"errorCode": 8}), status


async def test_jeopardy_history_is_kept(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    call = await calls.in_status("Committed")
    cid = call["id"]
    for n in range(2):
        raised = await client.post(f"/call/{cid}/jeopardy", json={"comment": f"risk {n}"}, headers=calls.headers)
        assert (await client.get(f"/call/{cid}", headers=tenant.erp)).json()["isJeopardy"] is True
        answered = await client.post(f"/call/{cid}/unjeopardy", json={"answerComment": f"ok {n}"}, headers=tenant.erp)
        assert answered.status_code == 200
        assert set(answered.json()) == {"answerDate"}
        assert raised.json()["date"] <= answered.json()["answerDate"]
    body = (await client.get(f"/call/{cid}", headers=tenant.erp)).json()
    assert body["isJeopardy"] is False
    assert [(j["comment"], j["answerComment"]) for j in body["jeopardies"]] == [("risk 0", "ok 0"), ("risk 1", "ok 1")]


async def test_task_transitions_in_every_call_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    for status in STATUSES:
        call = await calls.in_status(status)
        task_id = call["tasks"][0]["id"]
        answer = await client.post(f"/calltask/{task_id}/status", json={"status": "Done"}, headers=calls.headers)
        if status == "Committed":
            assert answer.status_code == 204, answer.text
        else:
            assert (answer.status_code, answer.json()) == (409, {"errorCode": 3}), status


async def test_every_task_transition(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    allowed = {("New", "Done"), ("New", "Canceled")}
    for current in ("New", "Done", "Canceled"):
        for target in ("New", "Done", "Canceled"):
            call = await calls.in_status("Committed")
            task_id = call["tasks"][0]["id"]
            if current != "New":
                first = await client.post(
                    f"/calltask/{task_id}/status", json={"status": current}, headers=calls.headers
                )
                assert first.status_code == 204
            answer = await client.post(f"/calltask/{task_id}/status", json={"status": target}, headers=calls.headers)
            cell = f"task {current} -> {target}"
            if (current, target) in allowed:
                assert answer.status_code == 204, cell
            else:
                assert (answer.status_code, answer.json()) == (409, {"errorCode": 3}), cell
            task = (await client.get(f"/calltask/{task_id}", headers=calls.headers)).json()
            final = target if (current, target) in allowed else current
            assert task["status"] == final, cell
            result = await client.get(f"/calltask/{task_id}/result", headers=calls.headers)
            if final == "Done":  # a Done task has its result, and only a Done task
                assert task["result"] == {"attachments": []}, cell
                assert (result.status_code, result.json()) == (200, {"attachments": []}), cell
            else:
                assert task["result"] is None, cell
                assert (result.status_code, result.json()) == (404, {"errorCode": 2}), cell


async def test_unknown_ids_are_not_found(client: httpx.AsyncClient, tenant: Tenant) -> None:
    calls = await _calls(client, tenant)
    missing = 2**63 - 1
    for method, path, body, headers in (
        ("GET", f"/call/{missing}", None, tenant.erp),
        ("PATCH", f"/call/{missing}", {"tto": None}, tenant.erp),
        ("POST", f"/call/{missing}/close", None, tenant.erp),
        ("POST", f"/call/{missing}/status", {"status": "Committed"}, calls.headers),
        ("POST", f"/call/{missing}/message", {"message": "x"}, calls.headers),
        ("POST", f"/call/{missing}/dispatcher/message", {"message": "x", "date": "2026-01-01T00:00:00Z"}, tenant.erp),
        ("POST", f"/call/{missing}/jeopardy", {"comment": "x"}, calls.headers),
        ("POST", f"/call/{missing}/unjeopardy", {"answerComment": "x"}, tenant.erp),
        ("GET", f"/calltask/{missing}", None, calls.headers),
        ("POST", f"/calltask/{missing}/status", {"status": "Done"}, calls.headers),
        ("GET", f"/calltask/{missing}/result", None, calls.headers),
        ("POST", f"/notification/{missing}/read", None, calls.headers),
    ):
        answer = await client.request(method, path, json=body, headers=headers)
        assert (answer.status_code, answer.json()) == (404, {"errorCode": 1}), (method, path, answer.text)
    for path in (f"/user/{missing}/lock", f"/user/{missing}/unlock"):
        answer = await client.post(path, headers=tenant.erp)
        assert (answer.status_code, answer.json()) == (404, {"errorCode": 3}), path
    owner = await client.post("/call", json=call_body(missing), headers=tenant.erp)
    assert (owner.status_code, owner.json()) == (404, {"errorCode": 3})
