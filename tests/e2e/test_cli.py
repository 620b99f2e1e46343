"""The CLI as operators and scripts call it, on a private embedded profile.

``run_cli_process`` starts ``python -m cabinet`` as a script would (the console entry point, the environment,
exit codes); ``run_cli`` runs the same typer app in this process (no interpreter start-up per call) for the many
cases that check inputs, exit codes and messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cabinet import cli
from tests.apis.contractor.support import bearer, signin_body
from tests.helpers import free_port, reap, spawn


def run_cli_process(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
    environment.update({"CABINET_DATA_DIR": str(data_dir), "CABINET_LOG_LEVEL": "WARNING", **env})
    return subprocess.run(
        [sys.executable, "-m", "cabinet", *args], capture_output=True, text=True, env=environment, timeout=120
    )


def run_cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in this process, with only the given CABINET_* variables set; an unexpected exception is shown
    in stderr as its traceback, as the interpreter would print it."""
    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CABINET_")}
    environment.update({"CABINET_DATA_DIR": str(data_dir), "CABINET_LOG_LEVEL": "WARNING", **env})
    result = CliRunner().invoke(cli.app, list(args), env=environment)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["cabinet", *args], result.exit_code, result.stdout, stderr)


def test_migrate_then_create_users(tmp_path: Path) -> None:
    assert run_cli_process("migrate", data_dir=tmp_path).returncode == 0
    assert run_cli_process("migrate", data_dir=tmp_path).returncode == 0  # idempotent
    first = run_cli_process(
        "users",
        "create",
        "--username",
        "ops_one",
        "--password",
        "long_password_1",
        "--company",
        "ops_co",
        "--role",
        "ADMIN",
        data_dir=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    user_id = int(first.stdout.strip())
    second = run_cli_process(
        "users",
        "create",
        "--username",
        "ops_two",
        "--password",
        "long_password_1",
        "--company",
        "ops_co",
        "--role",
        "USER",
        "--role",
        "CREWMANAGER",
        data_dir=tmp_path,
    )
    assert second.returncode == 0, second.stderr
    assert int(second.stdout.strip()) > user_id


@pytest.mark.parametrize(
    "args",
    [
        ["--username", "x", "--password", "long_password_1", "--company", "ops_co", "--role", "USER"],
        ["--username", "ok_name", "--password", "short", "--company", "ops_co", "--role", "USER"],
        ["--username", "ok_name", "--password", "nine_char", "--company", "ops_co", "--role", "USER"],
        ["--username", "ok_name", "--password", "long_password_1", "--company", "no", "--role", "USER"],
        ["--username", "ok_name", "--password", "long_password_1", "--company", "ops_co", "--role", "KING"],
        ["--username", "ok_name", "--password", "long_password_1", "--company", "ops_co"],
        [
            "--username",
            "ok_name",
            "--password",
            "long_password_1",
            "--company",
            "ops_co",
            "--role",
            "USER",
            "--role",
            "BOT",
            "--role",
            "CREW",
        ],
    ],
)
def test_invalid_input_exits_2(tmp_path: Path, args: list[str]) -> None:
    run_cli("migrate", data_dir=tmp_path)
    result = run_cli("users", "create", *args, data_dir=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip()


def test_duplicate_exits_2(tmp_path: Path) -> None:
    run_cli("migrate", data_dir=tmp_path)
    args = [
        "users",
        "create",
        "--username",
        "dup_user",
        "--password",
        "long_password_1",
        "--company",
        "ops_co",
        "--role",
        "USER",
    ]
    assert run_cli(*args, data_dir=tmp_path).returncode == 0
    again = run_cli(*args, data_dir=tmp_path)
    assert again.returncode == 2
    assert "exists" in again.stderr


def test_postgres_profile_without_secret_refuses_to_start(tmp_path: Path) -> None:
    result = run_cli_process(
        "serve", data_dir=tmp_path, CABINET_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test"
    )
    assert result.returncode == 2
    assert "CABINET_SECRET_KEY" in result.stderr


def _wait(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not come up")


def _rpc(port: int, method: str, params: dict[str, object]) -> dict[str, object]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v2.0", data=json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
    assert "result" in answer, answer
    return answer


def test_demo_serves_and_prints_credentials(tmp_path: Path) -> None:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CABINET_")}
    environment.update({"CABINET_DATA_DIR": str(tmp_path), "CABINET_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    process = spawn(
        [sys.executable, "-m", "cabinet", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    printed = ""
    try:
        _wait(f"http://127.0.0.1:{port}/health", process)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/account/token/generation",
            data=json.dumps({"username": "demo_user", "password": "demo_user_password"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert isinstance(json.loads(response.read()), str)
        # the demo contractor signs in with the salted hash and finds its three calls
        body = signin_body("demo_contractor", "demo_contractor_password")
        tokens = httpx.post(f"http://127.0.0.1:{port}/user/signin", json=body, timeout=10).json()
        calls = httpx.get(f"http://127.0.0.1:{port}/call", headers=bearer(tokens["access"]["token"]), timeout=10)
        assert [c["critical"] for c in calls.json()] == [True, False, False]
        # the Data API works from loopback with the printed key, and for the agent acting in the demo company
        assert process.stdout is not None
        while "Data API key" not in printed:
            printed += process.stdout.readline()
        key = printed.rsplit(" ", 1)[1].strip()
        [account] = _rpc(port, "get.account", {"access_token": key})["result"]["data"]
        assert account["name"] == "demo_company" and account["login"] == "demo_owner"
        session = _rpc(port, "login.user", {"login": "demo_agent", "password": "demo_agent_password"})
        token = session["result"]["data"]["access_token"]
        [client] = _rpc(port, "get.account", {"access_token": token, "user_id": account["user_id"]})["result"]["data"]
        assert client["name"] == "demo_company"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        finally:
            reap(process)
    output = printed + output
    assert f"http://127.0.0.1:{port}" in output
    assert "demo_user" in output and "demo_user_password" in output
    assert "demo_contractor" in output and "/contractor/docs" in output
    # idempotent: a second start over the same data dir loads the demo again without failing
    again = run_cli("migrate", data_dir=tmp_path)
    assert again.returncode == 0


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    assert run_cli("migrate", data_dir=source).returncode == 0
    made = run_cli(
        "users", "create", "--username", "kept_user", "--password", "kept-password-1",
        "--company", "kept_co", "--role", "USER", data_dir=source,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = run_cli("backup", "--to", str(tmp_path / "b"), data_dir=source)
    assert done.returncode == 0, done.stderr
    assert "2 rows" in done.stdout  # one company, one user
    assert run_cli("backup", "--to", str(tmp_path / "b"), data_dir=source).returncode == 2  # not empty
    assert run_cli("migrate", data_dir=target).returncode == 0
    unconfirmed = run_cli("restore", "--from", str(tmp_path / "b"), data_dir=target)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    restored = run_cli("restore", "--from", str(tmp_path / "b"), "--yes", data_dir=target)
    assert restored.returncode == 0, restored.stderr
    again = run_cli(
        "users", "create", "--username", "kept_user", "--password", "kept-password-1",
        "--company", "kept_co", "--role", "USER", data_dir=target,
    )  # fmt: skip
    assert again.returncode == 2  # the restored user is there: a duplicate


def test_partners_link(tmp_path: Path) -> None:
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    for username, company in (("agent_a", "agency_co"), ("client_c", "client_co")):
        made = run_cli(
            "users",
            "create",
            "--username",
            username,
            "--password",
            "long_enough_pw",
            "--company",
            company,
            "--role",
            "PARTNER",
            data_dir=tmp_path,
        )
        assert made.returncode == 0, made.stderr
    linked = run_cli("partners", "link", "--agent", "agency_co", "--client", "client_co", data_dir=tmp_path)
    assert (linked.returncode, linked.stdout.strip()) == (0, "agency_co -> client_co")
    again = run_cli("partners", "link", "--agent", "agency_co", "--client", "client_co", data_dir=tmp_path)
    assert again.returncode == 0  # already linked: no change
    missing = run_cli("partners", "link", "--agent", "agency_co", "--client", "nowhere_co", data_dir=tmp_path)
    assert missing.returncode == 2 and "nowhere_co" in missing.stderr
