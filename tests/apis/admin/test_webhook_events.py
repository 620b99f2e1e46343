"""The contractor domain's webhook events (issue 20): each one caused over the contractor API, delivered to a
real local receiver, verified with the published ``standardwebhooks`` library, in commit order, with ``data``
equal to what the contractor API answers for that object right after the change. Both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from cabinet.domains.registry import Services
from cabinet.domains.webhooks.schemas import EVENT_TYPES
from cabinet.settings import Settings
from tests.apis.admin.webhook_support import Receiver, until
from tests.apis.contractor.files_support import isolated_settings, jpeg, multipart
from tests.apis.contractor.support import make_tenant

CONTRACTOR_EVENTS = [t for t in EVENT_TYPES if t.startswith(("call.", "call_cost."))]


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path)  # a blob store for the attachment


async def ok(answer: Any) -> httpx.Response:
    response: httpx.Response = await answer
    assert response.status_code in (200, 204), response.text
    return response


async def test_every_contractor_event_arrives_signed_with_the_apis_object(
    client: httpx.AsyncClient, services: Services, admin: dict[str, str], receiver: Receiver
) -> None:
    services.webhooks.allow_private = True
    tenant = await make_tenant(services)
    created = await client.post(
        f"/admin/companies/{tenant.company}/webhooks",
        headers=admin,
        json={"url": receiver.url, "events": CONTRACTOR_EVENTS},
    )
    assert created.status_code == 201, created.text
    verifier = Webhook(created.json()["secret"])
    erp = tenant.erp
    owner_id, me = await tenant.contractor(client)  # user.created is not subscribed: it never arrives
    expected: list[tuple[str, Any]] = []  # (type, the API's object right after the change)

    async def call_now(cid: int) -> dict[str, Any]:
        return (await ok(client.get(f"/call/{cid}", headers=erp))).json()  # type: ignore[no-any-return]

    async def cost_now(cid: int) -> dict[str, Any]:
        return (await ok(client.get(f"/callCost/call/{cid}", headers=erp))).json()  # type: ignore[no-any-return]

    cid = (await tenant.dispatch(client, owner_id))["id"]
    expected.append(("call.created", await call_now(cid)))
    await ok(client.patch(f"/call/{cid}", json={"ttf": "2031-01-01T00:00:00Z"}, headers=erp))
    expected.append(("call.updated", await call_now(cid)))
    await ok(client.post(f"/call/{cid}/status", json={"status": "Committed"}, headers=me))
    expected.append(("call.status_changed", await call_now(cid)))
    message = await ok(client.post(f"/call/{cid}/message", json={"message": "on my way"}, headers=me))
    expected.append(("call.message_created", message.json()))
    await ok(client.post(f"/call/{cid}/jeopardy", json={"comment": "parts late"}, headers=me))
    expected.append(("call.jeopardy_raised", (await call_now(cid))["jeopardies"][0]))
    await ok(client.post(f"/call/{cid}/unjeopardy", json={"answerComment": "accepted"}, headers=erp))
    expected.append(("call.jeopardy_answered", (await call_now(cid))["jeopardies"][0]))
    first, second = (t["id"] for t in (await call_now(cid))["tasks"])
    await ok(client.post(f"/calltask/{first}/status", json={"status": "Done"}, headers=me))
    expected.append(("call.updated", await call_now(cid)))
    photo = await ok(client.post(f"/calltask/{first}/attachment", headers=me, **multipart(jpeg())))
    expected.append(("call.attachment_created", {**photo.json(), "callId": cid, "taskId": first}))
    token = (await ok(client.post(f"/call/{cid}/templink", headers=me))).json()
    fuel = (await call_now(cid))["availableExpenditureItems"][0]["id"]
    report = {
        "comments": "replaced the reader",
        "callTaskResults": [{"taskId": second, "newStatus": "Canceled"}],
        "expenses": [{"count": 1, "expenditureItemId": fuel}],
    }
    await ok(client.post("/shared/call/done", params={"token": token}, json=report))
    done = await call_now(cid)
    expected += [("call.status_changed", done), ("call.field_report_submitted", done)]
    await ok(client.post(f"/callCost/status/call/{cid}", headers=me))
    sent = await cost_now(cid)
    expected.append(("call_cost.sent", sent))
    decided = {"expenses": {str(line["id"]): "Approved" for line in sent["expenses"]}}
    await ok(client.patch(f"/callCost/call/{cid}/changeApprovalStatus", json=decided, headers=erp))
    expected.append(("call_cost.processed", await cost_now(cid)))
    await ok(client.post(f"/call/{cid}/close", headers=erp))
    expected.append(("call.status_changed", await call_now(cid)))

    assert {kind for kind, _ in expected} == set(CONTRACTOR_EVENTS)  # every contractor event type is caused
    await until(lambda: len(receiver.received) >= len(expected), services)
    assert receiver.types() == [kind for kind, _ in expected]  # in commit order, nothing else
    assert len(set(receiver.ids())) == len(expected)
    for (headers, body), (kind, shown) in zip(receiver.received, expected, strict=True):
        payload = verifier.verify(body, headers)  # the published library checks signature and timestamp
        assert payload["type"] == kind and set(payload) == {"type", "timestamp", "data"}
        assert payload["data"] == shown, kind
    assert json.loads(receiver.received[-1][1])["data"]["status"] == "Closed"
