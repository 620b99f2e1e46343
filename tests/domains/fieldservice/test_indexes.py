"""The expression indexes behind the default call list order exist on the backend under test (the drift test
cannot compare expression indexes), and SQLite's planner serves the list from them without sorting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository import calls as call_queries
from cabinet.domains.fieldservice.repository.scope import call_scope, whole_rows
from cabinet.models import Call

ORDER_INDEXES = {"ix_contractor_call_company_order", "ix_contractor_call_owner_order"}


def _plan(sync_conn: Any, owner: int | None) -> str:
    """SQLite's plan for the repository's default list statement (company-wide, or one owner's)."""
    viewer = Viewer(company_id=1, user_id=1, owner_scope=owner, external=owner is None)
    stmt = whole_rows(Call).where(*call_scope(viewer)).order_by(*call_queries._order("default")).limit(50)
    compiled = stmt.compile(sync_conn, compile_kwargs={"literal_binds": True})
    rows = sync_conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").fetchall()
    return " | ".join(str(r[-1]) for r in rows)


async def test_list_order_indexes_exist_and_serve_the_default_list(app: Any) -> None:
    engine = app.state.runtime.resources.db.engine
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        else:
            rows = await conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'contractor_call'"))
        assert ORDER_INDEXES <= {r[0] for r in rows}
        if engine.dialect.name == "sqlite":
            for owner, index in ((None, "ix_contractor_call_company_order"), (7, "ix_contractor_call_owner_order")):
                plan = await conn.run_sync(_plan, owner)
                assert index in plan and "TEMP B-TREE" not in plan, plan
