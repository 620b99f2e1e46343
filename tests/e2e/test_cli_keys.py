"""The keys and networks commands as operators and scripts call them, in subprocesses, on a private embedded
profile; the results are checked through the credentials service over the same data directory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from cabinet.domains.credentials.errors import ApiKeyBlocked
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR
from cabinet.domains.credentials.service import CredentialService
from cabinet.domains.registry import build_services
from cabinet.resources import build_resources
from cabinet.settings import Settings
from tests.e2e.test_cli import run_cli

T = TypeVar("T")


def with_credentials(data_dir: Path, work: Callable[[CredentialService], Awaitable[T]]) -> T:
    async def run() -> T:
        settings = Settings(data_dir=data_dir, database_url=None, redis_url=None, database_schema=None)
        resources = build_resources(settings)
        try:
            return await work(build_services(resources).credentials)
        finally:
            await resources.close()

    return asyncio.run(run())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    made = run_cli(
        "users", "create", "--username", "erp_bot", "--password", "long_password_1", "--company", "erp_co",
        "--role", "BOT", data_dir=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return tmp_path


def test_create_prints_the_key_last_and_it_works_until_blocked(data_dir: Path) -> None:
    created = run_cli("keys", "create", "--username", "erp_bot", data_dir=data_dir)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    key = lines[-1].split()[-1]
    prefix, secret = key[:20], key[21:]
    assert "key_id" in created.stdout and "never" in created.stdout
    key_id = int(created.stdout.split("key_id", 1)[1].split()[0])

    principal = with_credentials(data_dir, lambda c: c.authenticate_key(key))
    assert principal.username == "erp_bot" and principal.company_key == "erp_co"
    assert principal.credential_id == str(key_id)
    database = b"".join(p.read_bytes() for p in data_dir.glob("cabinet.sqlite3*"))
    assert database and prefix.encode() in database and secret.encode() not in database

    blocked = run_cli("keys", "block", "--key-id", str(key_id), data_dir=data_dir)
    assert blocked.returncode == 0, blocked.stderr
    assert "blocked" in blocked.stdout

    async def refused(credentials: CredentialService) -> None:
        with pytest.raises(ApiKeyBlocked):
            await credentials.authenticate_key(key)

    with_credentials(data_dir, refused)


def test_create_with_expiry(data_dir: Path) -> None:
    created = run_cli("keys", "create", "--username", "erp_bot", "--expires", "2099-01-31T12:00:00Z", data_dir=data_dir)
    assert created.returncode == 0, created.stderr
    assert "2099-01-31T12:00:00+00:00" in created.stdout
    key = created.stdout.strip().splitlines()[-1].split()[-1]
    assert with_credentials(data_dir, lambda c: c.authenticate_key(key)).username == "erp_bot"
    second = run_cli("keys", "create", "--username", "erp_bot", data_dir=data_dir)
    assert second.stdout.strip().splitlines()[-1].split()[-1] != key


def test_invalid_input_exits_2(data_dir: Path) -> None:
    cases: list[tuple[list[str], str]] = [
        (["keys", "create", "--username", "nobody_here"], "nobody_here"),
        (["keys", "create", "--username", "erp_bot", "--expires", "next tuesday"], "--expires"),
        (["keys", "create", "--username", "erp_bot", "--expires", "2001-01-01T00:00:00Z"], "future"),
        (["keys", "create"], "username"),
        (["keys", "block", "--key-id", "424242"], "424242"),
        (["keys", "block", "--key-id", "abc"], "key-id"),
        (["networks", "allow", "--company", "erp_co", "--cidr", "garbage"], "garbage"),
        (["networks", "allow", "--company", "erp_co", "--cidr", "10.0.0.0/33"], "10.0.0.0/33"),
        (["networks", "allow", "--company", "no_such_co", "--cidr", "10.0.0.0/8"], "no_such_co"),
        (["networks", "deny", "--company", "erp_co", "--cidr", "nope"], "nope"),
        (["networks", "deny", "--company", "no_such_co", "--cidr", "10.0.0.0/8"], "no_such_co"),
    ]
    for args, hint in cases:
        result = run_cli(*args, data_dir=data_dir)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert hint in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert with_credentials(data_dir, lambda c: c.list_keys(PLATFORM_OPERATOR, "erp_bot")) == []


def test_networks_allow_and_deny(data_dir: Path) -> None:
    allowed = run_cli("networks", "allow", "--company", "erp_co", "--cidr", "10.1.2.3/8", data_dir=data_dir)
    assert allowed.returncode == 0, allowed.stderr
    assert "10.0.0.0/8" in allowed.stdout
    again = run_cli("networks", "allow", "--company", "erp_co", "--cidr", "10.0.0.0/8", data_dir=data_dir)
    assert again.returncode == 0
    v6 = run_cli("networks", "allow", "--company", "erp_co", "--cidr", "2001:DB8::/32", data_dir=data_dir)
    assert v6.returncode == 0 and "2001:db8::/32" in v6.stdout

    networks = with_credentials(data_dir, lambda c: c.list_networks(PLATFORM_OPERATOR, "erp_co"))
    assert networks == ["10.0.0.0/8", "2001:db8::/32"]

    denied = run_cli("networks", "deny", "--company", "erp_co", "--cidr", "10.0.0.0/8", data_dir=data_dir)
    assert denied.returncode == 0, denied.stderr
    assert "10.0.0.0/8" not in denied.stdout and "2001:db8::/32" in denied.stdout
    absent = run_cli("networks", "deny", "--company", "erp_co", "--cidr", "10.0.0.0/8", data_dir=data_dir)
    assert absent.returncode == 0
    last = run_cli("networks", "deny", "--company", "erp_co", "--cidr", "2001:db8::/32", data_dir=data_dir)
    assert last.returncode == 0 and "no network" in last.stdout
