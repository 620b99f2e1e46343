"""Tests that need a Debian package (nginx, chromium, postgresql, redis-server) beside Python.

On a fresh machine with only Python and pip, `./dev test` skips them and says which package is missing;
`.ci/run` installs the packages and sets CABINET_REQUIRE_SYSTEM_PACKAGES=1, so there a missing package fails
the run instead of hiding a feature behind a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
CHROMIUM = "/usr/bin/chromium"


def _missing(package: str) -> None:
    message = f"Debian package {package!r} is not installed (apt-get install -y {package}; .ci/run installs it)"
    if os.environ.get("CABINET_REQUIRE_SYSTEM_PACKAGES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_nginx() -> str:
    """The nginx binary, or skip/fail the calling test."""
    for candidate in NGINX_CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("nginx")
    if found:
        return found
    _missing("nginx-light")
    raise AssertionError("unreachable")


def require_postgresql() -> str:
    """The directory of PostgreSQL's server programs (initdb, pg_ctl), or skip/fail the calling test."""
    from tests.e2e.private_services import postgres_bindir

    found = postgres_bindir()
    if found is None:
        _missing("postgresql")
        raise AssertionError("unreachable")
    return str(found)


def require_redis_server() -> str:
    """The redis-server binary, or skip/fail the calling test."""
    found = shutil.which("redis-server")
    if found is None:
        _missing("redis-server")
        raise AssertionError("unreachable")
    return found


def require_chromium() -> str:
    """The Chromium binary (Debian's package, driven by playwright), or skip/fail the calling test."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    _missing("chromium")
    raise AssertionError("unreachable")
