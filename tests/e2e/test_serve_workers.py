"""`cabinet serve --workers N` as an operator runs it: shared limits store required, metrics summed over the
workers, client addresses taken from a trusted reverse proxy's X-Forwarded-For."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.private_services import REDIS_SERVER, PrivateRedis
from tests.e2e.test_cli import _wait, run_cli, run_cli_process
from tests.e2e.test_operability import sample
from tests.helpers import free_port, reap, spawn

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server program (Debian: redis-server)")


def call(url: str, *, body: object = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def read_info_count(text: str) -> float:
    return sample(text, "cabinet_http_requests_total", api="account", operation="read_info", status="200")


def test_several_workers_need_a_shared_limits_store(tmp_path: Path) -> None:
    result = run_cli_process("serve", "--workers", "2", data_dir=tmp_path)
    assert result.returncode == 2
    assert "CABINET_REDIS_URL" in result.stderr


def test_workers_share_metrics_and_believe_only_the_configured_proxy(tmp_path: Path) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    port = free_port()
    env = {"CABINET_REDIS_URL": redis.url, "CABINET_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    try:
        assert run_cli("migrate", data_dir=tmp_path, **env).returncode == 0
        created = run_cli(
            "users", "create", "--username", "worker_user", "--password", "worker-password-1",
            "--company", "workers_co", "--role", "USER", data_dir=tmp_path, **env,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
        environment.update({"CABINET_DATA_DIR": str(tmp_path), "CABINET_LOG_LEVEL": "INFO", **env})
        process = spawn(
            [sys.executable, "-m", "cabinet", "serve", "--workers", "2", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(f"{base}/ready", process)
            status, token = call(
                f"{base}/account/token/generation",
                body={"username": "worker_user", "password": "worker-password-1"},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
            assert status == 200
            auth = {"Authorization": f"Bearer {json.loads(token)}"}
            with ThreadPoolExecutor(10) as pool:  # concurrent new connections, accepted by either worker
                answers = list(pool.map(lambda _: call(f"{base}/account/info", headers=auth)[0], range(30)))
            assert answers == [200] * 30
            # a request is counted just after its last byte left: give the last few a moment to be counted
            deadline = time.monotonic() + 10
            while read_info_count(call(f"{base}/metrics")[1].decode()) < 30 and time.monotonic() < deadline:
                time.sleep(0.05)
            scrapes = [call(f"{base}/metrics")[1].decode() for _ in range(6)]
            counts = {read_info_count(text) for text in scrapes}
            assert counts == {30.0}, counts  # whichever worker answers the scrape, it sums every worker's
        finally:
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=30)
            finally:
                reap(process)
        requests = [record for record in _json_records(output) if record.get("event") == "request"]
        sign_in = [r for r in requests if r.get("path") == "/account/token/generation"]
        assert sign_in and sign_in[0]["client_ip"] == "203.0.113.7", sign_in
        assert {r["client_ip"] for r in requests if r.get("path") == "/account/info"} == {"127.0.0.1"}
    finally:
        redis.stop()


def _json_records(output: str) -> list[dict]:
    """Every JSON object in the workers' shared stdout. KNOWN ISSUE (closing note): two workers' lines were once
    found joined on one line in CI, so the objects are read one after another, not a line each."""
    decoder, records = json.JSONDecoder(), []
    for line in output.splitlines():
        at = line.find("{")
        while at != -1:
            try:
                record, end = decoder.raw_decode(line, at)
            except json.JSONDecodeError:
                break
            if isinstance(record, dict):
                records.append(record)
            at = line.find("{", end)
    return records
