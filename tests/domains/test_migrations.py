"""The Alembic migrations build exactly the schema the models describe, on the backend under test."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cabinet.core.db.base import Base


# Expression indexes (the call list order) cannot be reflected, so autogenerate skips them, saying so; they are
# checked by tests/domains/fieldservice/test_indexes.py.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
async def test_no_drift_between_models_and_migrations(app: Any) -> None:
    engine = app.state.runtime.resources.db.engine

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []
