"""Scale-out profile: several `cabinet serve` processes on one PostgreSQL + Redis behave as one service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cabinet.core.metering import ProcessType, Service
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.settings import Settings
from tests.conftest import TEST_SECRET, UserFactory, free_port

pytestmark = pytest.mark.skipif(
    not (os.environ.get("CABINET_TEST_DATABASE_URL") and os.environ.get("CABINET_TEST_REDIS_URL")),
    reason="the scale-out profile needs PostgreSQL + Redis (the embedded profile is one process by design)",
)


@pytest.fixture
def two_servers(settings: Settings, tmp_path: Path) -> Iterator[list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
    env.update(
        {
            "CABINET_DATABASE_URL": os.environ["CABINET_TEST_DATABASE_URL"],
            "CABINET_REDIS_URL": os.environ["CABINET_TEST_REDIS_URL"],
            "CABINET_REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "CABINET_DATABASE_SCHEMA": settings.database_schema or "",
            "CABINET_SECRET_KEY": TEST_SECRET,
            "CABINET_DATA_DIR": str(tmp_path),
            "CABINET_LOG_LEVEL": "WARNING",
        }
    )
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "cabinet", "serve", "--port", str(p)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        deadline = time.monotonic() + 60
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("servers did not start")
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


async def test_quota_is_exact_across_processes(two_servers: list[str], make_user: UserFactory, services) -> None:
    made = await make_user()
    user = await services.identity.get_account_by_id(made.id)
    await services.quotas.replace_for_user(
        user.id,
        user.company_id,
        [
            QuotaSpec(
                Service.ACCOUNT,
                ProcessType.NOTRACE,
                points_per_request=1,
                points_per_day=11,
                max_concurrent_execution=1000,
            )
        ],
    )
    async with httpx.AsyncClient(timeout=30) as client:
        token = (
            await client.post(
                f"{two_servers[0]}/account/token/generation",
                json={"username": made.username, "password": made.password},
            )
        ).json()
        headers = {"Authorization": f"Bearer {token}"}
        responses = await asyncio.gather(
            *(client.get(f"{two_servers[i % 2]}/account/info", headers=headers) for i in range(40))
        )
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 11, codes
    assert codes.count(402) == 29, codes
    answered_by = {r.request.url.port for r in responses}
    assert len(answered_by) == 2  # both processes took part in the race


async def test_a_password_change_on_one_process_kills_tokens_on_the_other(
    two_servers: list[str], make_user: UserFactory
) -> None:
    made = await make_user()
    async with httpx.AsyncClient(timeout=30) as client:
        old = (
            await client.post(
                f"{two_servers[0]}/account/token/generation",
                json={"username": made.username, "password": made.password},
            )
        ).json()
        changed = await client.post(
            f"{two_servers[0]}/account/password",
            headers={"Authorization": f"Bearer {old}"},
            json={"current_password": made.password, "new_password": "another_password_9"},
        )
        assert changed.status_code == 200
        stale = await client.get(f"{two_servers[1]}/account/info", headers={"Authorization": f"Bearer {old}"})
        assert stale.status_code == 401
        fresh = await client.get(
            f"{two_servers[1]}/account/info", headers={"Authorization": f"Bearer {changed.json()}"}
        )
        assert fresh.status_code == 200


async def test_login_throttling_is_shared(two_servers: list[str], make_user: UserFactory) -> None:
    made = await make_user()
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(10):  # the default: 10 failures per username
            r = await client.post(
                f"{two_servers[i % 2]}/account/token/generation",
                json={"username": made.username, "password": "wrong_password_x"},
            )
            assert r.status_code == 401
        blocked = await client.post(
            f"{two_servers[0]}/account/token/generation", json={"username": made.username, "password": made.password}
        )
        assert blocked.status_code == 429
