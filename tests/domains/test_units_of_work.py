"""Units of work on a real database (both backends): reading units send no BEGIN/ROLLBACK (SQLite reads its WAL
snapshot, PostgreSQL runs them in autocommit), so a write inside one must be refused, never kept; and the
PostgreSQL pool replaces a connection the server closed without failing a request (no pre-ping round trips)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import func, insert, select, text, update

from cabinet.core.db.uow import Database, current_session, read_only, transactional
from cabinet.domains.registry import Services
from cabinet.models import Company
from cabinet.settings import Settings

NOW = datetime(2026, 11, 27, tzinfo=UTC)


class Probe:
    def __init__(self, db: Database) -> None:
        self.db = db

    @read_only
    async def orm_write_while_reading(self, key: str) -> None:
        current_session().add(Company(key=key, created_at=NOW, edited_at=NOW))
        await current_session().flush()

    @read_only
    async def core_insert_while_reading(self, key: str) -> None:
        await current_session().execute(insert(Company).values(key=key, created_at=NOW, edited_at=NOW))

    @read_only
    async def core_update_while_reading(self, key: str) -> None:
        await current_session().execute(update(Company).where(Company.key == key).values(detail="changed"))

    @transactional
    async def create(self, key: str) -> None:
        current_session().add(Company(key=key, created_at=NOW, edited_at=NOW))

    @read_only
    async def count(self, key: str) -> int:
        return int(await current_session().scalar(select(func.count()).where(Company.key == key)) or 0)

    @read_only
    async def detail(self, key: str) -> str | None:
        return await current_session().scalar(select(Company.detail).where(Company.key == key))

    @read_only
    async def backend_pid(self) -> int:
        pid = int(await current_session().scalar(text("select pg_backend_pid()")) or 0)
        await asyncio.sleep(0.05)  # hold the connection so that concurrent probes take different ones
        return pid


@pytest.fixture
def probe(services: Services) -> Probe:
    return Probe(services.identity.db)


async def test_a_reading_unit_refuses_an_orm_write_and_keeps_nothing(probe: Probe) -> None:
    with pytest.raises(RuntimeError, match="read-only unit of work"):
        await probe.orm_write_while_reading("uow_orm_write")
    assert await probe.count("uow_orm_write") == 0


async def test_a_reading_unit_refuses_core_inserts_and_updates(probe: Probe) -> None:
    with pytest.raises(RuntimeError, match="read-only unit of work"):
        await probe.core_insert_while_reading("uow_core_write")
    assert await probe.count("uow_core_write") == 0
    await probe.create("uow_update_target")
    with pytest.raises(RuntimeError, match="read-only unit of work"):
        await probe.core_update_while_reading("uow_update_target")
    assert await probe.detail("uow_update_target") is None


async def test_a_writing_unit_still_writes_after_reading_units_used_the_connection(probe: Probe) -> None:
    for _ in range(3):
        assert await probe.count("uow_after_reads") == 0
    await probe.create("uow_after_reads")
    assert await probe.count("uow_after_reads") == 1


async def test_connections_the_server_closed_are_replaced_without_a_failed_request(
    probe: Probe, settings: Settings
) -> None:
    if probe.db.dialect != "postgresql":
        pytest.skip("the connection pool and its liveness check are PostgreSQL's")
    pids = set(await asyncio.gather(*(probe.backend_pid() for _ in range(4))))
    assert pids and 0 not in pids
    admin = await asyncpg.connect(str(settings.database_url))
    try:  # what a PostgreSQL restart or an idle-session timeout does to the pooled connections
        for pid in pids:
            assert await admin.fetchval("select pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.3)  # the event loop reads each socket's end while the connections idle in the pool
    fresh = await asyncio.gather(*(probe.backend_pid() for _ in range(4)))  # none may fail
    assert not pids & set(fresh)
