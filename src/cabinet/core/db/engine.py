"""Async engine for the configured database (SQLite: WAL + foreign keys; PostgreSQL: pooled asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cabinet.core.db.sqlite_driver import one_trip_dbapi
from cabinet.core.regexp import regexp

READ_ONLY_OPTION = "cabinet_read_only"


def _refuse_writes_when_reading(conn: Any, clauseelement: Any, *_args: Any) -> None:
    # reading units send no BEGIN (SQLite) or run in autocommit (PostgreSQL): a write there would stick
    if getattr(clauseelement, "is_dml", False) and conn.get_execution_options().get(READ_ONLY_OPTION):
        raise RuntimeError("a read-only unit of work tried to write: make the service method @transactional")


def build_engine(async_url: str, *, pool_size: int = 10, echo: bool = False, schema: str | None = None) -> AsyncEngine:
    """``schema`` (PostgreSQL): the schema cabinet's tables live in (its ``search_path``); default ``public``."""
    if async_url.startswith("sqlite"):
        engine = _sqlite_engine(async_url, pool_size=pool_size, echo=echo)
    else:
        engine = _postgres_engine(async_url, pool_size=pool_size, echo=echo, schema=schema)
    event.listen(engine.sync_engine, "before_execute", _refuse_writes_when_reading)
    return engine


def _sqlite_engine(async_url: str, *, pool_size: int, echo: bool) -> AsyncEngine:
    # Every call into aiosqlite is a round trip to its thread (two thread wake-ups, costly on a small VM).
    # Units of work always end with their own COMMIT or ROLLBACK, so the pool's reset on return would only
    # add a second ROLLBACK; and a ROLLBACK with no transaction open (a reading unit never sends BEGIN) is
    # skipped.
    # The pool holds ``pool_size`` connections (CABINET_DB_POOL_SIZE), as on PostgreSQL: with SQLAlchemy's default
    # of 5, every request beyond the fifth concurrent one opened a connection (a new aiosqlite thread and the
    # pragmas below) and closed it again, about 2-5 % of the event loop's time at 32 concurrent requests.
    sizing = {} if ":memory:" in async_url else {"pool_size": pool_size, "max_overflow": max(1, pool_size // 2)}
    engine = create_async_engine(
        async_url,
        echo=echo,
        connect_args={"timeout": 30},
        pool_reset_on_return=None,
        module=one_trip_dbapi(),  # a statement is one trip to aiosqlite's thread, not four (sqlite_driver.py)
        **sizing,
    )
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
        # SQLite's lower() folds ASCII only: case-insensitive matching (ilike, icontains: lower(x) LIKE lower(y))
        # must fold Cyrillic as PostgreSQL does. No index of ours is on lower(), so overriding it changes none.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            return  # a reading unit: each SELECT runs on its own (WAL snapshot), no BEGIN round trip
        connection.exec_driver_sql("BEGIN")

    return engine


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _postgres_engine(async_url: str, *, pool_size: int, echo: bool, schema: str | None) -> AsyncEngine:
    # ``pool_size`` connections stay open; bursts above it get up to half as many more, closed again when they
    # come back (each such connection is a new server process: a pool smaller than the steady concurrency
    # churns them).
    engine = create_async_engine(
        async_url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max(1, pool_size // 2),
        pool_use_lifo=True,  # the connection used last is reused first: a few busy backends stay warm
        pool_timeout=10,
        connect_args={
            "timeout": 10,
            "command_timeout": 30,
            **({"server_settings": {"search_path": schema}} if schema else {}),
        },
    )

    # Liveness without a round trip: SQLAlchemy's pre-ping costs three (BEGIN, ``;``, ROLLBACK) per checkout.
    # A server that restarts or ends a session closes its socket, which asyncpg notices while the connection
    # idles in the pool, so a closed connection is dropped here (the pool then opens a fresh one). A connection
    # that dies mid-statement raises a disconnect error, and SQLAlchemy then recycles the whole pool.
    @event.listens_for(engine.sync_engine, "checkout")
    def _drop_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the database closed this connection")

    return engine
