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


async def test_a_page_reads_each_child_table_once_with_its_ids_bound_as_one_value(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A feed page may hold 10,000 calls: its children are read in one statement per child table (tasks,
    attachments, jeopardies, expenditure items, visits, signatures) whatever the page's size, the ids bound as one
    value (no statement grows with the page, none nears the 32,766 parameters SQLite and asyncpg take); the page
    reads the same as each call's own view (the one-call union)."""
    owner_id, _ = await tenant.contractor(client)
    ids = [(await tenant.dispatch(client, owner_id))["id"] for _ in range(5)]
    for limit in (2, 100):
        with statements(app) as seen:
            page = await client.get("/call/modifications/0", params={"limit": limit}, headers=tenant.erp)
        assert page.status_code == 200, page.text
        assert [c["id"] for c in page.json()] == ids[:limit]
        children = [s for s in seen if "json_each" in s or "ANY(" in s]
        assert len(children) == 6, seen
        assert all(s.count("?") + s.count("$") == 1 for s in children), children
    for call in page.json():
        assert (await client.get(f"/call/{call['id']}", headers=tenant.erp)).json() == call
        assert [t["title"] for t in call["tasks"]] == ["Diagnose", "Repair"]
