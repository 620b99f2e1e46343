"""Proof of work through the field link: visits (check-in/out with the phone's time and position, distance to the
service object, geofence marked not refused, one open visit at a time) and the customer's signature (PNG + name,
replaced ones kept), on GET /call/{id} and the call feed."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from cabinet.settings import Settings
from tests.apis.contractor.files_support import blob_files, isolated_settings, jpeg
from tests.apis.contractor.support import Tenant, make_tenant

OBJECT = (55.75, 37.62)  # the service object of support.call_body


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path, field_geofence_meters=300)


def png(text_seed: int = 1, size: tuple[int, int] = (300, 120)) -> bytes:
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    for x in range(20, size[0] - 20):
        image.putpixel((x, 60 + (x * text_seed) % 30), (0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class Link:
    def __init__(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant

    async def setup(self, **call: Any) -> Link:
        self.owner_id, self.me = await self.tenant.contractor(self.client)
        created = await self.tenant.dispatch(self.client, self.owner_id, **call)
        self.call_id = created["id"]
        self.tasks = [t["id"] for t in created["tasks"]]
        answer = await self.client.post(f"/call/{self.call_id}/status", json={"status": "Committed"}, headers=self.me)
        assert answer.status_code == 200
        self.token = (await self.client.post(f"/call/{self.call_id}/templink", headers=self.me)).json()
        return self

    async def visit(self, action: str, **extra: Any) -> httpx.Response:
        headers = extra.pop("headers", None)
        body = {"action": action, "clientTime": "2026-12-01T10:00:00+03:00", **extra}
        return await self.client.post("/shared/call/visit", params={"token": self.token}, json=body, headers=headers)

    async def sign(self, data: bytes, name: str | None = "Анна Петрова", headers: Any = None) -> httpx.Response:
        form = {"signerName": name} if name is not None else {}
        return await self.client.post(
            "/shared/call/signature",
            params={"token": self.token},
            files={"file": ("signature.png", data, "image/png")},
            data=form,
            headers=headers,
        )

    async def erp_call(self) -> dict[str, Any]:
        answer = await self.client.get(f"/call/{self.call_id}", headers=self.tenant.erp)
        assert answer.status_code == 200
        return answer.json()  # type: ignore[no-any-return]


@pytest.fixture
async def link(client: httpx.AsyncClient, tenant: Tenant) -> Link:
    return await Link(client, tenant).setup()


async def test_check_in_and_out_with_the_phones_time_and_position(link: Link) -> None:
    before = (await link.erp_call())["timestamp"]
    near = await link.visit("checkIn", latitude=55.751, longitude=37.621, accuracyMeters=12.5)
    assert near.status_code == 200, near.text
    (visit,) = near.json()["visits"]
    assert visit["checkInLocation"] == {"latitude": 55.751, "longitude": 37.621, "accuracyMeters": 12.5}
    assert 125 < visit["distanceMeters"] < 140 and visit["outsideGeofence"] is False
    assert visit["checkInClientTime"].startswith("2026-12-01T07:00:00")  # the phone's time, kept in UTC
    assert visit["checkOutAt"] is None
    out = await link.visit("checkOut", clientTime="2026-12-01T11:30:00Z")
    assert out.status_code == 200
    (closed,) = out.json()["visits"]
    assert closed["checkOutClientTime"].startswith("2026-12-01T11:30:00") and closed["checkOutLocation"] is None
    assert closed["checkOutAt"] >= closed["checkInAt"]
    call = await link.erp_call()
    assert call["visits"] == out.json()["visits"]
    assert call["timestamp"] > before  # the ERP's feed carries the call again
    feed = (await link.client.get(f"/call/modifications/{before}", headers=link.tenant.erp)).json()
    assert [c["visits"] for c in feed if c["id"] == link.call_id] == [call["visits"]]


async def test_one_open_visit_at_a_time_and_several_visits(link: Link) -> None:
    refused = await link.visit("checkOut")
    assert refused.status_code == 409 and refused.json() == {"errorCode": 28}
    assert (await link.visit("checkIn")).status_code == 200
    twice = await link.visit("checkIn")
    assert twice.status_code == 409 and twice.json() == {"errorCode": 29}
    assert (await link.visit("checkOut")).status_code == 200
    assert (await link.visit("checkIn")).status_code == 200
    visits = (await link.visit("checkOut")).json()["visits"]
    assert len(visits) == 2 and all(v["checkOutAt"] for v in visits)
    assert visits[0]["distanceMeters"] is None and visits[0]["outsideGeofence"] is None  # no position given


async def test_a_far_check_in_is_marked_not_refused(link: Link) -> None:
    far = await link.visit("checkIn", latitude=55.80, longitude=37.62)
    assert far.status_code == 200
    (visit,) = far.json()["visits"]
    assert 5500 < visit["distanceMeters"] < 5600 and visit["outsideGeofence"] is True


async def test_an_object_without_coordinates_has_no_distance(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await Link(client, tenant).setup(serviceObjectLatitude=0, serviceObjectLongitude=0)
    (visit,) = (await link.visit("checkIn", latitude=55.8, longitude=37.6)).json()["visits"]
    assert visit["distanceMeters"] is None and visit["outsideGeofence"] is None
    assert visit["checkInLocation"]["latitude"] == 55.8


@pytest.mark.parametrize(
    "extra",
    [
        {"latitude": 55.0},
        {"longitude": 37.0},
        {"accuracyMeters": 5},
        {"latitude": 91, "longitude": 0},
        {"latitude": 0, "longitude": 181},
        {"latitude": 1, "longitude": 1, "accuracyMeters": -1},
        {"action": "arrive"},
        {"clientTime": "yesterday"},
        {"clientTime": None},
    ],
)
async def test_invalid_visits_are_400(link: Link, extra: dict[str, Any]) -> None:
    action = extra.pop("action", "checkIn")
    answer = await link.visit(action, **extra)
    assert answer.status_code == 400 and answer.json() == {"errorCode": 0}
    assert (await link.erp_call())["visits"] == []


async def test_visits_need_a_live_link_on_a_committed_or_done_call(link: Link) -> None:
    assert (await link.visit("checkIn")).status_code == 200
    report = {"comments": "done", "callTaskResults": [{"taskId": link.tasks[0], "newStatus": "Done"}]}
    assert (await link.client.post("/shared/call/done", params={"token": link.token}, json=report)).status_code == 200
    assert (await link.visit("checkOut")).status_code == 200  # after the report, still on site
    assert (await link.client.post(f"/call/{link.call_id}/close", headers=link.tenant.erp)).status_code == 204
    dead = await link.visit("checkIn")
    assert dead.status_code == 404 and dead.json() == {"errorCode": 20}


async def test_the_customers_signature(link: Link, settings: Settings) -> None:
    first = png(1)
    answer = await link.sign(first)
    assert answer.status_code == 201, answer.text
    signature = answer.json()["signature"]
    assert signature["signerName"] == "Анна Петрова"
    assert signature["size"] == len(first) and signature["sha256"] == hashlib.sha256(first).hexdigest()
    assert (await link.erp_call())["signature"] == signature
    download = await link.client.get(
        f"/call/{link.call_id}/signature/{signature['attachmentId']}", headers=link.tenant.erp
    )
    assert download.status_code == 200 and download.content == first
    assert download.headers["content-type"] == "image/png"

    second = png(3)
    replaced = (await link.sign(second, name="  Anna   Petrova ")).json()["signature"]
    assert replaced["signerName"] == "Anna Petrova" and replaced["attachmentId"] != signature["attachmentId"]
    assert (await link.erp_call())["signature"] == replaced
    old = await link.client.get(f"/call/{link.call_id}/signature/{signature['attachmentId']}", headers=link.me)
    assert old.status_code == 200 and old.content == first  # kept for the evidence bundle
    assert len([f for f in blob_files(settings) if f.startswith("attachments/")]) == 0
    assert len(list((settings.blob_dir / "signatures").rglob("*.png"))) == 2


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        ("jpeg", "Anna", 422, 21),
        ("empty", "Anna", 422, 22),
        ("png", None, 400, 0),
        ("png", "   ", 400, 0),
        ("png", "x" * 201, 400, 0),
        ("png", "Anna\u0000", 400, 0),
    ],
)
async def test_a_bad_signature_is_refused_and_leaves_nothing(
    link: Link, settings: Settings, data: str, name: str | None, status: int, code: int
) -> None:
    body = {"jpeg": jpeg(), "empty": b"", "png": png()}[data]
    answer = await link.sign(body, name=name)
    assert answer.status_code == status and answer.json() == {"errorCode": code}, answer.text
    assert (await link.erp_call())["signature"] is None
    assert not (settings.blob_dir / "signatures").exists() or not list((settings.blob_dir / "signatures").rglob("*"))


async def test_a_signature_is_seen_only_by_those_who_see_the_call(
    link: Link, client: httpx.AsyncClient, services: Any
) -> None:
    signature = (await link.sign(png())).json()["signature"]
    other = await make_tenant(services)
    foreign = await client.get(f"/call/{link.call_id}/signature/{signature['attachmentId']}", headers=other.erp)
    assert foreign.status_code == 404 and foreign.json() == {"errorCode": 1}
    missing = await client.get(f"/call/{link.call_id}/signature/{signature['attachmentId'] + 99}", headers=link.me)
    assert missing.status_code == 404 and missing.json() == {"errorCode": 2}


async def test_keyed_signature_and_visit_apply_once(link: Link) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await link.sign(png(), headers=key)
    again = await link.sign(png(), headers=key)
    assert first.status_code == 201 and again.status_code == 201 and again.content == first.content
    other_name = await link.sign(png(), name="Someone else", headers=key)
    assert other_name.status_code == 422 and other_name.json() == {"errorCode": 27}
    visit_key = {"Idempotency-Key": str(uuid.uuid4())}
    assert (await link.visit("checkIn", headers=visit_key)).status_code == 200
    repeat = await link.visit("checkIn", headers=visit_key)  # a plain repeat would be 409 code 29
    assert repeat.status_code == 200 and repeat.headers["idempotent-replayed"] == "true"
    assert len((await link.erp_call())["visits"]) == 1


async def test_one_call_reads_the_same_in_its_view_the_list_and_the_feed(link: Link) -> None:
    """GET /call/{id} reads the call and its embeds in one statement (repository/call_views.py), a page of the list
    or the feed reads its calls' embeds in another: a call with all of them reads the same in all three, and the
    view's own scope keeps other contractors out."""
    client, tenant = link.client, link.tenant
    assert (await link.visit("checkIn", latitude=55.751, longitude=37.621, accuracyMeters=12.5)).status_code == 200
    assert (await link.visit("checkOut")).status_code == 200
    assert (await link.sign(png(1), name="Первая подпись")).status_code == 201
    assert (await link.sign(png(2), name="Анна Петрова")).status_code == 201  # replaces the first
    jeopardy = await client.post(
        f"/call/{link.call_id}/jeopardy", json={"comment": "детали\nзадерживаются"}, headers=link.me
    )
    assert jeopardy.status_code == 200, jeopardy.text
    one = await link.erp_call()
    assert [t["id"] for t in one["tasks"]] == link.tasks and one["availableExpenditureItems"]
    assert len(one["visits"]) == 1 and one["visits"][0]["checkOutAt"] is not None
    assert one["signature"]["signerName"] == "Анна Петрова"  # the current one only
    assert [j["comment"] for j in one["jeopardies"]] == ["детали\nзадерживаются"] and one["isJeopardy"] is True
    for headers in (tenant.erp, link.me):
        listed = (await client.get("/call", params={"limit": 50}, headers=headers)).json()
        assert [c for c in listed if c["id"] == link.call_id] == [one]
        fed = (await client.get("/call/modifications/0", headers=headers)).json()
        assert [c for c in fed if c["id"] == link.call_id] == [one]
        assert (await client.get(f"/call/{link.call_id}", headers=headers)).json() == one
    _, other = await tenant.contractor(client)  # a contractor of the same company sees only its own calls
    hidden = await client.get(f"/call/{link.call_id}", headers=other)
    assert hidden.status_code == 404, hidden.text
