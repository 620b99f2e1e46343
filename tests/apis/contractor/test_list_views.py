"""The call list's views kept per process (``repository/call_views.py``, ``ViewCache``), on both backends: a list
asked again reads no child table and writes no call's embeds again; every change to what a call embeds (its
status, tasks, their result's photos, jeopardies, expenditure items, visits, the signature), by this process or
another, shows in the next list exactly as in the call's own view (``GET /call/{id}``, never cached); the clock's
part (``isExpired``) follows the clock; the cache keeps at most its size."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cabinet.core.clock import OffsetClock
from cabinet.domains.fieldservice.calls import CallService
from cabinet.domains.fieldservice.repository.call_views import Listed, ViewCache
from cabinet.domains.fieldservice.repository.calls import _list_statements
from cabinet.domains.fieldservice.repository.scope import row_type
from cabinet.domains.fieldservice.schemas import CallView
from cabinet.domains.fieldservice.states import CallStatus
from cabinet.domains.registry import Services
from cabinet.models import Call
from cabinet.settings import Settings
from tests.apis.contractor.files_support import isolated_settings, jpeg
from tests.apis.contractor.support import Tenant
from tests.apis.contractor.test_proof import Link, png
from tests.helpers import table_reads

CHILD_TABLES = ("contractor_task", "contractor_jeopardy", "contractor_expenditure_item", "contractor_visit")


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path)


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = await client.get("/call", params={"sort": "id", "limit": 100}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def same_as_each_view(client: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str]) -> list[Any]:
    """The list (read twice: the second from the cache) equals each call's own view, read without any cache."""
    first, again = await listed(client, headers), await listed(client, headers)
    assert again == first
    for call in first:
        own = await client.get(f"/call/{call['id']}", headers=tenant.erp)
        assert own.json() == call
    return first


def child_reads(statements: list[list[str]]) -> int:
    return sum(len(seen) for seen in statements)


async def test_a_list_asked_again_reads_no_child_table(app: Any, client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner_id, me = await tenant.contractor(client)
    for _ in range(3):
        await tenant.dispatch(client, owner_id)
    await listed(client, me)
    with table_reads(app, "contractor_task") as tasks, table_reads(app, "contractor_jeopardy") as risks:
        again = await listed(client, me)
    assert len(again) == 3
    assert child_reads([tasks, risks]) == 0  # only the page itself
    changed = again[1]["id"]
    accepted = await client.post(f"/call/{changed}/status", json={"status": "Committed"}, headers=me)
    assert accepted.status_code == 200, accepted.text
    with table_reads(app, "contractor_task") as tasks:
        after = await listed(client, me)
    assert len(tasks) == 2  # the changed call's embeds read again: its tasks, their attachments (by task)
    assert [c["status"] for c in after] == ["New", "Committed", "New"]


async def test_every_change_to_a_calls_embeds_shows_in_the_next_list(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await Link(client, tenant).setup()
    other = await tenant.dispatch(client, link.owner_id)
    await same_as_each_view(client, tenant, link.me)

    async def step(answer: httpx.Response) -> list[Any]:
        assert answer.status_code in (200, 201, 204), answer.text
        return await same_as_each_view(client, tenant, link.me)

    shown = await step(await client.post(f"/call/{link.call_id}/jeopardy", json={"comment": "нет"}, headers=link.me))
    assert shown[0]["isJeopardy"] is True and len(shown[0]["jeopardies"]) == 1
    shown = await step(
        await client.post(f"/call/{link.call_id}/unjeopardy", json={"answerComment": "ок"}, headers=tenant.erp)
    )
    assert shown[0]["jeopardies"][0]["answerComment"] == "ок"
    shown = await step(await link.visit("checkIn", latitude=55.751, longitude=37.621, accuracyMeters=10))
    assert len(shown[0]["visits"]) == 1 and shown[0]["visits"][0]["checkOutAt"] is None
    shown = await step(await client.post(f"/calltask/{link.tasks[0]}/status", json={"status": "Done"}, headers=link.me))
    assert shown[0]["tasks"][0]["status"] == "Done" and shown[0]["tasks"][0]["result"] == {"attachments": []}
    photo = await client.post(
        f"/calltask/{link.tasks[0]}/attachment",
        files={"Attachment": ("after.jpg", jpeg(), "image/jpeg")},
        headers=link.me,
    )
    shown = await step(photo)
    assert len(shown[0]["tasks"][0]["result"]["attachments"]) == 1
    shown = await step(await link.visit("checkOut"))
    assert shown[0]["visits"][0]["checkOutAt"] is not None
    shown = await step(await link.sign(png(), name="Анна Петрова"))
    assert shown[0]["signature"]["signerName"] == "Анна Петрова"
    shown = await step(await link.sign(png(), name="Иван Петров"))  # a new signature replaces the current one
    assert shown[0]["signature"]["signerName"] == "Иван Петров"
    patched = await client.patch(f"/call/{link.call_id}", json={"ttf": "2031-01-01T00:00:00Z"}, headers=tenant.erp)
    shown = await step(patched)
    assert shown[0]["ttf"] == "2031-01-01T00:00:00Z"
    assert shown[1] == (await client.get(f"/call/{other['id']}", headers=tenant.erp)).json()  # untouched


async def test_a_change_made_by_another_process_shows(
    client: httpx.AsyncClient, tenant: Tenant, services: Services, app: Any
) -> None:
    """The views are kept by one call service per process and hear of no change: a second call service on the same
    database (another process) accepts the call, this process's next list shows it."""
    owner_id, me = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    before = await listed(client, me)
    resources = app.state.runtime.resources
    elsewhere = CallService(resources.db, clock=resources.clock)
    assert elsewhere.calls.listed is not services.calls.calls.listed  # views of its own
    principal = await services.identity.resolve_access_token(me["Authorization"].removeprefix("Bearer "))
    await elsewhere.change_status(principal, call["id"], CallStatus.COMMITTED, None)
    after = await listed(client, me)
    assert before[0]["status"] == "New" and after[0]["status"] == "Committed"
    assert after[0]["timestamp"] > before[0]["timestamp"]
    assert after == [(await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()]


async def test_is_expired_follows_the_clock_on_a_kept_view(
    client: httpx.AsyncClient, tenant: Tenant, clock: OffsetClock
) -> None:
    owner_id, _ = await tenant.contractor(client)
    fix_by = (clock.now() + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    call = await tenant.dispatch(client, owner_id, ttf=fix_by)
    assert (await listed(client, tenant.erp))[0]["isExpired"] is False
    clock.advance(days=3)  # past the fix deadline; the call did not change: its view is kept
    shown = await listed(client, tenant.erp)  # (the external system's key does not expire)
    assert shown[0]["id"] == call["id"] and shown[0]["isExpired"] is True
    assert shown == [(await client.get(f"/call/{call['id']}", headers=tenant.erp)).json()]


def test_the_cache_keeps_at_most_its_size_and_only_for_the_same_version() -> None:
    cache = ViewCache(size=2)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    row = row_type(Call)

    def call(ident: int, change: int, link: uuid.UUID | None = None) -> Any:
        values = dict.fromkeys(row._fields)
        return row(**{**values, "id": ident, "change_no": change, "created_at": created, "temp_link_id": link})

    def listed(ident: int, change: int, link: uuid.UUID | None = None, *, at: datetime = created) -> Listed:
        return Listed(ident, change, at, link, False)

    for ident in (1, 2, 3):
        cache.put(CallView(call(ident, 1)))
    assert len(cache) == 2
    assert cache.get(listed(1, 1)) is None  # the oldest went
    assert cache.get(listed(2, 1)) is not None
    assert cache.get(listed(3, 2)) is None  # the call changed since
    assert cache.get(listed(3, 1, uuid.uuid4())) is None  # a field link was issued since (not stamped)
    assert cache.get(listed(3, 1, at=created + timedelta(seconds=1))) is None  # another call took a deleted one's id
    cache.put(CallView(call(4, 1)))  # 2 was used last: 3 goes
    assert cache.get(listed(3, 1)) is None and cache.get(listed(2, 1)) is not None
    expired = cache.get(Listed(2, 1, created, None, True))
    assert expired is not None and expired.is_expired is True  # the clock's part, as the page read it


async def test_a_status_asked_many_times_is_one_statement(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The list's statements are kept per shape of its filters: a status repeated in the query string is one
    status, so a caller cannot make the process keep a statement per repetition."""
    owner_id, me = await tenant.contractor(client)
    await tenant.dispatch(client, owner_id)
    once = await client.get("/call", params={"status": "New"}, headers=me)
    before = _list_statements.cache_info().currsize
    for times in (2, 50, 500):
        many = await client.get("/call", params=[("status", "New")] * times, headers=me)
        assert many.status_code == 200 and many.json() == once.json()
        assert many.headers["X-Total-Count"] == once.headers["X-Total-Count"] == "1"
    assert _list_statements.cache_info().currsize == before
