"""The production profile for benchmarks: nginx (the shipped `deploy/nginx/cabinet.conf`) in front of several
`cabinet serve` processes on a private PostgreSQL cluster and redis-server, the very stack the production e2e
tests start (``tests/e2e/private_services.py``: ``ProductionStack``), plus what the benchmarks measure on it:
CPU seconds and resident memory per component (cabinet processes, nginx, PostgreSQL, Redis)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from _load import ROOT, LoadProcess, Stream, WrkLoad, machine_cpu_ticks, process_cpu_seconds

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.private_services import PrivatePostgres, ProductionStack, children

from cabinet.core.storage import LocalBlobStore
from cabinet.settings import Settings

__all__ = ["PrivatePostgres", "ProductionStack"]

USERNAME = "bench_user"
PASSWORD = "bench-password-1234"
COMPANY = "bench_company"


def nginx_binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")


def unit_environment() -> dict[str, str]:
    """The variables ``deploy/systemd/cabinet@.service`` sets beside the settings (``MALLOC_ARENA_MAX``: the
    processes' memory over an hour depends on it), so a soak measures what a deployment runs."""
    unit = Path(__file__).resolve().parent.parent / "deploy" / "systemd" / "cabinet@.service"
    found: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            if not name.startswith("CABINET_"):
                found[name] = value
    return found


def start_stack(
    processes: int, sites: list[list[int]] | None = None, env: dict[str, str] | None = None
) -> ProductionStack:
    """A running stack (no access log: nginx's CPU is the proxy's, not the log's) with the bench user; the
    processes run on the production defaults (the e2e tests shrink the database pool) and the environment the
    shipped unit file gives them (``unit_environment``), plus ``env``."""
    defaults = {"CABINET_DB_POOL_SIZE": str(Settings.model_fields["db_pool_size"].default), **unit_environment()}
    stack = ProductionStack(
        nginx_binary(), processes=processes, sites=sites, access_log=False, extra_env={**defaults, **(env or {})}
    )
    stack.__enter__()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cabinet", "users", "create", "--username", USERNAME, "--password", PASSWORD]
            + ["--company", COMPANY, "--role", "USER"],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cabinet users create failed: {done.stderr.strip()}")
    except BaseException:
        stack.stop()
        raise
    return stack


def more_users(stack: ProductionStack, count: int) -> list[str]:
    """``count`` more users of the bench company (``cabinet users create``, run side by side); their names."""
    names = [f"{USERNAME}_{n}" for n in range(1, count + 1)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "cabinet", "users", "create", "--username", name, "--password", PASSWORD]
            + ["--company", COMPANY, "--role", "USER"],
            env=stack.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    for run in runs:
        _, errors = run.communicate(timeout=120)
        if run.returncode != 0:
            raise RuntimeError(f"cabinet users create failed: {errors.strip()}")
    return names


def bearer_token(base: str, username: str = USERNAME) -> dict[str, str]:
    request = urllib.request.Request(
        f"{base}/account/token/generation",
        data=json.dumps({"username": username, "password": PASSWORD, "ttl_seconds": 86_400}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        token = json.loads(answer.read())
    if not isinstance(token, str) or token.count(".") != 2:
        raise RuntimeError(f"token generation did not answer a JWT: {token!r}")
    return {"Authorization": f"Bearer {token}"}


def payload_file_cpu_us(data_dir: Path, count: int = 400) -> float:
    """CPU microseconds the blob store spends storing one small payload file in ``data_dir`` (the stack's blob
    directory), as a write's two payloads are stored. On ext4 without a journal (this VM's root file system)
    the kernel skips inodes deleted in the last 60-300 s when it allocates one, so after many deletions (a
    test run, a retention sweep) each new file can cost ten times its usual CPU. The files stay (deleting them
    would itself slow the next allocations)."""
    store = LocalBlobStore(data_dir / "bench-file-probe")
    body = b"x" * 200
    started = time.process_time()
    for n in range(count):
        store._put_sync(f"{n % 16:02x}/{n}.gz", body)
    return (time.process_time() - started) / count * 1e6


def component_pids(stack: ProductionStack) -> dict[str, list[int]]:
    """Process ids per component, looked up now (PostgreSQL backends come and go with the pools)."""
    assert stack.nginx is not None and stack.postgres is not None
    pids = {f"cabinet:{c.port}": [c.pid] for c in stack.cabinets}
    pids["nginx"] = stack.nginx.pids()
    pids["postgres"] = stack.postgres.pids()
    redis_pid = stack.redis.pid()
    pids["redis"] = [redis_pid, *children(redis_pid)] if redis_pid else []
    return pids


def cpu_seconds(pids: dict[str, list[int]], postmaster: int | None = None) -> dict[str, dict[int, float]]:
    """CPU seconds of each process, per component (0 for one that has exited); the PostgreSQL postmaster counts
    its reaped backends too (connections opened and closed during a phase)."""
    return {
        name: {p: process_cpu_seconds(p, reaped_children=p == postmaster) for p in group}
        for name, group in pids.items()
    }


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds per component between two samples. A process that exited meanwhile counts nothing itself;
    a PostgreSQL backend's whole life reappears in the postmaster's reaped-children time, so its CPU before the
    window is taken back."""
    used = {}
    for name, group in before.items():
        total = 0.0
        for pid, start in group.items():
            if after[name][pid] > 0:
                total += max(0.0, after[name][pid] - start)
            elif name == "postgres":
                total -= start
        used[name] = max(0.0, total)
    return used


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 where /proc is missing)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_phase(
    loader: LoadProcess | WrkLoad,
    stack: ProductionStack,
    port: int,
    streams: list[Stream],
    *,
    seconds: float,
    warmup: float,
) -> dict[str, Any]:
    """One measured phase through nginx on ``port``; adds each component's CPU (% of one core over the
    measured window), the machine's busy cores, and what none of ours used (other jobs on the machine)."""
    loader.submit(port, streams, seconds=seconds, warmup=warmup)
    began = loader.window_start(time.perf_counter() + warmup)
    pids = component_pids(stack)
    postmaster = pids["postgres"][0] if pids["postgres"] else None
    before, (busy0, total0) = cpu_seconds(pids, postmaster), machine_cpu_ticks()
    time.sleep(max(0.0, began + seconds - time.perf_counter()))
    after, (busy1, total1) = cpu_seconds(pids, postmaster), machine_cpu_ticks()
    result = loader.collect()
    cpu = {name: 100 * used / seconds for name, used in cpu_used(before, after).items()}
    cpu["cabinet"] = sum(v for k, v in cpu.items() if k.startswith("cabinet:"))
    cpu["loader"] = result["loader_cpu_pct"]
    cores = os.cpu_count() or 1
    busy = (busy1 - busy0) / (total1 - total0) * cores if total1 > total0 else 0.0
    ours = cpu["cabinet"] + cpu["nginx"] + cpu["postgres"] + cpu["redis"] + cpu["loader"]
    cpu["other"] = max(0.0, 100 * busy - ours)
    result["cpu_pct"] = cpu
    result["machine_busy_cores"] = busy
    return result
