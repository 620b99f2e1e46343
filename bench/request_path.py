"""The authenticated request path vs the framework's own cost: ``./dev bench bench/request_path.py [--pg]``.

In one run, starts two servers, each one uvicorn process pinned to the same core (``taskset``), and loads each
in turn with wrk (pinned to another core, loopback, ``--connections`` keep-alive connections, ``--seconds``
measured after a ``--warmup`` run), ``--rounds`` times in alternation:

* a bare FastAPI app (``bench/_bare_app.py``): ``GET /json`` (the baseline) and ``GET /jwt`` (HTTPBearer + PyJWT,
  what auth alone costs);
* cabinet (``cabinet serve --workers 1``; the embedded profile, or with ``--pg`` PostgreSQL + Redis from
  ``CABINET_BENCH_DATABASE_URL`` / ``CABINET_BENCH_REDIS_URL``, a fresh schema and key prefix of its own):
  ``GET /health``, ``GET /account/info`` (an access token) and the contractor ``GET /call/{id}`` (an ERP's API key).

Prints each phase's median req/s over the rounds and its ratio to bare ``GET /json`` measured in the same run (the
machine may be shared: the ratio is the figure, the load average is printed beside it; so is the ratio of requests
per CPU-second of the server process, which a core shared with other jobs skews less), and writes every figure
with the commit to ``bench/results/request-path[-pg]-<timestamp>.json``. Issue 21's targets: info >= 0.25x
(embedded), >= 0.2x (PostgreSQL + Redis); ``GET /call/{id}`` >= 0.12x. Exit status 0 when every target is met,
1 when one is not or a request failed, 2 when the run itself failed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt

from _backend import backend_env, postgres_schema
from _load import (
    HOST,
    ROOT,
    Server,
    Stream,
    WrkLoad,
    free_port,
    http_request,
    machine,
    process_cpu_seconds,
    run_script,
    save_report,
    source_revision,
    wrk_binary,
)

USERNAME, ERP, CONTRACTOR = "bench_user", "bench_erp", "bench_contractor"
PASSWORD = "bench-password-1234"
COMPANY = "bench_company"
TARGETS = {("info", False): 0.25, ("info", True): 0.20, ("call", False): 0.12, ("call", True): 0.12}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pg", action="store_true", help="cabinet on PostgreSQL + Redis instead of embedded SQLite")
    parser.add_argument("--seconds", type=int, default=5, help="measured seconds per phase (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="wrk warm-up seconds before each phase (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of every phase (default 2)")
    cores = os.cpu_count() or 1
    parser.add_argument("--server-cpu", type=int, default=cores - 1, help="core both servers are pinned to")
    parser.add_argument("--wrk-cpu", type=int, default=0, help="core wrk is pinned to (default 0)")
    parser.add_argument("--profile", help="run py-spy (this path to its binary) on cabinet during its phases")
    parser.add_argument(
        "--only", help="comma-separated phases besides bare_json (bare_jwt, health, info, call; default all)"
    )
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.warmup < 0 or args.connections < 1 or args.rounds < 1:
        parser.error("--seconds >= 1, --warmup >= 0, --connections >= 1, --rounds >= 1")
    return args


def pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) > 1 else []


class BareServer:
    """``bench/_bare_app.py`` under uvicorn (the same uvicorn, loop and HTTP parser as ``cabinet serve``)."""

    def __init__(self, prefix: list[str], secret: str) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "_bare_app:app"]
        command += ["--host", HOST, "--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        env = {**os.environ, "BARE_JWT_SECRET": secret}
        self.proc = subprocess.Popen([*prefix, *command], env=env, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bare app exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/json", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the bare app did not answer within 30 s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def call_body(owner_id: int) -> dict[str, Any]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.apis.contractor.support import call_body as body

    return body(owner_id)


def prepare(server: Server) -> tuple[dict[str, str], dict[str, str], int]:
    """The bench users, the ERP's key and one call: (user auth, ERP auth, call id)."""
    server.cli("migrate")
    for username, role in ((USERNAME, "USER"), (ERP, "BOT")):
        server.cli(
            "users", "create", "--username", username, "--password", PASSWORD, "--company", COMPANY, "--role", role
        )
    erp = {"Authorization": f"Bearer {server.cli('keys', 'create', '--username', ERP).split()[-1]}"}
    server.start()
    token = server.post_json(
        "/account/token/generation", {"username": USERNAME, "password": PASSWORD, "ttl_seconds": 86_400}
    )
    user = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base, timeout=30) as client:
        registered = client.post("/user/register", json={"userName": CONTRACTOR, "password": PASSWORD}, headers=erp)
        registered.raise_for_status()
        call = client.post("/call", json=call_body(registered.json()["id"]), headers=erp)
        call.raise_for_status()
        call_id = int(call.json()["id"])
        for path, auth in (("/account/info", user), (f"/call/{call_id}", erp)):
            answer = client.get(path, headers=auth)
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.text[:200]}")
    return user, erp, call_id


def measure(loader: WrkLoad, pid: int, port: int, stream: Stream, args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    loader.submit(port, [stream], seconds=args.seconds, warmup=args.warmup)
    loader.window_start(began + args.warmup)
    cpu0 = process_cpu_seconds(pid)
    result = loader.collect()
    cpu1 = process_cpu_seconds(pid)
    figures = result["streams"][stream.name]
    return {
        "rps": figures["rps"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "errors": figures["errors"],
        "first_error": figures["first_error"],
        "server_cpu_pct": 100 * (cpu1 - cpu0) / args.seconds,
        "loader_cpu_pct": result["loader_cpu_pct"],
        "loadavg_1m": load_before,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    binary = wrk_binary()
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    started = datetime.now(UTC)
    info = machine()
    profile = "PostgreSQL + Redis" if args.pg else "embedded SQLite"
    print(
        f"request path vs bare FastAPI: cabinet on {profile}; servers pinned to core {args.server_cpu}, wrk to core "
        f"{args.wrk_cpu}; {args.connections} connections, {args.seconds} s per phase after {args.warmup} s, "
        f"{args.rounds} rounds; {info['cpu_count']} CPUs, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    secret = secrets.token_urlsafe(32)
    jwt_token = jwt.encode({"sub": USERNAME, "exp": int(time.time()) + 86_400}, secret, algorithm="HS256")
    env, schema = backend_env(args.pg, tag="bench_rp")
    samples: dict[str, list[dict[str, Any]]] = {}
    spy: subprocess.Popen[bytes] | None = None
    try:
        with Server(env=env, prefix=pin(args.server_cpu)) as server, WrkLoad(binary, prefix=pin(args.wrk_cpu)) as wrk:
            bare = BareServer(pin(args.server_cpu), secret)
            try:
                user, erp, call_id = prepare(server)
                cabinet, bp, cp = server.pid, bare.port, server.port
                plan = [
                    ("bare_json", bare.pid, bp, "GET /json (bare FastAPI)", http_request("GET", "/json", port=bp)),
                    (
                        "bare_jwt",
                        bare.pid,
                        bp,
                        "GET /jwt (bare FastAPI + PyJWT)",
                        http_request("GET", "/jwt", headers={"Authorization": f"Bearer {jwt_token}"}, port=bp),
                    ),
                    ("health", cabinet, cp, "GET /health (cabinet)", http_request("GET", "/health", port=cp)),
                    (
                        "info",
                        cabinet,
                        cp,
                        "GET /account/info (token)",
                        http_request("GET", "/account/info", headers=user, port=cp),
                    ),
                    (
                        "call",
                        cabinet,
                        cp,
                        "GET /call/{id} (ERP key)",
                        http_request("GET", f"/call/{call_id}", headers=erp, port=cp),
                    ),
                ]
                if args.only:
                    wanted = {"bare_json", *args.only.split(",")}
                    plan = [step for step in plan if step[0] in wanted]
                if args.profile:
                    out = Path(f"/tmp/request-path-{'pg' if args.pg else 'sqlite'}-{os.getpid()}.txt")
                    spy = subprocess.Popen(
                        [args.profile, "record", "--nonblocking", "--format", "raw", "--rate", "100", "-o", str(out)]
                        + ["--pid", str(cabinet)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    print(f"py-spy on cabinet (pid {cabinet}) to {out}", flush=True)
                for round_no in range(1, args.rounds + 1):
                    for key, pid, port, title, request in plan:
                        figures = measure(wrk, pid, port, Stream(key, request, args.connections), args)
                        samples.setdefault(key, []).append(figures)
                        print(
                            f"  round {round_no} {title:<34} {figures['rps']:>8.0f} req/s  server CPU "
                            f"{figures['server_cpu_pct']:>3.0f}%  load {figures['loadavg_1m']:.2f}",
                            flush=True,
                        )
            finally:
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait(30)
                bare.stop()
    finally:
        if schema is not None:
            postgres_schema(env["CABINET_DATABASE_URL"], schema, create=False)

    report = summarize(samples, args, info, started)
    name = "request-path-pg" if args.pg else "request-path"
    path = save_report(name, started, report)
    print(f"\nfigures written to {path}")
    return 0 if report["verdict"] == "PASS" else 1


def summarize(
    samples: dict[str, list[dict[str, Any]]], args: argparse.Namespace, info: dict[str, Any], started: datetime
) -> dict[str, Any]:
    phases = {}
    for key, runs in samples.items():
        phases[key] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "server_cpu_pct": statistics.median(r["server_cpu_pct"] for r in runs),
            # requests per CPU-second of the server: what a busy shared core does not skew
            "per_cpu_s": statistics.median(
                r["rps"] / (r["server_cpu_pct"] / 100) if r["server_cpu_pct"] else 0.0 for r in runs
            ),
            "errors": sum(r["errors"] for r in runs),
            "runs": runs,
        }
    base, base_cpu = phases["bare_json"]["rps"], phases["bare_json"]["per_cpu_s"]
    for phase in phases.values():
        phase["vs_bare"] = phase["rps"] / base if base else 0.0
        phase["per_cpu_vs_bare"] = phase["per_cpu_s"] / base_cpu if base_cpu else 0.0
    checks = []
    for key in ("info", "call"):
        if key not in phases:
            continue
        target = TARGETS[(key, args.pg)]
        value = phases[key]["vs_bare"]
        checks.append(
            {
                "phase": key,
                "ratio": value,
                "per_cpu_ratio": phases[key]["per_cpu_vs_bare"],
                "target": target,
                "result": "PASS" if value >= target else "FAIL",
            }
        )
    errors = sum(phase["errors"] for phase in phases.values())
    loads = [r["loadavg_1m"] for runs in samples.values() for r in runs]
    print(
        f"\n{'phase':<36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'server CPU':>12}{'vs bare':>9}"
        f"{'req/CPU-s':>11}{'vs bare':>9}{'errors':>8}"
    )
    titles = {
        "bare_json": "GET /json (bare FastAPI)",
        "bare_jwt": "GET /jwt (bare FastAPI + PyJWT)",
        "health": "GET /health (cabinet)",
        "info": "GET /account/info (token)",
        "call": "GET /call/{id} (ERP key)",
    }
    for key, phase in phases.items():
        print(
            f"{titles[key]:<36}{phase['rps']:>9.0f}{phase['p50_ms']:>9.2f}{phase['p99_ms']:>9.2f}"
            f"{phase['server_cpu_pct']:>11.0f}%{phase['vs_bare']:>9.3f}{phase['per_cpu_s']:>11.0f}"
            f"{phase['per_cpu_vs_bare']:>9.3f}{phase['errors']:>8}"
        )
    print(f"\nload average (1 min) during the phases: {min(loads):.2f}-{max(loads):.2f}; {source_revision()}")
    for check in checks:
        print(
            f"  {check['phase']:<6} {check['ratio']:.3f}x bare ({check['per_cpu_ratio']:.3f}x per CPU-second)   "
            f"target >= {check['target']:.2f}x   {check['result']}"
        )
    if errors:
        print(f"\nTHIS RUN HAD ERRORS: {errors} requests failed")
    verdict = "PASS" if errors == 0 and all(c["result"] == "PASS" for c in checks) else "FAIL"
    print(f"\noverall: {verdict}")
    return {
        "benchmark": "request-path",
        "started_at": started.isoformat(timespec="seconds"),
        "config": {**vars(args), **source_revision(), "backend": "postgresql+redis" if args.pg else "sqlite"},
        "machine": {**info, "loadavg_after": list(os.getloadavg()), "loadavg_during_phases": [min(loads), max(loads)]},
        "phases": phases,
        "checks": checks,
        "errors": errors,
        "verdict": verdict,
    }


if __name__ == "__main__":
    run_script(main)
