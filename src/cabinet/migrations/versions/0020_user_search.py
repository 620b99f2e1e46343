"""User lists: an indexed ``is_admin`` and a trigram index for the text search

The operator's user list counts a company's users (all, active, locked, admins) and finds them by any part of
their login, name, e-mail or phone. Both read every user of the company on every request: the admins by matching
the roles' JSON text, the search with a case-folding LIKE on four columns (on SQLite a Python function per row).

- ``is_admin``: one of ADMIN_ROLES among the roles (the model sets it with the roles), backfilled here; the
  counters read an index on (company, enabled, is_admin), the list's date order one on (company, created_at).
- SQLite: an FTS5 table ``user_search`` with the trigram tokenizer (substring matches of 3 characters and more,
  Unicode case folding, so "ПЁТР" finds "Пётр") over the four columns, external content kept in step by triggers.
  NB: a ``batch_alter_table`` on ``user_account`` that recreates the table would drop these triggers (and fails
  on the rows that refer to users anyway): alter it with plain ALTERs.
- PostgreSQL: the pg_trgm extension (in ``public``, so every schema of the database finds its operator classes)
  and a GIN trigram index per column, which ILIKE '%text%' uses as it is.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ADMIN_ROLES = ("ADMIN", "OVERLORD", "COMPANYOWNER")  # as cabinet.core.roles.ADMIN_ROLES on the day of writing
SEARCHED = ("username", "specification", "email", "phone")


def upgrade() -> None:
    # plain ALTERs, not batch_alter_table: a batch recreates the table on SQLite, and dropping the old one fails
    # on the foreign keys of every row that refers to a user (tests/domains/test_migrations.py migrates data)
    op.add_column("user_account", sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_user_account_company_counts", "user_account", ["company_id", "enabled", "is_admin"])
    op.create_index("ix_user_account_company_created", "user_account", ["company_id", "created_at"])
    bind = op.get_bind()
    users = sa.table("user_account", sa.column("id", sa.BigInteger()), sa.column("roles", sa.Text()))
    admins = [
        row.id
        for row in bind.execute(sa.select(users.c.id, sa.cast(users.c.roles, sa.Text()).label("roles")))
        if any(role in ADMIN_ROLES for role in (json.loads(row.roles) if row.roles else []))
    ]
    for start in range(0, len(admins), 1000):
        bind.execute(
            sa.text("UPDATE user_account SET is_admin = true WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": admins[start : start + 1000]},
        )
    if bind.dialect.name == "sqlite":
        columns = ", ".join(SEARCHED)
        op.execute(
            f"CREATE VIRTUAL TABLE user_search USING fts5({columns}, content='user_account', content_rowid='id', "
            "tokenize='trigram case_sensitive 0')"
        )
        _sqlite_triggers()
        op.execute("INSERT INTO user_search(user_search) VALUES ('rebuild')")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        for column in SEARCHED:
            op.execute(
                f"CREATE INDEX ix_user_account_trgm_{column} ON user_account USING gin ({column} public.gin_trgm_ops)"
            )


def _sqlite_triggers() -> None:
    """The FTS5 external-content triggers: each write of a user writes its indexed text too."""
    columns = ", ".join(SEARCHED)
    new = ", ".join(f"new.{c}" for c in SEARCHED)
    old = ", ".join(f"old.{c}" for c in SEARCHED)
    op.execute(
        "CREATE TRIGGER user_search_insert AFTER INSERT ON user_account BEGIN "
        f"INSERT INTO user_search(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER user_search_delete AFTER DELETE ON user_account BEGIN "
        f"INSERT INTO user_search(user_search, rowid, {columns}) VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER user_search_update AFTER UPDATE OF {columns} ON user_account BEGIN "
        f"INSERT INTO user_search(user_search, rowid, {columns}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO user_search(rowid, {columns}) VALUES (new.id, {new}); END"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS user_search_{name}")
        op.execute("DROP TABLE IF EXISTS user_search")
    else:
        for column in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_user_account_trgm_{column}")
    op.drop_index("ix_user_account_company_created", "user_account")
    op.drop_index("ix_user_account_company_counts", "user_account")
    op.drop_column("user_account", "is_admin")
