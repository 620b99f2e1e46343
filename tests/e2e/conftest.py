"""Shared by the scale-out tests: several `cabinet serve` processes on one PostgreSQL + Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cabinet.settings import Settings
from tests.helpers import TEST_SECRET, free_port, reap, spawn

SCALE_OUT = pytest.mark.skipif(
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
        spawn(
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
            reap(process)
