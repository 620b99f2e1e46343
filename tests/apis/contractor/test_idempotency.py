"""Idempotency-Key on the contractor API: a keyed write is applied at most once per caller and key; a repeat gets
the first answer; the key on another request is 422 code 27; concurrent repeats do not both apply; a failed request
leaves its key unused; the keys of two callers never meet; answers go after the retention."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from cabinet.core.clock import OffsetClock
from cabinet.settings import Settings
from tests.apis.contractor.files_support import blob_files, isolated_settings, jpeg, multipart
from tests.apis.contractor.support import Tenant


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path)


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def committed_call(client: httpx.AsyncClient, tenant: Tenant) -> tuple[int, dict[str, str], dict[str, Any]]:
    owner_id, me = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    answer = await client.post(f"/call/{call['id']}/status", json={"status": "Committed"}, headers=me)
    assert answer.status_code == 200, answer.text
    return call["id"], me, call


async def messages_of(client: httpx.AsyncClient, tenant: Tenant, call_id: int) -> list[str]:
    feed = (await client.get("/call/messages/modifications/0", headers=tenant.erp)).json()
    return [m["message"] for m in feed if m["callId"] == call_id]


async def test_a_repeat_gets_the_first_answer_and_applies_nothing(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call_id, me, _ = await committed_call(client, tenant)
    headers = {**me, **key()}
    first = await client.post(f"/call/{call_id}/message", json={"message": "on my way"}, headers=headers)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    again = await client.post(f"/call/{call_id}/message", json={"message": "on my way"}, headers=headers)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await messages_of(client, tenant, call_id) == ["on my way"]
    # without a key the same request is a new message, as ever
    plain = await client.post(f"/call/{call_id}/message", json={"message": "on my way"}, headers=me)
    assert plain.status_code == 200 and plain.json()["id"] != first.json()["id"]
    assert await messages_of(client, tenant, call_id) == ["on my way", "on my way"]


async def test_a_204_and_a_status_change_replay_too(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call_id, me, call = await committed_call(client, tenant)
    task = call["tasks"][0]["id"]
    headers = {**me, **key()}
    first = await client.post(f"/calltask/{task}/status", json={"status": "Done"}, headers=headers)
    assert first.status_code == 204, first.text
    # a plain repeat would be refused now (Done -> Done): the keyed repeat gets the first answer instead
    assert (await client.post(f"/calltask/{task}/status", json={"status": "Done"}, headers=me)).status_code == 409
    again = await client.post(f"/calltask/{task}/status", json={"status": "Done"}, headers=headers)
    assert again.status_code == 204 and again.content == b""
    assert again.headers["idempotent-replayed"] == "true"


async def test_the_key_on_another_request_is_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call_id, me, _ = await committed_call(client, tenant)
    headers = {**me, **key()}
    assert (await client.post(f"/call/{call_id}/message", json={"message": "a"}, headers=headers)).status_code == 200
    other_body = await client.post(f"/call/{call_id}/message", json={"message": "b"}, headers=headers)
    assert other_body.status_code == 422 and other_body.json() == {"errorCode": 27}
    other_path = await client.post(f"/call/{call_id}/jeopardy", json={"comment": "a"}, headers=headers)
    assert other_path.status_code == 422 and other_path.json() == {"errorCode": 27}
    assert await messages_of(client, tenant, call_id) == ["a"]
    assert (await client.get(f"/call/{call_id}", headers=tenant.erp)).json()["jeopardies"] == []


async def test_keys_are_per_caller(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call_id, me, _ = await committed_call(client, tenant)
    shared_key = key()
    mine = await client.post(f"/call/{call_id}/message", json={"message": "x"}, headers={**me, **shared_key})
    erp = await client.post(
        f"/call/{call_id}/dispatcher/message",
        json={"message": "x", "date": "2026-11-27T12:00:00Z"},
        headers={**tenant.erp, **shared_key},
    )
    assert mine.status_code == 200 and erp.status_code == 200, erp.text
    assert "idempotent-replayed" not in erp.headers
    assert await messages_of(client, tenant, call_id) == ["x", "x"]


async def test_a_failed_request_leaves_its_key_unused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call_id, me, _ = await committed_call(client, tenant)
    headers = {**me, **key()}
    refused = await client.post(f"/call/{call_id}/status", json={"status": "New"}, headers=headers)
    assert refused.status_code == 400 and refused.json() == {"errorCode": 6}  # handing back needs a comment
    fixed = await client.post(f"/call/{call_id}/status", json={"status": "New", "comments": "no"}, headers=headers)
    assert fixed.status_code == 200, fixed.text
    assert (await client.get(f"/call/{call_id}", headers=me)).json()["status"] == "New"


@pytest.mark.parametrize("value", ["", "x" * 256, "кириллица", "two words"])
async def test_a_malformed_key_is_400(client: httpx.AsyncClient, tenant: Tenant, value: str) -> None:
    call_id, me, _ = await committed_call(client, tenant)
    answer = await client.post(
        f"/call/{call_id}/message",
        json={"message": "m"},
        headers=[*((k.encode(), v.encode()) for k, v in me.items()), (b"Idempotency-Key", value.encode())],
    )
    assert answer.status_code == 400 and answer.json() == {"errorCode": 0}
    assert await messages_of(client, tenant, call_id) == []


async def test_concurrent_repeats_apply_once(client: httpx.AsyncClient, tenant: Tenant) -> None:
    call_id, me, _ = await committed_call(client, tenant)
    headers = {**me, **key()}
    answers = await asyncio.gather(
        *(client.post(f"/call/{call_id}/message", json={"message": "once"}, headers=headers) for _ in range(8))
    )
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 7
    assert await messages_of(client, tenant, call_id) == ["once"]


async def test_the_field_report_and_uploads_apply_once(
    client: httpx.AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    call_id, me, call = await committed_call(client, tenant)
    token = (await client.post(f"/call/{call_id}/templink", headers=me)).json()
    first_task = call["tasks"][0]["id"]
    report = {
        "comments": "fixed",
        "callTaskResults": [{"taskId": first_task, "newStatus": "Done"}],
        "expenses": [
            {
                "expenditureItemId": (await client.get(f"/call/{call_id}", headers=me)).json()[
                    "availableExpenditureItems"
                ][0]["id"],
                "count": 2,
            }
        ],
        "materials": [{"name": "Fuse", "serialNumber": "F1", "ownerType": "Contractor", "count": 1, "price": 10.5}],
    }
    report_key = key()
    sent = [
        await client.post("/shared/call/done", params={"token": token}, json=report, headers=report_key)
        for _ in range(2)
    ]
    assert [a.status_code for a in sent] == [200, 200], sent[0].text
    assert sent[1].content == sent[0].content and sent[1].headers["idempotent-replayed"] == "true"
    cost = (await client.get(f"/callCost/call/{call_id}", headers=tenant.erp)).json()
    assert len(cost["expenses"]) == 1 and len(cost["materials"]) == 1

    photo = jpeg()
    photo_key = key()
    uploads = [
        await client.post(
            f"/shared/callTask/{first_task}/attachment", params={"token": token}, headers=photo_key, **multipart(photo)
        )
        for _ in range(2)
    ]  # httpx draws a new multipart boundary for each request: the digest is over the file, not the body
    assert [a.status_code for a in uploads] == [200, 200], uploads[0].text
    assert uploads[1].content == uploads[0].content and uploads[1].headers["idempotent-replayed"] == "true"
    other = await client.post(
        f"/shared/callTask/{first_task}/attachment",
        params={"token": token},
        headers=photo_key,
        **multipart(jpeg((32, 32))),
    )
    assert other.status_code == 422 and other.json() == {"errorCode": 27}
    attachments = (await client.get(f"/call/{call_id}", headers=me)).json()["tasks"][0]["result"]["attachments"]
    assert len(attachments) == 1
    assert len([f for f in blob_files(settings) if f.startswith("attachments/")]) == 1  # the refused ones left none


async def test_answers_go_after_the_retention(client: httpx.AsyncClient, tenant: Tenant, clock: OffsetClock) -> None:
    services = client._transport.app.state.runtime.services  # type: ignore[attr-defined]
    call_id, _, _ = await committed_call(client, tenant)
    headers = {**tenant.erp, **key()}  # the ERP's API key outlives a contractor's access token
    body = {"message": "m", "date": "2026-11-27T12:00:00Z"}
    path = f"/call/{call_id}/dispatcher/message"
    assert (await client.post(path, json=body, headers=headers)).status_code == 200
    clock.advance(days=6, hours=23)
    assert await services.idempotency.purge_expired() == 0
    again = await client.post(path, json=body, headers=headers)
    assert again.headers.get("idempotent-replayed") == "true"
    clock.advance(hours=2)
    assert await services.idempotency.purge_expired() == 1
    later = await client.post(path, json=body, headers=headers)
    assert later.status_code == 200 and "idempotent-replayed" not in later.headers
    assert await messages_of(client, tenant, call_id) == ["m", "m"]


async def test_the_document_names_the_key_on_every_write_but_the_sign_ins(client: httpx.AsyncClient) -> None:
    document = (await client.get("/contractor/openapi.json")).json()
    writes = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method in ("post", "patch", "put", "delete") and path not in ("/user/signin", "/user/token"):
                writes += 1
                assert "Idempotency-Key" in headers, (method, path)
                assert "errorCode 27" in operation["responses"]["422"]["description"], (method, path)
            else:
                assert "Idempotency-Key" not in headers, (method, path)
    assert writes > 25


async def test_a_bodyless_write_whatever_its_content_type(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The ERP (an API key: authenticating it records the key's use, a write of its own before the claim) closes
    a call with a key and a stray multipart content type and no body: applied once, replayed, never a 500."""
    call_id, me, call = await committed_call(client, tenant)
    for task in call["tasks"]:
        await client.post(f"/calltask/{task['id']}/status", json={"status": "Done"}, headers=me)
    assert (await client.post(f"/call/{call_id}/status", json={"status": "Done"}, headers=me)).status_code == 200
    headers = {**tenant.erp, **key(), "Content-Type": "multipart/form-data; boundary=x"}
    first = await client.post(f"/call/{call_id}/close", headers=headers)
    again = await client.post(f"/call/{call_id}/close", headers=headers)
    assert (first.status_code, again.status_code) == (204, 204), first.text
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    other = await client.post(f"/call/{call_id}/close", content=b"x", headers=headers)
    assert other.status_code == 422 and other.json() == {"errorCode": 27}
