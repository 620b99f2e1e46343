"""Account API benchmark against the real server: ``./dev bench bench/account.py [--seconds 5]``.

Starts ``cabinet serve`` (1 worker, fresh embedded SQLite data dir, log level WARNING) on a free loopback port,
creates a user, and drives it from a separate load-generator process (raw-socket asyncio HTTP/1.1 keep-alive
client, see ``_load.py``). Phases, each ``--seconds`` long after ``--warmup``:

1. ``GET /health``                       the baseline
2. ``GET /account/info`` (Bearer token)  target: at least 1/3 of /health's requests/s
3. ``POST /account/token/validation``
4. ``POST /account/token/generation``    password logins alone (argon2id, thread pool with a cap)
5. login storm: 4 and 2 together          target: info keeps at least 70 % of its quiet requests/s

The machine may be shared: before each phase the run waits (``--quiet-wait``) for other jobs to go idle, and a
phase during which other processes used over 15 % of a core is repeated (``--retries``), keeping the cleanest.

Prints a table (requests/s, p50, p99, ratio to /health, CPU of server and loader) with PASS/FAIL per target,
and writes every figure to ``bench/results/account-<timestamp>.json``. Exit status: 0 all pass, 1 a target
failed or a request did not answer 200, 2 the run itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _load import (
    LoadProcess,
    Server,
    Stream,
    http_request,
    machine,
    machine_cpu_ticks,
    run_script,
    source_revision,
    wait_for_quiet,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
USERNAME = "bench_user"
PASSWORD = "bench-password-1234"
COMPANY = "bench_company"

INFO_VS_HEALTH_TARGET = 1 / 3
STORM_INFO_TARGET = 0.70
OTHER_CPU_WARNING_PCT = 15.0
KEYCLOAK_LOGINS_PER_VCPU = 15.0  # keycloak.org "Concepts for sizing CPU and memory resources"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured duration of each phase (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up before each phase (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per phase (default 8)")
    parser.add_argument(
        "--login-connections", type=int, default=4, help="connections sending password logins (default 4)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each phase, wait up to this many seconds for other jobs to leave the machine idle (default 30)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="repeat a phase (keeping the cleanest) when other jobs used over 15%% of a core during it (default 2)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.connections < 1 or args.login_connections < 1 or args.retries < 0:
        parser.error("--seconds must be > 0, --warmup >= 0, connection counts >= 1, --retries >= 0")
    return args


def run_phase(
    loader: LoadProcess, server: Server, streams: list[Stream], *, seconds: float, warmup: float
) -> dict[str, Any]:
    """One phase; adds the server's and the machine's CPU use over the measured window to the loader's result."""
    began = time.perf_counter()
    loader.submit(server.port, streams, seconds=seconds, warmup=warmup)
    time.sleep(max(0.0, began + warmup - time.perf_counter()))
    server_cpu0, (busy0, total0) = server.cpu_seconds(), machine_cpu_ticks()
    time.sleep(max(0.0, began + warmup + seconds - time.perf_counter()))
    server_cpu1, (busy1, total1) = server.cpu_seconds(), machine_cpu_ticks()
    result = loader.collect()
    result["server_cpu_pct"] = 100 * (server_cpu1 - server_cpu0) / seconds
    cores = os.cpu_count() or 1
    result["machine_busy_cores"] = (busy1 - busy0) / (total1 - total0) * cores if total1 > total0 else 0.0
    # CPU used by neither the server nor the loader (other jobs on the machine skew the figures)
    result["other_cpu_pct"] = max(
        0.0, 100 * result["machine_busy_cores"] - result["server_cpu_pct"] - result["loader_cpu_pct"]
    )
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cores = os.cpu_count() or 1
    started = datetime.now(UTC)
    info = machine()
    print(
        f"cabinet Account API benchmark: {cores} CPUs ({info['cpu_model'] or 'unknown'}), "
        f"load average {info['loadavg_before'][0]:.2f}; {args.seconds:g} s per phase after {args.warmup:g} s warm-up; "
        f"{args.connections} connections, {args.login_connections} for logins",
        flush=True,
    )

    phases: dict[str, dict[str, Any]] = {}
    with Server() as server, LoadProcess() as loader:
        server.cli("migrate")
        server.cli(
            "users", "create", "--username", USERNAME, "--password", PASSWORD, "--company", COMPANY, "--role", "USER"
        )
        server.start()
        print(f"server pid {server.pid} on {server.base} (SQLite in {server.data_dir}); loader pid {loader.pid}")

        login_body = {"username": USERNAME, "password": PASSWORD, "ttl_seconds": 86_400}
        token = server.post_json("/account/token/generation", login_body)
        if not isinstance(token, str) or token.count(".") != 2:
            raise RuntimeError(f"token generation did not answer a JWT string: {token!r}")
        auth = {"Authorization": f"Bearer {token}"}
        if server.get_json("/account/info", auth).get("username") != USERNAME:
            raise RuntimeError("GET /account/info does not answer the bench user")
        if server.post_json("/account/token/validation", token).get("valid") is not True:
            raise RuntimeError("POST /account/token/validation does not accept a fresh token")

        port = server.port
        health = Stream("health", http_request("GET", "/health", port=port), args.connections)
        info_stream = Stream("info", http_request("GET", "/account/info", headers=auth, port=port), args.connections)
        validation = Stream(
            "validation", http_request("POST", "/account/token/validation", body=token, port=port), args.connections
        )
        logins = Stream(
            "login",
            http_request("POST", "/account/token/generation", body=login_body, port=port),
            args.login_connections,
        )
        plan = [
            ("health", "GET /health (baseline)", [health]),
            ("info", "GET /account/info", [info_stream]),
            ("validation", "POST /account/token/validation", [validation]),
            ("logins", "password logins alone", [logins]),
            ("storm", "login storm: info + logins", [info_stream, logins]),
        ]
        for key, title, streams in plan:
            best: dict[str, Any] | None = None
            for attempt in range(1, args.retries + 2):
                busy = wait_for_quiet(args.quiet_wait)
                print(f"  running {title} (attempt {attempt}, other load before: {busy:.2f} cores) ...", flush=True)
                result = run_phase(loader, server, streams, seconds=args.seconds, warmup=args.warmup)
                result["attempt"] = attempt
                if best is None or result["other_cpu_pct"] < best["other_cpu_pct"]:
                    best = result
                if result["other_cpu_pct"] <= OTHER_CPU_WARNING_PCT:
                    break
                print(f"    other processes used {result['other_cpu_pct']:.0f}% of a core meanwhile", flush=True)
            assert best is not None
            phases[key] = best

    report = summarize(phases, args, cores, info, started)
    print_report(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"account-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nfigures written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0 if report["verdict"] == "PASS" else 1


def summarize(
    phases: dict[str, dict[str, Any]], args: argparse.Namespace, cores: int, info: dict[str, Any], started: datetime
) -> dict[str, Any]:
    s = {key: phase["streams"] for key, phase in phases.items()}
    health_rps = s["health"]["health"]["rps"]
    info_rps = s["info"]["info"]["rps"]
    storm_info_rps = s["storm"]["info"]["rps"]
    storm_logins = s["storm"]["login"]["rps"]
    alone_logins = s["logins"]["login"]["rps"]

    def ratio(value: float, base: float) -> float:
        return value / base if base else 0.0

    summary = {
        "health_rps": health_rps,
        "info_rps": info_rps,
        "info_vs_health": ratio(info_rps, health_rps),
        "validation_rps": s["validation"]["validation"]["rps"],
        "validation_vs_health": ratio(s["validation"]["validation"]["rps"], health_rps),
        "logins_per_s_alone": alone_logins,
        "logins_per_s_alone_per_core": alone_logins / cores,
        "storm_info_rps": storm_info_rps,
        "storm_info_vs_quiet": ratio(storm_info_rps, info_rps),
        "storm_logins_per_s": storm_logins,
        "storm_logins_per_s_per_core": storm_logins / cores,
    }
    errors = sum(stream["errors"] for streams in s.values() for stream in streams.values())
    checks = [
        {
            "name": "GET /account/info req/s vs /health",
            "value": summary["info_vs_health"],
            "shown": f"{summary['info_vs_health']:.3f}",
            "target": f">= {INFO_VS_HEALTH_TARGET:.3f} (1/3)",
            "result": "PASS" if summary["info_vs_health"] >= INFO_VS_HEALTH_TARGET else "FAIL",
        },
        {
            "name": "info req/s during login storm vs quiet",
            "value": summary["storm_info_vs_quiet"],
            "shown": f"{summary['storm_info_vs_quiet']:.0%}",
            "target": f">= {STORM_INFO_TARGET:.0%}",
            "result": "PASS" if summary["storm_info_vs_quiet"] >= STORM_INFO_TARGET else "FAIL",
        },
        {
            "name": "responses other than 200 / connection errors",
            "value": errors,
            "shown": str(errors),
            "target": "0",
            "result": "PASS" if errors == 0 else "FAIL",
        },
    ]
    reference = {
        "name": "logins/s per core during storm vs Keycloak",
        "value": summary["storm_logins_per_s_per_core"],
        "shown": f"{summary['storm_logins_per_s_per_core']:.1f}/s",
        "target": f"Keycloak sizing guide: {KEYCLOAK_LOGINS_PER_VCPU:g}/s per vCPU",
        "result": "above" if summary["storm_logins_per_s_per_core"] >= KEYCLOAK_LOGINS_PER_VCPU else "below",
    }
    return {
        "benchmark": "account",
        "started_at": started.isoformat(timespec="seconds"),
        "config": {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "connections": args.connections,
            "login_connections": args.login_connections,
            "quiet_wait": args.quiet_wait,
            "retries": args.retries,
            **source_revision(),
            "server": "cabinet serve --workers 1, embedded SQLite, CABINET_LOG_LEVEL=WARNING",
            "loader": "asyncio raw-socket HTTP/1.1 keep-alive client in a separate process",
        },
        "machine": {**info, "loadavg_after": list(os.getloadavg())},
        "phases": phases,
        "summary": summary,
        "errors": errors,
        "checks": checks,
        "reference": reference,
        "verdict": "PASS" if all(c["result"] == "PASS" for c in checks) else "FAIL",
    }


def print_report(report: dict[str, Any]) -> None:
    phases, summary = report["phases"], report["summary"]
    health_rps = summary["health_rps"]
    rows = [
        ("GET /health (baseline)", "health", "health"),
        ("GET /account/info", "info", "info"),
        ("POST /account/token/validation", "validation", "validation"),
        ("POST /account/token/generation alone", "logins", "login"),
        ("storm: GET /account/info", "storm", "info"),
        ("storm: POST /account/token/generation", "storm", "login"),
    ]
    header = (
        f"{'phase':<40}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs /health':>11}"
        f"{'errors':>8}{'server CPU':>11}{'loader CPU':>11}{'other CPU':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for title, phase_key, stream_key in rows:
        phase = phases[phase_key]
        st = phase["streams"][stream_key]
        vs = f"{st['rps'] / health_rps:.3f}" if health_rps and stream_key != "login" else "-"
        print(
            f"{title:<40}{st['connections']:>6}{st['rps']:>10.1f}{st['p50_ms']:>9.1f}{st['p99_ms']:>9.1f}{vs:>11}"
            f"{st['errors']:>8}{phase['server_cpu_pct']:>10.0f}%{phase['loader_cpu_pct']:>10.0f}%"
            f"{phase['other_cpu_pct']:>9.0f}%"
        )
    cores = report["machine"]["cpu_count"]
    print(
        f"\nlogins/s: {summary['logins_per_s_alone']:.1f} alone "
        f"({summary['logins_per_s_alone_per_core']:.1f} per core), "
        f"{summary['storm_logins_per_s']:.1f} during the storm ({summary['storm_logins_per_s_per_core']:.1f} per core; "
        f"{cores} cores)"
    )
    print()
    for check in [*report["checks"], report["reference"]]:
        print(f"  {check['name']:<48}{check['shown']:>8}   target {check['target']:<40}{check['result']}")
    for phase_key, phase in phases.items():
        for st in phase["streams"].values():
            if st["errors"]:
                print(
                    f"  ! {phase_key}/{st['name']}: {st['errors']} errors, statuses {st['statuses']}, "
                    f"connection errors {st['connection_errors']} ({st['first_error'] or '-'})"
                )
    other = max(phase["other_cpu_pct"] for phase in phases.values())
    if other > OTHER_CPU_WARNING_PCT:
        print(
            f"\nWARNING: other processes used up to {other:.0f}% of a core while measuring "
            f"(of {cores} cores); the figures are skewed, rerun on a quiet machine"
        )
    print(
        "\nCPU columns: % of one core over the measured window; the server counts all its threads "
        "(event loop, SQLite, argon2 pool)."
    )
    if report["errors"]:
        print(f"\nTHIS RUN HAD ERRORS: {report['errors']} requests did not answer 200")
    print(f"\noverall: {report['verdict']}")


if __name__ == "__main__":
    run_script(main)
