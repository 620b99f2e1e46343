"""Async engine for the configured database (SQLite: WAL + foreign keys; PostgreSQL: pooled asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cabinet.core.regexp import regexp

READ_ONLY_OPTION = "cabinet_read_only"


def build_engine(async_url: str, *, pool_size: int = 10, echo: bool = False, schema: str | None = None) -> AsyncEngine:
    """``schema`` (PostgreSQL): the schema cabinet's tables live in (its ``search_path``); default ``public``."""
    if async_url.startswith("sqlite"):
        # Every call into aiosqlite is a round trip to its thread (two thread wake-ups, costly on a small VM).
        # Units of work always end with their own COMMIT or ROLLBACK, so the pool's reset on return would only
        # add a second ROLLBACK; and a ROLLBACK with no transaction open (a reading unit never sends BEGIN) is
        # skipped.
        engine = create_async_engine(async_url, echo=echo, connect_args={"timeout": 30}, pool_reset_on_return=None)
        dialect = engine.sync_engine.dialect
        driver_rollback = dialect.do_rollback

        def _rollback_if_open(dbapi_connection: Any) -> None:
            if dbapi_connection.driver_connection.in_transaction:
                driver_rollback(dbapi_connection)

        dialect.do_rollback = _rollback_if_open  # type: ignore[method-assign]

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # Let SQLAlchemy, not the driver, open transactions (so SAVEPOINTs work on SQLite).
            dbapi_connection.isolation_level = None
            # filters' regexp: RE2 (linear time) instead of SQLAlchemy's default Python ``re`` (backtracking)
            dbapi_connection.create_function("regexp", 2, regexp, deterministic=True)

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            if connection.get_execution_options().get(READ_ONLY_OPTION):
                return  # a reading unit: each SELECT runs on its own (WAL snapshot), no BEGIN round trip
            connection.exec_driver_sql("BEGIN")

        return engine
    return create_async_engine(
        async_url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={
            "timeout": 10,
            "command_timeout": 30,
            **({"server_settings": {"search_path": schema}} if schema else {}),
        },
    )
