"""No secret reaches a log line in full: a real uvicorn process with its access log on, its output read back after
requests that carry a field-link token in the path and in ``?token=``, and bearer values."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from cabinet.core.redaction import fingerprint
from tests.e2e.test_cli import _wait, run_cli
from tests.e2e.test_serve_workers import call
from tests.helpers import free_port, reap, spawn

LINK = "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJmaWVsZF9saW5rIiwic3ViIjoiMSJ9.bm90X2Ffc2lnbmF0dXJlX2F0X2FsbA"
OPAQUE = "opaque_field_token_0123456789"
BEARER = "Kx7Hq2.secret_value_of_an_api_key_0123456789"


def test_tokens_are_fingerprinted_in_the_access_log_and_the_app_log(tmp_path: Path) -> None:
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
    environment.update({"CABINET_DATA_DIR": str(tmp_path), "CABINET_LOG_LEVEL": "INFO"})
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = spawn(
            [sys.executable, "-m", "uvicorn", "cabinet.asgi:create_from_env", "--factory", "--port", str(port),
             "--access-log", "--log-level", "info"],
            env=environment, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/health", process)
            assert call(f"{base}/ui/link/{LINK}/tasks/1/attachments/2/thumb")[0] == 404
            assert call(f"{base}/ui/link/{OPAQUE}")[0] == 404
            assert call(f"{base}/shared/call?token={LINK}")[0] == 404
            assert call(f"{base}/account/info", headers={"Authorization": f"Bearer {BEARER}"})[0] == 401
            assert call(f"{base}/account/info?access_token={OPAQUE}")[0] == 401
            with urllib.request.urlopen(f"{base}/health", timeout=5) as response:  # the last line is written
                assert response.status == 200
        finally:
            reap(process)
    text = log_path.read_text()
    for secret in (LINK, OPAQUE, BEARER):
        assert secret not in text, secret
    assert f"/ui/link/{fingerprint(LINK)}/tasks/1/attachments/2/thumb" in text  # uvicorn's access log
    assert f'"path": "/ui/link/{fingerprint(OPAQUE)}"' in text  # the app's request log
    assert f"/shared/call?token={fingerprint(LINK)}" in text
