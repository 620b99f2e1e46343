"""The statements one contractor call view costs (issue 21, item 3): the count is pinned, so a change that adds a
round trip to GET /call/{id} has to say so here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from tests.apis.contractor.support import Tenant


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = app.state.runtime.resources.db.engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_an_erp_call_view_reads_the_call_and_its_children_in_few_statements(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    owner_id, _ = await tenant.contractor(client)
    call = await tenant.dispatch(client, owner_id)
    assert (await client.get(f"/call/{call['id']}", headers=tenant.erp)).status_code == 200  # the key is cached
    with statements(app) as seen:
        answer = await client.get(f"/call/{call['id']}", headers=tenant.erp)
    assert answer.status_code == 200, answer.text
    assert [t["title"] for t in answer.json()["tasks"]] == ["Diagnose", "Repair"]
    # the call, its tasks, their attachments, jeopardies, expenditure items, visits and the current signature: one
    # UNION ALL (repository/call_views.py); the ERP's key is checked against the cache's change stamps, which on
    # SQLite live in memory
    assert len(seen) == 1, seen


async def test_a_page_reads_its_calls_embeds_in_bounded_statements(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, monkeypatch: Any
) -> None:
    """A feed page may hold 10,000 calls: their ids are bound in every part of the embeds' statement, so a page is
    read in chunks of whole calls (SQLite and asyncpg take at most 32,766 parameters); chunked, the page reads the
    same as each call's own view."""
    from cabinet.domains.fieldservice.repository import call_views

    monkeypatch.setattr(call_views, "CALLS_PER_STATEMENT", 2)
    owner_id, _ = await tenant.contractor(client)
    ids = [(await tenant.dispatch(client, owner_id))["id"] for _ in range(5)]
    with statements(app) as seen:
        page = await client.get("/call/modifications/0", params={"limit": 100}, headers=tenant.erp)
    assert page.status_code == 200, page.text
    assert [c["id"] for c in page.json()] == ids
    embeds = [s for s in seen if s.startswith("SELECT 1 AS kind")]
    assert len(embeds) == 3, seen  # 5 calls, 2 a statement
    for call in page.json():
        assert (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json() == call
        assert [t["title"] for t in call["tasks"]] == ["Diagnose", "Repair"]
