"""Metrics of several worker processes add up (prometheus-client multiprocess mode, as `serve --workers N`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from cabinet.core.observability import MULTIPROC_ENV, exposition, install_memory_snapshots

WORKER = """
from cabinet.core.observability import LOGIN_FAILURES, observe_request
for _ in range({n}):
    observe_request("account", "read_info", 200, 0.01)
LOGIN_FAILURES.labels("invalid_credentials").inc({n})
"""


def test_exposition_sums_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, MULTIPROC_ENV: str(tmp_path)}
    for n in (3, 4):  # two worker processes, each with its own file
        subprocess.run([sys.executable, "-c", WORKER.format(n=n)], env=env, check=True, timeout=60)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    text = exposition()[0].decode()
    assert 'cabinet_http_requests_total{api="account",operation="read_info",status="200"} 7.0' in text
    assert 'cabinet_login_failures_total{reason="invalid_credentials"} 7.0' in text
    assert 'cabinet_http_request_duration_seconds_count{api="account",operation="read_info"} 7.0' in text


async def test_memory_snapshots_on_sigusr2_only_while_tracing(tmp_path: Path) -> None:
    assert not tracemalloc.is_tracing()
    assert not install_memory_snapshots(tmp_path)  # off unless Python traces allocations (PYTHONTRACEMALLOC)
    tracemalloc.start(1)
    loop = asyncio.get_running_loop()
    try:
        assert install_memory_snapshots(tmp_path)
        os.kill(os.getpid(), signal.SIGUSR2)
        for _ in range(100):
            written = list((tmp_path / "tracemalloc").glob(f"{os.getpid()}-*.snapshot"))
            if written:
                break
            await asyncio.sleep(0.02)
        assert len(written) == 1
        assert tracemalloc.Snapshot.load(str(written[0])).traces  # a real snapshot
    finally:
        loop.remove_signal_handler(signal.SIGUSR2)
        tracemalloc.stop()
