"""The bench server's database: embedded SQLite (the default) or, with ``--pg``, PostgreSQL + Redis in a schema and a
key prefix of the run's own; and bulk rows written straight into it before the server starts.

``CABINET_BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) and
``CABINET_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) say where PostgreSQL and Redis are.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def backend_env(pg: bool, *, tag: str = "bench") -> tuple[dict[str, str], str | None]:
    """CABINET_ settings of cabinet's backend and the PostgreSQL schema to drop afterwards (None: embedded)."""
    if not pg:
        return {}, None
    database = os.environ.get("CABINET_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis = os.environ.get("CABINET_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    schema = f"{tag}_{os.getpid()}_{secrets.token_hex(3)}"
    env = {
        "CABINET_DATABASE_URL": database,
        "CABINET_DATABASE_SCHEMA": schema,
        "CABINET_REDIS_URL": redis,
        "CABINET_REDIS_KEY_PREFIX": schema,
        "CABINET_SECRET_KEY": secrets.token_urlsafe(32),
    }
    postgres_schema(database, schema, create=True)
    return env, schema


def postgres_schema(database: str, schema: str, *, create: bool) -> None:
    """Create (or, ``create=False``, drop) the run's schema."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.helpers import postgres_schema as make

    from cabinet.settings import Settings

    make(Settings(database_url=database, database_schema=schema), create=create)


def sqlite_stamp(moment: datetime) -> str:
    """A UTC moment as SQLAlchemy stores DateTime on SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class SeedTarget:
    """Bulk rows into the server's database before it starts: SQL with ``?`` placeholders, values as Python
    objects (aware datetimes, bools, str); each backend gets them in its own form. ``close()`` commits and, on
    PostgreSQL, moves the id sequences past the ids written and analyses the tables (the planner would otherwise
    plan the bench's queries for empty tables)."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self._pg_url = env.get("CABINET_DATABASE_URL")
        self._schema = env.get("CABINET_DATABASE_SCHEMA")
        self._tables: set[str] = set()
        if self._pg_url:
            self._runner = asyncio.Runner()
            self._conn = self._runner.run(self._connect())
        else:
            self._db = sqlite3.connect(data_dir / "cabinet.sqlite3")

    async def _connect(self) -> Any:
        import asyncpg

        url = self._pg_url.replace("postgresql+asyncpg://", "postgresql://") if self._pg_url else ""
        conn = await asyncpg.connect(url, server_settings={"search_path": str(self._schema)})
        await conn.execute("BEGIN")
        return conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        if self._pg_url:
            row = self._runner.run(self._conn.fetchrow(_numbered(sql), *params))
            return tuple(row) if row is not None else ()
        found = self._db.execute(sql, [_sqlite(v) for v in params]).fetchone()
        return tuple(found) if found is not None else ()

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        match = re.match(r"\s*INSERT INTO (\w+)", sql, re.IGNORECASE)
        if match:
            self._tables.add(match.group(1))
        if self._pg_url:
            self._runner.run(self._conn.executemany(_numbered(sql), list(rows)))
        else:
            self._db.executemany(sql, ([_sqlite(v) for v in row] for row in rows))

    def close(self) -> None:
        if self._pg_url:
            self._runner.run(self._finish())
            self._runner.close()
        else:
            self._db.commit()
            self._db.close()

    async def _finish(self) -> None:
        for table in sorted(self._tables):
            has_id = await self._conn.fetchval(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
                " AND column_name = 'id'",
                self._schema,
                table,
            )
            if has_id:
                await self._conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        await self._conn.execute("COMMIT")
        for table in sorted(self._tables):
            await self._conn.execute(f"ANALYZE {table}")
        await self._conn.close()


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


def _sqlite(value: Any) -> Any:
    return sqlite_stamp(value) if isinstance(value, datetime) else value
