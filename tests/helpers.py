"""What several test modules share (import it from here; conftest.py holds only fixtures and hooks).

Callers and data: ``MadeUser``/``UserFactory``, ``login``, ``bearer``; the no-5xx response hook
``fail_on_server_error``; a real server on loopback (``LiveServer``, ``free_port``); child processes in a session
of their own (``spawn``, ``reap``); cleaning the test database (``clean``, ``clean_sync_copy``,
``postgres_schema``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import MetaData, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cabinet.app import create_app
from cabinet.core.clock import OffsetClock
from cabinet.core.db.base import Base
from cabinet.core.db.engine import build_engine
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.registry import Services
from cabinet.settings import Settings

TEST_SECRET = "test-secret-key-" + "x" * 40
RUN_ID = uuid.uuid4().hex[:12]

SCALE_OUT = pytest.mark.skipif(
    not (os.environ.get("CABINET_TEST_DATABASE_URL") and os.environ.get("CABINET_TEST_REDIS_URL")),
    reason="the scale-out profile needs PostgreSQL + Redis (the embedded profile is one process by design)",
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def fail_on_server_error(response: httpx.Response) -> None:
    """An httpx response hook: a 5xx answer fails the test, naming the request and the body."""
    if response.status_code >= 500:
        await response.aread()
        raise AssertionError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}"
        )


def postgres_schema(settings: Settings, *, create: bool) -> None:
    from cabinet.core.db.engine import build_engine

    async def run() -> None:
        engine = build_engine(settings.async_database_url, pool_size=1)
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {settings.database_schema} CASCADE"))
            if create:
                await conn.execute(text(f"CREATE SCHEMA {settings.database_schema}"))
        await engine.dispose()

    asyncio.run(run())


async def clean(application: Any) -> None:
    """Empty every table and the Redis keys of this run, so the next test starts clean."""
    runtime = application.state.runtime
    await runtime.services.audit.flush()  # pending audit rows first, or they would outlive their users
    # the rows go below without the ORM (no change stamps): the next test's users may take the same ids
    runtime.services.identity.accounts.clear()
    runtime.services.identity.user_counters.clear()
    # SQLite refuses a write at once when another connection committed in between; PostgreSQL may find a deadlock
    # with a server still flushing its batched audit (the production-profile stack runs on while tests clean up)
    # one script in one round trip (the driver's own multi-statement call): a statement per table through the
    # ORM cost about 20 ms per test, on every test
    script = "BEGIN; " + " ".join(f'DELETE FROM "{t.name}";' for t in reversed(Base.metadata.sorted_tables))
    for attempt in range(5):
        try:
            async with runtime.resources.db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                try:
                    if runtime.resources.db.dialect == "sqlite":
                        await driver.executescript(script + " COMMIT;")
                    else:
                        await driver.execute(script + " COMMIT;")
                except BaseException:
                    raw.invalidate()  # a half-run script may leave a transaction open: never pool it
                    raise
            break
        except Exception as exc:  # the drivers' own errors (sqlite3, asyncpg): the script bypasses SQLAlchemy
            sqlite_busy = isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
            if attempt == 4 or not (sqlite_busy or "deadlock detected" in str(exc)):
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


async def clean_sync_copy(settings: Settings) -> None:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await clean(application)


def spawn(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a child in a session (and process group) of its own: a signal meant for the test run's group (a
    Ctrl-C, pytest-xdist stopping its workers) never reaches it, and ``reap`` stops whatever it started too."""
    return subprocess.Popen(list(args), start_new_session=True, **kwargs)


def reap(process: subprocess.Popen[Any], *, timeout: float = 30, sig: int = signal.SIGTERM) -> None:
    """Stop ``process`` and its process group (``sig``, then SIGKILL after ``timeout`` s) and wait for it, so a
    test leaves no child behind, whatever happened to it."""
    try:
        if process.poll() is None:
            _signal_group(process, sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout)
    finally:
        _signal_group(process, signal.SIGKILL)  # any of its children still running
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _signal_group(process: subprocess.Popen[Any], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # its group id is its pid (spawn started a new session)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def table_reads(app: Any, table: str) -> Iterator[list[str]]:
    """The statements that read ``table`` while the block runs (a cache's hits read nothing)."""
    seen: list[str] = []
    engine = app.state.runtime.resources.db.engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if table in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def identity_elsewhere(app: Any) -> Any:
    """A second identity service with caches of its own (accounts, user counters), as another process has: the
    same database and the same change stamps (Redis on the scale-out backend); it hears of no commit but its own."""
    from cabinet.domains.identity.service import IdentityService

    resources, mine = app.state.runtime.resources, app.state.runtime.services.identity
    other = IdentityService(
        resources.db,
        clock=resources.clock,
        hasher=resources.hasher,
        tokens=resources.tokens,
        user_throttle=mine.user_throttle,
        ip_throttle=mine.ip_throttle,
        max_token_ttl=mine.max_token_ttl,
        stamps=resources.stamps,
    )
    resources.db.commit_observers.remove(other._users_committed)
    return other


@asynccontextmanager
async def sqlite_engine(path: Path, metadata: MetaData, *, pool_size: int = 1) -> AsyncIterator[AsyncEngine]:
    """The application's SQLite engine (``build_engine``) on a fresh file at ``path`` with ``metadata``'s tables."""
    engine = build_engine(f"sqlite+aiosqlite:///{path}", pool_size=pool_size)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()
