"""The limits store on a real redis-server (a private one on a free port): a restart of Redis costs no request
(stale pooled connections reconnect), while a Redis that is away fails at once (fail closed, never a hang)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from limits.errors import StorageError

from cabinet.core.limits import build_limit_storage
from tests.e2e.private_services import PrivateRedis
from tests.system_packages import require_redis_server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    require_redis_server()
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_a_redis_restart_costs_no_request(redis_server: PrivateRedis) -> None:
    storage = build_limit_storage(redis_server.url, key_prefix="restart")
    keys = [f"slot:{n}" for n in range(8)]
    assert await asyncio.gather(*(storage.incr(k, 60) for k in keys)) == [1] * 8  # 8 pooled connections

    redis_server.stop()
    began = time.monotonic()
    with pytest.raises(StorageError):
        await storage.incr(keys[0], 60)
    assert time.monotonic() - began < 2  # away: refused at once, not retried for seconds

    redis_server.start()  # same port, empty store; every pooled connection is now stale
    results = await asyncio.gather(*(storage.incr(k, 60) for k in keys), return_exceptions=True)
    assert results == [1] * 8, results
