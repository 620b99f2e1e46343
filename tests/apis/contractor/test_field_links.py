"""Field employees' links: issued for a Committed call only, reaching that call and only through /shared, dying on
expiry (the service's clock), on a newer link, when the call is handed back or closed and when its contractor is
locked; the report that makes the call Done is all or nothing; the field employee's files."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from cabinet.core.clock import OffsetClock
from cabinet.domains.fieldservice import attachments as attachments_module
from cabinet.domains.fieldservice.imaging import thumbnail_key
from cabinet.models import CallTaskAttachment
from cabinet.settings import Settings
from tests.apis.contractor.files_support import blob_files, isolated_settings, jpeg, multipart
from tests.apis.contractor.support import Tenant

TTL = 600  # shorter than a contractor's access token


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path, field_link_ttl_seconds=TTL, attachment_max_bytes=100_000)


class Field:
    """A contractor with a Committed call of two tasks, and the field employee's client."""

    def __init__(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant

    async def setup(self) -> Field:
        self.owner_id, self.me = await self.tenant.contractor(self.client)
        self.call_id, self.tasks = await self.new_call()
        return self

    async def new_call(self, *, commit: bool = True) -> tuple[int, list[int]]:
        call = await self.tenant.dispatch(self.client, self.owner_id)
        if commit:
            answer = await self.client.post(f"/call/{call['id']}/status", json={"status": "Committed"}, headers=self.me)
            assert answer.status_code == 200
        return call["id"], [t["id"] for t in call["tasks"]]

    async def link(self, call_id: int | None = None) -> str:
        answer = await self.client.post(f"/call/{call_id or self.call_id}/templink", headers=self.me)
        assert answer.status_code == 200, answer.text
        token = answer.json()
        assert isinstance(token, str) and token.count(".") == 2 and len(token) < 256
        return token

    async def shared(self, token: str) -> httpx.Response:
        return await self.client.get("/shared/call", params={"token": token})

    async def done(self, token: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post("/shared/call/done", params={"token": token}, json=body)

    async def erp_call(self) -> dict[str, Any]:
        return (await self.client.get(f"/call/{self.call_id}", headers=self.tenant.erp)).json()  # type: ignore[no-any-return]


@pytest.fixture
async def field(client: httpx.AsyncClient, tenant: Tenant) -> Field:
    return await Field(client, tenant).setup()


def error(answer: httpx.Response) -> tuple[int, Any]:
    return answer.status_code, answer.json()


async def test_a_link_is_given_for_a_committed_call_of_the_contractor(field: Field, client: httpx.AsyncClient) -> None:
    token = await field.link()
    call = (await field.shared(token)).json()
    assert call == await field.erp_call()
    new_call, _ = await field.new_call(commit=False)
    assert error(await client.post(f"/call/{new_call}/templink", headers=field.me)) == (409, {"errorCode": 7})
    _, stranger = await field.tenant.contractor(client)
    assert error(await client.post(f"/call/{field.call_id}/templink", headers=stranger)) == (404, {"errorCode": 1})
    assert (await client.post(f"/call/{field.call_id}/templink", headers=field.tenant.erp)).status_code == 403
    assert (await client.post(f"/call/{field.call_id}/templink")).status_code == 401


async def test_bad_tokens(field: Field, client: httpx.AsyncClient) -> None:
    token = await field.link()
    at = len(token) - 10  # inside the signature (its last character carries padding bits)
    flipped = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
    for bad in (flipped, token[:40], "x" * 64, "not a token", "é" * 10, token + "A"):
        answer = await field.shared(bad)
        assert error(answer) == (404, {"errorCode": 1}), (bad, answer.text)
    assert error(await client.get("/shared/call")) == (400, {"errorCode": 0})
    assert error(await field.shared("")) == (400, {"errorCode": 0})
    assert error(await field.shared("x" * 513)) == (400, {"errorCode": 0})
    # the contractor's own access token is no link (another key, another type)
    assert error(await field.shared(field.me["Authorization"].split()[1])) == (404, {"errorCode": 1})


async def test_a_link_expires_on_the_service_clock(field: Field, clock: OffsetClock) -> None:
    token = await field.link()
    clock.advance(seconds=TTL - 5)
    assert (await field.shared(token)).status_code == 200
    clock.advance(seconds=10)
    assert error(await field.shared(token)) == (404, {"errorCode": 20})
    assert error(await field.done(token, {"comments": "late"})) == (404, {"errorCode": 20})
    assert (await field.erp_call())["status"] == "Committed"
    assert (await field.shared(await field.link())).status_code == 200  # a new one works


async def test_a_new_link_revokes_the_old_one_and_so_do_hand_back_close_and_lock(
    field: Field, client: httpx.AsyncClient
) -> None:
    old = await field.link()
    new = await field.link()
    assert error(await field.shared(old)) == (404, {"errorCode": 20})
    assert (await field.shared(new)).status_code == 200
    # handed back: dead, and no link for a New call
    back = await client.post(
        f"/call/{field.call_id}/status", json={"status": "New", "comments": "no crew"}, headers=field.me
    )
    assert back.status_code == 200
    assert error(await field.shared(new)) == (404, {"errorCode": 20})
    await client.post(f"/call/{field.call_id}/status", json={"status": "Committed"}, headers=field.me)
    token = await field.link()
    assert (await field.done(token, {"comments": "fixed"})).status_code == 200
    assert (await field.shared(token)).status_code == 200  # still good after Done (photos come next)
    assert (await client.post(f"/call/{field.call_id}/close", headers=field.tenant.erp)).status_code == 204
    assert error(await field.shared(token)) == (404, {"errorCode": 20})  # closed: the work is over
    # a locked contractor's links die
    other_call, _ = await field.new_call()
    token = await field.link(other_call)
    assert (await client.post(f"/user/{field.owner_id}/lock", headers=field.tenant.erp)).status_code in (200, 204)
    assert error(await field.shared(token)) == (404, {"errorCode": 20})
    # for good: an unlock does not revive them
    assert (await client.post(f"/user/{field.owner_id}/unlock", headers=field.tenant.erp)).status_code in (200, 204)
    assert error(await field.shared(token)) == (404, {"errorCode": 20})


async def test_a_lock_by_an_operator_kills_links_for_good(
    field: Field, client: httpx.AsyncClient, services: Any
) -> None:
    """Locked and unlocked elsewhere (the Admin API, the web pages: the identity core), the links stay dead."""
    token = await field.link()
    owner = await services.identity.get_account_by_id(field.owner_id)
    await services.identity.set_enabled(owner.username, False)
    await services.identity.set_enabled(owner.username, True)
    assert error(await field.shared(token)) == (404, {"errorCode": 20})


async def test_a_link_reaches_only_its_call_and_only_shared(field: Field, client: httpx.AsyncClient) -> None:
    token = await field.link()
    other_call, other_tasks = await field.new_call()
    await client.post(f"/calltask/{other_tasks[0]}/status", json={"status": "Done"}, headers=field.me)
    other_file = await client.post(f"/calltask/{other_tasks[0]}/attachment", headers=field.me, **multipart(jpeg()))
    assert other_file.status_code == 200
    q = {"token": token}
    assert error(await client.get(f"/shared/callTask/{other_tasks[0]}/result", params=q)) == (404, {"errorCode": 1})
    download = f"/shared/callTask/{other_tasks[0]}/attachment/{other_file.json()['id']}/download"
    assert error(await client.get(download, params=q)) == (403, {"errorCode": 0})
    upload = await client.post(f"/shared/callTask/{other_tasks[0]}/attachment", params=q, **multipart(jpeg()))
    assert error(upload) == (404, {"errorCode": 1})
    report = {"comments": "done", "callTaskResults": [{"taskId": other_tasks[1], "newStatus": "Done"}]}
    assert error(await field.done(token, report)) == (404, {"errorCode": 1})
    assert (await field.erp_call())["status"] == "Committed"
    # never as a credential anywhere else, nor with another call's id
    as_header = {"Authorization": f"Bearer {token}"}
    for method, path in (
        ("GET", f"/call/{field.call_id}"),
        ("GET", f"/call/{other_call}"),
        ("GET", "/call"),
        ("GET", "/calltask"),
        ("GET", f"/calltask/{field.tasks[0]}/result"),
        ("GET", "/call/modifications/0"),
        ("POST", f"/call/{field.call_id}/templink"),
        ("POST", f"/call/{field.call_id}/status"),
        ("GET", "/user/self"),
        ("GET", "/notification"),
    ):
        answer = await client.request(method, path, headers=as_header, json={"status": "Done"})
        assert answer.status_code == 401, (method, path, answer.text)
        answer = await client.request(method, path, params=q, json={"status": "Done"})
        assert answer.status_code == 401, (method, path, answer.text)
    assert (await client.get("/account/info", headers=as_header)).status_code == 401
    assert (
        await client.post(
            "/v2.0", json={"jsonrpc": "2.0", "id": 1, "method": "get.account", "params": {"access_token": token}}
        )
    ).json()["error"]


async def test_the_report_is_all_or_nothing(field: Field, client: httpx.AsyncClient) -> None:
    token = await field.link()
    first, second = field.tasks
    await client.post(f"/calltask/{second}/status", json={"status": "Canceled"}, headers=field.me)
    before = await field.erp_call()
    for body, expected in (
        # the first move is fine, the second is not: nothing at all changes
        (
            {
                "comments": "ok",
                "callTaskResults": [{"taskId": first, "newStatus": "Done"}, {"taskId": second, "newStatus": "Done"}],
            },
            (409, {"errorCode": 3}),
        ),
        ({"comments": "ok", "callTaskResults": [{"taskId": first, "newStatus": "New"}]}, (409, {"errorCode": 3})),
        ({"comments": "   ", "callTaskResults": []}, (400, {"errorCode": 6})),
        ({"callTaskResults": []}, (400, {"errorCode": 0})),
        (
            {"comments": "ok", "callTaskResults": [{"taskId": first, "newStatus": "Done"}] * 2},
            (400, {"errorCode": 0}),
        ),
        ({"comments": "ok", "callTaskResults": [{"taskId": first, "newStatus": "Finished"}]}, (400, {"errorCode": 0})),
        ({"comments": "ok", "callTaskResults": [{"taskId": 0, "newStatus": "Done"}]}, (400, {"errorCode": 0})),
        ({"comments": "x" * 2001}, (400, {"errorCode": 0})),
        (  # the tasks are fine, an expense is not one of the call's items: nothing changes, no estimate appears
            {
                "comments": "ok",
                "callTaskResults": [{"taskId": first, "newStatus": "Done"}],
                "expenses": [{"count": 1, "expenditureItemId": 10**12}],
            },
            (400, {"errorCode": 15}),
        ),
        ({"comments": "ok", "materials": [{"count": 1, "name": "Fuse"}]}, (400, {"errorCode": 0})),
        ({"comments": "ok", "expenses": [{"count": -1, "expenditureItemId": 1}]}, (400, {"errorCode": 0})),
    ):
        assert error(await field.done(token, body)) == expected, body
        assert await field.erp_call() == before, body
    fuel = before["availableExpenditureItems"][0]["id"]
    assert (await client.get(f"/callCost/call/{field.call_id}", headers=field.tenant.erp)).status_code == 404
    report = {
        "comments": "Replaced the card reader",
        "callTaskResults": [{"taskId": first, "newStatus": "Done"}],
        "expenses": [{"count": 2.5, "expenditureItemId": fuel}],
        "materials": [
            {"count": 1, "name": "Card reader", "ownerType": "Contractor", "price": 1234.5, "serialNumber": "CR-77"}
        ],
    }
    answer = await field.done(token, report)
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["status"] == "Done" and done["finished"] and done["comments"] == "Replaced the card reader"
    assert [(t["id"], t["status"]) for t in done["tasks"]] == [(first, "Done"), (second, "Canceled")]
    assert done == await field.erp_call()
    assert error(await field.done(token, report)) == (409, {"errorCode": 7})  # already Done
    cost = (await client.get(f"/callCost/call/{field.call_id}", headers=field.tenant.erp)).json()
    assert cost["status"] == "Draft" and cost["editableUntil"]
    assert [(e["expenditureItemId"], e["count"], e["status"]) for e in cost["expenses"]] == [(fuel, 2.5, "New")]
    assert [(m["name"], m["serialNumber"], m["price"], m["total"]) for m in cost["materials"]] == [
        ("Card reader", "CR-77", 1234.5, "1234.50")
    ]
    feed = (await client.get(f"/call/modifications/{before['timestamp']}", headers=field.tenant.erp)).json()
    assert [c["status"] for c in feed] == ["Done"]
    notes = (await client.get("/notification", headers=field.me)).json()
    assert notes[0]["kind"] == "field_report" and "Replaced the card reader" in notes[0]["text"]


async def test_the_field_employees_files(field: Field, client: httpx.AsyncClient, settings: Settings) -> None:
    token = await field.link()
    q = {"token": token}
    first, second = field.tasks
    early = await client.post(f"/shared/callTask/{first}/attachment", params=q, **multipart(jpeg()))
    assert error(early) == (409, {"errorCode": 7})  # the call is not Done yet
    report = {
        "comments": "done",
        "callTaskResults": [{"taskId": first, "newStatus": "Done"}, {"taskId": second, "newStatus": "Canceled"}],
    }
    assert (await field.done(token, report)).status_code == 200
    canceled = await client.post(f"/shared/callTask/{second}/attachment", params=q, **multipart(jpeg()))
    assert error(canceled) == (409, {"errorCode": 3})
    photo = jpeg((320, 240))
    added = await client.post(f"/shared/callTask/{first}/attachment", params=q, **multipart(photo, "IMG_0001.JPG"))
    assert added.status_code == 200, added.text
    dto = added.json()
    assert (dto["type"], dto["name"], dto["size"]) == ("JPEG", "IMG_0001.JPG", len(photo))
    assert (await client.get(f"/shared/callTask/{first}/result", params=q)).json() == {"attachments": [dto]}
    assert error(await client.get(f"/shared/callTask/{second}/result", params=q)) == (404, {"errorCode": 2})
    fetched = await client.get(f"/shared/callTask/{first}/attachment/{dto['id']}/download", params=q)
    assert fetched.content == photo and fetched.headers["content-type"] == "image/jpeg"
    missing = await client.get(f"/shared/callTask/{first}/attachment/{dto['id'] + 99}/download", params=q)
    assert error(missing) == (404, {"errorCode": 2})
    bad = await client.post(f"/shared/callTask/{first}/attachment", params=q, **multipart(b"MZ" + b"\x00" * 99))
    assert error(bad) == (422, {"errorCode": 21})
    assert len(blob_files(settings)) == 1
    # the call is closed: the link uploads nothing more
    assert (await client.post(f"/call/{field.call_id}/close", headers=field.tenant.erp)).status_code == 204
    late = await client.post(f"/shared/callTask/{first}/attachment", params=q, **multipart(jpeg()))
    assert error(late) == (404, {"errorCode": 20})
    assert len(blob_files(settings)) == 1


async def test_a_thumbnail_is_made_once_stored_and_served_from_the_stored_copy(
    field: Field, client: httpx.AsyncClient, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 parallel requests for the thumbnail of a large image decode it once; the copy is stored as a blob."""
    task = field.tasks[0]
    await client.post(f"/calltask/{task}/status", json={"status": "Done"}, headers=field.me)
    big = io.BytesIO()
    Image.linear_gradient("L").resize((3000, 2000)).convert("RGB").save(big, "PNG")
    uploaded = await client.post(f"/calltask/{task}/attachment", headers=field.me, **multipart(big.getvalue(), "b.png"))
    assert uploaded.status_code == 200, uploaded.text
    attachment = uploaded.json()["id"]
    decodes: list[int] = []
    real = attachments_module.make_thumbnail

    def counted(data: bytes) -> bytes:
        decodes.append(len(data))
        return real(data)

    monkeypatch.setattr(attachments_module, "make_thumbnail", counted)
    url = f"/ui/link/{await field.link()}/tasks/{task}/attachments/{attachment}/thumb"
    answers = await asyncio.gather(*(client.get(url) for _ in range(16)))
    assert {a.status_code for a in answers} == {200}
    assert {a.content for a in answers} == {answers[0].content} and answers[0].headers["content-type"] == "image/jpeg"
    assert len(decodes) == 1
    with Image.open(io.BytesIO(answers[0].content)) as small:
        assert max(small.size) == 320 and small.size == (320, 213)
    row = await services.attachments.blobs.get(thumbnail_key(await _blob_key(services, attachment)))
    assert row == answers[0].content  # the stored copy
    assert (await client.get(url)).content == answers[0].content and len(decodes) == 1  # later: no decode


async def _blob_key(services: Any, attachment_id: int) -> str:
    async with services.attachments.db.engine.connect() as conn:
        return str(
            (
                await conn.execute(select(CallTaskAttachment.blob_key).where(CallTaskAttachment.id == attachment_id))
            ).scalar_one()
        )
