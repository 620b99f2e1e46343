"""Test harness: one backend per run (SQLite + in-process limiter, or PostgreSQL + Redis), chosen by
CABINET_TEST_DATABASE_URL / CABINET_TEST_REDIS_URL. Each test gets a fresh app over a clean database.

Fixtures and hooks only: what test modules import lives in ``tests/helpers.py``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher as Argon2
from sqlalchemy.util import LRUCache

from cabinet.app import create_app
from cabinet.core.clock import OffsetClock
from cabinet.core.db import engine as engine_module
from cabinet.core.security import passwords
from cabinet.domains.registry import Services
from cabinet.migrations import upgrade
from cabinet.settings import Settings
from tests.helpers import (
    RUN_ID,
    TEST_SECRET,
    LiveServer,
    UserFactory,
    clean,
    clean_sync_copy,
    fail_on_server_error,
    postgres_schema,
)

# modules whose tests share one expensive module-scoped fixture: one xdist worker runs each of them whole
WHOLE_MODULES = ("tests/e2e/test_production.py::",)


# the longest tests (10-90 s each: browsers, process stacks, fuzzing) start first, so that no worker is left
# running one of them alone at the end of a run while the other has finished (longest-first scheduling)
LONG_FIRST = (
    "tests/e2e/test_production.py::",
    "tests/e2e/test_web_pages.py::",
    "tests/contracts/test_schemathesis_",
    "tests/e2e/test_web_browser.py::",
    "tests/e2e/test_cli.py::",
    "tests/e2e/test_serve_workers.py::",
    "tests/e2e/test_field_offline.py::",
    "tests/apis/contractor/test_sync.py::",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order


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


class _CheapArgon2(Argon2):
    """argon2id at the library's lowest cost: the same code path (thread pool, dummy hash, rehash check), a
    thousandth of the CPU. At the production cost (t=2, 19 MiB: about 20 ms of CPU) the suite's several
    thousand hashes and verifications were a quarter of its CPU time."""

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int) -> None:
        super().__init__(time_cost=1, memory_cost=8 * parallelism, parallelism=parallelism)


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Apps built in the test process hash at the cheapest argon2id cost, unless the test is marked
    ``real_password_hashing`` (those check the production cost itself). Servers the tests start as processes
    (e2e) keep the production cost."""
    real = request.node.get_closest_marker("real_password_hashing") is not None
    if not real:
        monkeypatch.setattr(passwords, "_Argon2", _CheapArgon2)
    else:  # the per-process dummy hash is cached by its parameters: never hand a cheap one to a real hasher
        passwords._dummy_hash.cache_clear()
    yield
    if real:
        passwords._dummy_hash.cache_clear()


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
        postgres_schema(settings, create=True)
    upgrade(settings)
    yield {"database_url": database_url, "redis_url": redis_url, "data_dir": data_dir, "schema": schema}
    if database_url:
        postgres_schema(settings, create=False)


@pytest.fixture(scope="session")
def base_settings(backend: dict[str, Any]) -> Settings:
    """Read and validated once per run (reading the environment costs ~30 ms, ~1 min over the suite)."""
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
def settings(base_settings: Settings) -> Settings:
    return base_settings.model_copy(deep=True)  # each test its own copy: a change never reaches the next test


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
async def app(settings: Settings, clock: OffsetClock) -> AsyncIterator[Any]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application
        await clean(application)


@pytest.fixture
def services(app: Any) -> Services:
    return app.state.runtime.services  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def api(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The test client, failing the test on any 5xx answer."""
    client.event_hooks["response"].append(fail_on_server_error)
    yield client


@pytest.fixture
def make_user(services: Services) -> UserFactory:
    return UserFactory(services)


@pytest.fixture
def live_server(settings: Settings, clock: OffsetClock) -> Iterator[LiveServer]:
    server = LiveServer(settings, clock)
    server.start()
    try:
        yield server
    finally:
        server.stop()  # first: its shutdown flushes pending audit records
        asyncio.run(clean_sync_copy(settings))


class _CompiledAcrossEngines(LRUCache):  # type: ignore[type-arg]
    """SQLAlchemy's compiled-statement cache shared by every engine of a test process, keyed by the dialect's class
    rather than its instance. Each test builds its own app and engine, so each started with an empty cache and
    compiled every statement again (about a seventh of an API test's CPU); a server process builds one engine and
    keeps its cache warm, as the tests now do."""

    @staticmethod
    def _key(key: Any) -> Any:
        return (type(key[0]), *key[1:])

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), value)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key))


_COMPILED = _CompiledAcrossEngines(1000)
_build_engine = engine_module.create_async_engine


def _engine_with_shared_cache(*args: Any, **kwargs: Any) -> Any:
    engine = _build_engine(*args, **kwargs)
    engine.sync_engine._compiled_cache = _COMPILED
    return engine


engine_module.create_async_engine = _engine_with_shared_cache
