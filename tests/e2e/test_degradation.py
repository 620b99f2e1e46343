"""Degradation rules: a backing service that goes away is a clear 503 in each API's own format, never a 500;
what needs no limit keeps working; and the service recovers by itself when the backing service is back.

Redis here is a private ``redis-server`` on a free loopback port (never the machine's shared one), stopped and
started again under a running app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cabinet.core.metering import ProcessType, Service
from cabinet.core.roles import Role
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.domains.registry import Services
from cabinet.settings import Settings
from tests.e2e.private_services import REDIS_SERVER, PrivateRedis
from tests.helpers import RUN_ID, TEST_SECRET, UserFactory, bearer, login

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server program (Debian: redis-server)")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def settings(backend: dict[str, Any], private_redis: PrivateRedis) -> Settings:
    return Settings(
        data_dir=backend["data_dir"],
        database_url=backend["database_url"],
        redis_url=private_redis.url,
        database_schema=backend["schema"],
        redis_key_prefix=f"cabinet-test-{RUN_ID}",
        secret_key=TEST_SECRET,
        log_json=True,
        log_level="ERROR",
    )


async def test_redis_away_fails_closed_then_recovers_without_restart(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services, private_redis: PrivateRedis
) -> None:
    limited = await make_user("limited_user", roles=[Role.USER])
    free = await make_user("free_user", roles=[Role.USER])
    operator = await make_user("operator", roles=[Role.ADMIN])
    limited_token, free_token, operator_token = (
        await login(client, limited),
        await login(client, free),
        await login(client, operator),
    )
    company_id = (await services.identity.get_account_by_id(limited.id)).company_id
    await services.quotas.replace_for_user(
        limited.id,
        company_id,
        [
            QuotaSpec(
                Service.ACCOUNT,
                ProcessType.NOTRACE,
                points_per_request=10,
                points_per_day=1000,
                max_concurrent_execution=5,
            )
        ],
    )
    assert (await client.get("/account/info", headers=bearer(limited_token))).status_code == 200

    private_redis.stop()

    # a limited read cannot be checked: refused (fail closed), 503 in the Account API's format
    refused = await client.get("/account/info", headers=bearer(limited_token))
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["tracedata"]["operation"] == "read_info"
    assert "Redis" in body["message"]
    assert refused.headers["Retry-After"] == "1"
    # password logins are throttled on the same store: refused the same way, never a 500
    sign_in = await client.post(
        "/account/token/generation", json={"username": free.username, "password": free.password}
    )
    assert sign_in.status_code == 503, sign_in.text
    assert sign_in.json()["tracedata"]["operation"] == "run_token_generation"
    # reads that need no limit keep working, on both APIs
    assert (await client.get("/account/info", headers=bearer(free_token))).status_code == 200
    assert (await client.get("/admin/users/free_user", headers=bearer(operator_token))).status_code == 200
    not_ready = await client.get("/ready")
    assert not_ready.status_code == 503
    assert not_ready.json() == {"status": "unavailable", "database": True, "limits": False, "blobs": True}
    assert (await client.get("/health")).status_code == 200  # alive: the balancer must not kill it for this

    private_redis.start()  # same port, empty store

    deadline = time.monotonic() + 10
    while (await client.get("/account/info", headers=bearer(limited_token))).status_code != 200:
        assert time.monotonic() < deadline, "no recovery after Redis came back"
    sign_in = await client.post(
        "/account/token/generation", json={"username": free.username, "password": free.password}
    )
    assert sign_in.status_code == 200, sign_in.text
    assert (await client.get("/ready")).status_code == 200
