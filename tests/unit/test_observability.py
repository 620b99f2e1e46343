"""Metrics of several worker processes add up (prometheus-client multiprocess mode, as `serve --workers N`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cabinet.core.observability import MULTIPROC_ENV, exposition

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
