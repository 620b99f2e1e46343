"""The contractor's call list (filters, sort, paging, isExpired against the clock), the task list, the
notification list, settings and registration rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from cabinet.core.clock import OffsetClock
from tests.apis.contractor.support import Tenant, bearer


def ids(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_call_list_filters_sort_and_paging(client: httpx.AsyncClient, tenant: Tenant, clock: OffsetClock) -> None:
    owner_id, me = await tenant.contractor(client)
    now = clock.now()
    plain = await tenant.dispatch(client, owner_id, ttf=_iso(now + timedelta(days=5)))
    critical_late = await tenant.dispatch(client, owner_id, critical=True, ttf=_iso(now + timedelta(days=3)))
    critical_soon = await tenant.dispatch(client, owner_id, critical=True, ttf=_iso(now + timedelta(days=1)))
    no_deadline = await tenant.dispatch(client, owner_id)
    arrival = await tenant.dispatch(client, owner_id, tto=_iso(now + timedelta(hours=2)))

    # default: critical first, then the nearest fix deadline, calls without one after, newest first among equals
    listed = await client.get("/call", headers=me)
    assert ids(listed) == [critical_soon["id"], critical_late["id"], plain["id"], arrival["id"], no_deadline["id"]]
    assert listed.headers["X-Total-Count"] == "5"
    assert ids(await client.get("/call", params={"critical": "true"}, headers=me)) == [
        critical_soon["id"],
        critical_late["id"],
    ]
    page = await client.get("/call", params={"limit": 2, "offset": 2}, headers=me)
    assert ids(page) == [plain["id"], arrival["id"]] and page.headers["X-Total-Count"] == "5"
    assert ids(await client.get("/call", params={"sort": "-id"}, headers=me)) == sorted(
        (c["id"] for c in (plain, critical_late, critical_soon, no_deadline, arrival)), reverse=True
    )
    assert ids(await client.get("/call", params={"sort": "ttf"}, headers=me))[:3] == [
        critical_soon["id"],
        critical_late["id"],
        plain["id"],
    ]

    # status filter (any of several); an accepted call leaves "New"
    assert (
        await client.post(f"/call/{plain['id']}/status", json={"status": "Committed"}, headers=me)
    ).status_code == 200
    assert ids(await client.get("/call", params={"status": "Committed"}, headers=me)) == [plain["id"]]
    both = await client.get("/call", params=[("status", "Committed"), ("status", "New")], headers=me)
    assert both.headers["X-Total-Count"] == "5"

    # nothing is expired yet; three hours on, the un-accepted call with a 2 h arrival deadline is;
    # two days on, also the critical call with a 1-day fix deadline
    assert (await client.get("/call", params={"expired": "true"}, headers=me)).json() == []
    clock.advance(hours=3)
    username = next(name for name, uid in tenant.contractors.items() if uid == owner_id)
    me = bearer((await tenant.sign_in(client, username))["access"]["token"])  # the 1-hour access token expired
    expired = await client.get("/call", params={"expired": "true"}, headers=me)
    assert ids(expired) == [arrival["id"]] and expired.json()[0]["isExpired"] is True
    clock.advance(days=2)
    me = bearer((await tenant.sign_in(client, username))["access"]["token"])
    assert set(ids(await client.get("/call", params={"expired": "true"}, headers=me))) == {
        arrival["id"],
        critical_soon["id"],
    }
    not_expired = await client.get("/call", params={"expired": "false"}, headers=me)
    assert not_expired.headers["X-Total-Count"] == "3"
    assert (await client.get(f"/call/{critical_soon['id']}", headers=tenant.erp)).json()["isExpired"] is True

    # jeopardy filter
    assert (await client.post(f"/call/{plain['id']}/jeopardy", json={"comment": "late"}, headers=me)).status_code == 200
    assert ids(await client.get("/call", params={"jeopardy": "true"}, headers=me)) == [plain["id"]]

    # bad parameters are 400 ErrorDTO
    for params in ({"status": "Lost"}, {"sort": "owner"}, {"limit": 0}, {"limit": 1001}, {"offset": -1}):
        answer = await client.get("/call", params=params, headers=me)
        assert (answer.status_code, answer.json()) == (400, {"errorCode": 0}), params


async def test_task_list_pages_by_id(client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner_id, me = await tenant.contractor(client)
    calls = [await tenant.dispatch(client, owner_id) for _ in range(2)]
    all_ids = [t["id"] for c in calls for t in c["tasks"]]
    assert [t["id"] for t in (await client.get("/calltask", headers=tenant.erp)).json()] == all_ids
    first = (await client.get("/calltask", params={"limit": 3}, headers=me)).json()
    rest = (await client.get("/calltask", params={"afterId": first[-1]["id"]}, headers=me)).json()
    assert [t["id"] for t in first + rest] == all_ids
    assert first[0] == {"id": all_ids[0], "result": None, "status": "New", "title": "Diagnose"}


async def test_notification_paging(client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner_id, me = await tenant.contractor(client)
    for _ in range(3):
        await tenant.dispatch(client, owner_id)
    listed = await client.get("/notification", params={"limit": 2}, headers=me)
    assert len(listed.json()) == 2 and listed.headers["X-Unread-Count"] == "3"
    rest = await client.get("/notification", params={"offset": 2}, headers=me)
    assert len(rest.json()) == 1
    assert (await client.post("/notification/readAll", headers=me)).json() == 3
    assert (await client.post("/notification/readAll", headers=me)).json() == 0


async def test_settings_and_registration_rules(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for day in (1, 28):
        answer = await client.patch("/systemSettings", json={"callCostDeadlineDayOfMonth": day}, headers=tenant.erp)
        assert (answer.status_code, answer.json()) == (200, day)
    for day in (0, 29, "x"):
        answer = await client.patch("/systemSettings", json={"callCostDeadlineDayOfMonth": day}, headers=tenant.erp)
        assert (answer.status_code, answer.json()) == (400, {"errorCode": 0}), day
    # the seed marks the field (and the body) optional: without it nothing changes, the day in force is answered
    for body in ({}, {"callCostDeadlineDayOfMonth": None}):
        answer = await client.patch("/systemSettings", json=body, headers=tenant.erp)
        assert (answer.status_code, answer.json()) == (200, 28), body
    bare = await client.patch("/systemSettings", headers=tenant.erp)
    assert (bare.status_code, bare.json()) == (200, 28)
    username, _ = await tenant.register(client)
    duplicate = await client.post(
        "/user/register", json={"userName": username, "password": "pw_12345_67"}, headers=tenant.erp
    )
    assert (duplicate.status_code, duplicate.json()) == (409, {"errorCode": 1})
    for body in (
        {"userName": "ok_name", "password": "abcd"},
        {"userName": "bad name!", "password": "abcdefghij"},
        {"userName": "ok_name", "password": "nine_char"},
        {},
    ):
        answer = await client.post("/user/register", json=body, headers=tenant.erp)
        assert (answer.status_code, answer.json()) == (400, {"errorCode": 0}), body


async def test_text_json_bodies_are_read_as_json(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """Seed 004 lists text/json among the request media types (it answered 400 before)."""
    body = b'{"userName": "text_json_user", "password": "contractor_pw"}'
    for media in ("text/json", "text/json; charset=utf-8"):
        answer = await client.post("/user/register", content=body, headers={**tenant.erp, "Content-Type": media})
        assert answer.status_code == 200, answer.text
        body = body.replace(b"text_json_user", b"text_json_user2")
