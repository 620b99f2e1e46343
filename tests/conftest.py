"""Test harness: one backend per run (SQLite + in-process limiter, or PostgreSQL + Redis), chosen by
CABINET_TEST_DATABASE_URL / CABINET_TEST_REDIS_URL. Each test gets a fresh app over a clean database."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cabinet.app import create_app
from cabinet.core.clock import OffsetClock
from cabinet.core.db.base import Base
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.registry import Services
from cabinet.migrations import upgrade
from cabinet.settings import Settings

TEST_SECRET = "test-secret-key-" + "x" * 40
RUN_ID = uuid.uuid4().hex[:12]
# modules whose tests share one expensive module-scoped fixture: one xdist worker runs each of them whole
WHOLE_MODULES = ("tests/e2e/test_production.py::",)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist load`` (the default with ``-n``), except that each of ``WHOLE_MODULES`` goes to one worker.

    pytest-xdist's own ``--dist loadgroup`` + ``xdist_group`` mark would do this, but it renames node ids
    through an attribute pytest 9 no longer reads, so the groups are silently ignored."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WholeModules(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return next((module for module in WHOLE_MODULES if nodeid.startswith(module)), nodeid)

    return WholeModules(config, log)


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Migrate the test database once per run (from scratch) and describe the backend."""
    database_url = os.environ.get("CABINET_TEST_DATABASE_URL") or None
    redis_url = os.environ.get("CABINET_TEST_REDIS_URL") or None
    data_dir = tmp_path_factory.mktemp("cabinet-data")
    # PostgreSQL: a schema of its own per run, so parallel runs on one database never meet
    schema = f"cabinet_test_{RUN_ID}" if database_url else None
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=TEST_SECRET,
        database_schema=schema,
    )
    if database_url:
        _postgres_schema(settings, create=True)
    upgrade(settings)
    yield {"database_url": database_url, "redis_url": redis_url, "data_dir": data_dir, "schema": schema}
    if database_url:
        _postgres_schema(settings, create=False)


def _postgres_schema(settings: Settings, *, create: bool) -> None:
    from cabinet.core.db.engine import build_engine

    async def run() -> None:
        engine = build_engine(settings.async_database_url, pool_size=1)
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {settings.database_schema} CASCADE"))
            if create:
                await conn.execute(text(f"CREATE SCHEMA {settings.database_schema}"))
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return Settings(
        data_dir=backend["data_dir"],
        database_url=backend["database_url"],
        redis_url=backend["redis_url"],
        database_schema=backend["schema"],
        redis_key_prefix=f"cabinet-test-{RUN_ID}",
        secret_key=TEST_SECRET,
        log_json=True,
        log_level="WARNING",
    )


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
async def app(settings: Settings, clock: OffsetClock) -> AsyncIterator[Any]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application
        await _clean(application)


async def _clean(application: Any) -> None:
    """Empty every table and the Redis keys of this run, so the next test starts clean."""
    runtime = application.state.runtime
    await runtime.services.audit.flush()  # pending audit rows first, or they would outlive their users
    for attempt in range(5):  # SQLite refuses a write at once when another connection committed in between
        try:
            async with runtime.resources.db.engine.begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    await conn.execute(table.delete())
            break
        except OperationalError:
            if attempt == 4 or runtime.resources.db.dialect != "sqlite":
                raise
            await asyncio.sleep(0.5)
    if runtime.settings.redis_url:
        import redis.asyncio as aioredis

        client = aioredis.from_url(runtime.settings.redis_url)
        try:
            keys = [k async for k in client.scan_iter(match=f"*{runtime.settings.redis_key_prefix}*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@pytest.fixture
def services(app: Any) -> Services:
    return app.state.runtime.services  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@dataclass
class MadeUser:
    id: int
    username: str
    password: str
    company: str
    roles: list[Role]


class UserFactory:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.count = 0

    async def __call__(
        self,
        username: str | None = None,
        *,
        password: str = "correct_horse_battery",
        company: str = "acme_corp",
        roles: list[Role] | None = None,
        **extra: Any,
    ) -> MadeUser:
        self.count += 1
        username = username or f"user_{self.count}_{uuid.uuid4().hex[:6]}"
        roles = roles if roles is not None else [Role.USER]
        user = await self.services.identity.create_user(
            UserCreate(
                username=username, password=password, company_key=company, roles=roles, create_company=True, **extra
            )
        )
        return MadeUser(user.id, username, password, company, roles)


@pytest.fixture
def make_user(services: Services) -> UserFactory:
    return UserFactory(services)


async def login(client: httpx.AsyncClient, user: MadeUser, **extra: Any) -> str:
    response = await client.post(
        "/account/token/generation", json={"username": user.username, "password": user.password, **extra}
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert isinstance(token, str)
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real app under uvicorn on a loopback port, in a background thread."""

    def __init__(self, settings: Settings, clock: OffsetClock) -> None:
        self.app = create_app(settings, clock=clock)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        if self.thread.is_alive():  # its shutdown would still be writing while the next test cleans up
            raise RuntimeError("uvicorn did not stop within 60 s")

    @property
    def services(self) -> Services:
        return self.app.state.runtime.services  # type: ignore[no-any-return]

    def run(self, coro: Any) -> Any:
        """Run a domain coroutine on the server's event loop (the one its DB pool and limiter belong to)."""

        return asyncio.run_coroutine_threadsafe(coro, self.server.servers[0].get_loop()).result(timeout=60)


@pytest.fixture
def live_server(settings: Settings, clock: OffsetClock) -> Iterator[LiveServer]:
    server = LiveServer(settings, clock)
    server.start()
    try:
        yield server
    finally:
        server.stop()  # first: its shutdown flushes pending audit records
        asyncio.run(_clean_sync_copy(settings))


async def _clean_sync_copy(settings: Settings) -> None:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await _clean(application)
