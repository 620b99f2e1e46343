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

    def modelled(obj: Any, name: str | None, kind: str, reflected: bool, _compare_to: Any) -> bool:
        """Migration 0020's trigram search is not in the models: SQLite's FTS5 table (with its shadow tables) and
        PostgreSQL's GIN indexes; tests/apis/admin/test_user_search.py checks them."""
        return not (reflected and name is not None and name.startswith(("user_search", "ix_user_account_trgm_")))

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": modelled})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


def test_0020_migrates_a_database_with_users_and_their_rows(tmp_path: Any) -> None:
    """Migration 0020 on an embedded database that holds users, rows referring to them (which a recreated table
    would refuse to drop) and admins to find: is_admin backfilled, the trigram table filled and kept in step."""
    import sqlite3

    from cabinet.migrations import upgrade
    from cabinet.settings import Settings

    settings = Settings(data_dir=tmp_path)
    upgrade(settings, "0019")
    db = sqlite3.connect(tmp_path / "cabinet.sqlite3")
    at = "2026-01-01 00:00:00.000000"
    db.execute("INSERT INTO company (id, key, timezone, created_at, edited_at) VALUES (1, 'co', 0, ?, ?)", (at, at))
    for uid, name, roles, spec in ((1, "boss", '["COMPANYOWNER"]', "Пётр Иванов"), (2, "worker", '["USER"]', None)):
        db.execute(
            "INSERT INTO user_account (id, username, company_id, enabled, roles, specification, timezone, attributes, "
            "token_version, created_at, edited_at) VALUES (?, ?, 1, 1, ?, ?, 0, '[]', 1, ?, ?)",
            (uid, name, roles, spec, at, at),
        )
        db.execute("INSERT INTO contractor_verifier (user_id, sealed, edited_at) VALUES (?, x'00', ?)", (uid, at))
    db.commit()
    db.close()
    upgrade(settings)
    db = sqlite3.connect(tmp_path / "cabinet.sqlite3")
    try:
        assert db.execute("SELECT username, is_admin FROM user_account ORDER BY id").fetchall() == [
            ("boss", 1),
            ("worker", 0),
        ]
        assert db.execute("SELECT count(*) FROM contractor_verifier").fetchone() == (2,)  # the rows kept
        match = "SELECT rowid FROM user_search WHERE user_search MATCH ?"
        assert db.execute(match, ('"ПЁТР"',)).fetchall() == [(1,)]
        db.execute("UPDATE user_account SET specification = 'Анна' WHERE id = 2")
        db.execute("DELETE FROM contractor_verifier WHERE user_id = 1")
        db.execute("DELETE FROM user_account WHERE id = 1")
        assert db.execute(match, ('"пётр"',)).fetchall() == [] and db.execute(match, ('"анна"',)).fetchall() == [(2,)]
    finally:
        db.close()
