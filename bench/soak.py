"""Soak benchmark: ``./dev bench bench/soak.py [--minutes 10] [--processes 2]``.

Starts the production profile (``_stack.py``: private PostgreSQL + redis-server, ``--processes`` ``cabinet serve``
processes behind nginx with the shipped configuration, and the environment the shipped unit file sets, such as
``MALLOC_ARENA_MAX=2``), then:

1. measures capacity: ``--probe-seconds`` of closed-loop load, an authenticated read (``GET /account/info``) and a
   write (``PUT /account/info``) together, half the connections each;
2. soaks: ``--minutes`` of the same two requests paced at ``--fraction`` (default half) of the measured
   requests/s each (open loop: a slow answer does not slow the schedule), reported every ``--interval`` seconds:
   requests/s, p99, errors, and the resident memory of every cabinet process and of nginx.

Targets: 0 errors (any answer but 200, or a connection error); memory flat (each cabinet process ends within
``--rss-growth`` percent, default 10, of its size at the start of the soak, which begins after the probe warmed
it up, and within ``--late-growth`` percent, default 2, of its size half-way: a process still growing in the
second half of an hour is leaking, one that grew while it warmed its caches is not).

``--tracemalloc FRAMES`` runs the processes with ``PYTHONTRACEMALLOC=FRAMES`` (every allocation traced: slower)
and has each write a snapshot half-way and at the end (SIGUSR2, ``core/observability.py``); the report names the
ten tracebacks that grew most between the two.

Writes every figure to ``bench/results/soak-<timestamp>.json``. Exit status: 0 the targets pass, 1 one failed,
2 the run itself failed.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _load import LoadProcess, Stream, http_request, machine, run_script, save_report, source_revision
from _stack import bearer_token, rss_mb, run_phase, start_stack, unit_environment

WRITE_BODY = {"specification": "written by bench/soak.py"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="soak duration (default 10)")
    parser.add_argument("--processes", type=int, default=2, help="cabinet processes behind nginx (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="connections, half per request (default 16)")
    parser.add_argument("--probe-seconds", type=float, default=10.0, help="capacity probe duration (default 10)")
    parser.add_argument("--fraction", type=float, default=0.5, help="share of the capacity to soak at (default 0.5)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per report line (default 60)")
    parser.add_argument("--rss-growth", type=float, default=10.0, help="allowed memory growth, %% (default 10)")
    parser.add_argument(
        "--late-growth", type=float, default=2.0, help="allowed growth in the second half, %% (default 2)"
    )
    parser.add_argument("--tracemalloc", type=int, default=0, help="trace allocations, this many frames (default off)")
    args = parser.parse_args(argv)
    if (
        args.minutes <= 0
        or args.processes < 1
        or args.connections < 2
        or args.probe_seconds <= 0
        or not 0 < args.fraction <= 1
        or args.interval <= 0
        or args.rss_growth < 0
        or args.late_growth < 0
        or args.tracemalloc < 0
    ):
        parser.error("durations must be > 0, --processes >= 1, --connections >= 2, 0 < --fraction <= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    info = machine()
    print(
        f"cabinet soak: {info['cpu_count']} CPUs, load average {info['loadavg_before'][0]:.2f}; {args.processes} "
        f"processes behind nginx ({' '.join(f'{k}={v}' for k, v in unit_environment().items())}); {args.minutes:g} "
        f"min at {args.fraction:.0%} of the measured capacity",
        flush=True,
    )
    per_stream = max(1, args.connections // 2)
    intervals: list[dict[str, Any]] = []
    stack = start_stack(
        processes=args.processes, env={"PYTHONTRACEMALLOC": str(args.tracemalloc)} if args.tracemalloc else None
    )
    snapshots: list[dict[str, Path]] = []
    growth: dict[str, list[str]] = {}
    try:
        with LoadProcess() as loader:
            assert stack.nginx is not None
            port = stack.nginx.ports[0]
            auth = bearer_token(stack.url)
            requests = {
                "read": http_request("GET", "/account/info", headers=auth, port=port),
                "write": http_request("PUT", "/account/info", headers=auth, body=WRITE_BODY, port=port),
            }
            probe = run_phase(
                loader,
                stack,
                port,
                [Stream(name, request, per_stream) for name, request in requests.items()],
                seconds=args.probe_seconds,
                warmup=2.0,
            )
            capacity = {name: probe["streams"][name]["rps"] for name in requests}
            rates = {name: capacity[name] * args.fraction for name in requests}
            print(
                "capacity: "
                + ", ".join(f"{n} {capacity[n]:.0f} req/s" for n in requests)
                + f"; soaking at {', '.join(f'{n} {rates[n]:.0f}' for n in requests)} req/s",
                flush=True,
            )
            streams = [Stream(name, request, per_stream, rate=rates[name]) for name, request in requests.items()]
            memory_start = memory(stack)
            print(f"memory at start (MB): {format_memory(memory_start)}", flush=True)
            total = args.minutes * 60
            count = max(1, math.ceil(total / args.interval))
            half = count // 2  # intervals[half - 1] ends half-way
            for n in range(count):
                if args.tracemalloc and n == half:
                    snapshots.append(take_snapshots(stack))
                seconds = min(args.interval, total - n * args.interval)
                phase = run_phase(loader, stack, port, streams, seconds=seconds, warmup=0.0)
                phase["memory_mb"] = memory(stack)
                phase["elapsed_s"] = min(total, (n + 1) * args.interval)
                intervals.append(phase)
                print(interval_line(phase), flush=True)
            memory_end = memory(stack)
            if args.tracemalloc:
                snapshots.append(take_snapshots(stack))
                growth = grown(*snapshots)  # the snapshots live in the stack's data dir, gone once it stops
    finally:
        stack.stop()

    report = summarize(args, info, started, probe, capacity, rates, memory_start, memory_end, intervals)
    if args.tracemalloc:
        report["tracemalloc_growth"] = growth
        for process, lines in report["tracemalloc_growth"].items():
            print(f"tracemalloc, {process}, second half, the tracebacks that grew most:")
            for line in lines:
                print(f"  {line}")
    for check in report["checks"]:
        print(f"  {check['name']:<52}{check['shown']:>22}   target {check['target']:<20}{check['result']}")
    print(f"\noverall: {report['verdict']}")
    print(f"figures written to {save_report('soak', started, report)}")
    return 0 if report["verdict"] == "PASS" else 1


def growth_checks(before: dict[str, float], after: dict[str, float], span: str, allowed: float) -> list[dict[str, Any]]:
    """One check per cabinet process: its resident memory grew by at most ``allowed`` percent over ``span``."""
    checks = []
    for name, value in before.items():
        if not name.startswith("cabinet:"):
            continue
        growth = 100 * (after[name] - value) / value if value else 0.0
        checks.append(
            {
                "name": f"memory of {name}, {span}",
                "value": growth,
                "shown": f"{value:.0f} -> {after[name]:.0f} MB ({growth:+.1f}%)",
                "target": f"<= +{allowed:g}%",
                "result": "PASS" if growth <= allowed else "FAIL",
            }
        )
    return checks


def take_snapshots(stack: Any) -> dict[str, Path]:
    """Each cabinet process writes a tracemalloc snapshot (SIGUSR2); their paths, by process."""
    folder = Path(stack.env["CABINET_DATA_DIR"]) / "tracemalloc"
    before = set(folder.glob("*.snapshot")) if folder.exists() else set()
    for cabinet in stack.cabinets:
        os.kill(cabinet.pid, signal.SIGUSR2)
    paths: dict[str, Path] = {}
    deadline = time.monotonic() + 120
    while len(paths) < len(stack.cabinets) and time.monotonic() < deadline:
        time.sleep(0.5)
        for cabinet in stack.cabinets:
            new = [p for p in folder.glob(f"{cabinet.pid}-*.snapshot") if p not in before]
            if new:  # written in full once its size stops changing
                size = new[0].stat().st_size
                time.sleep(0.2)
                if size and new[0].stat().st_size == size:
                    paths[f"cabinet:{cabinet.port}"] = new[0]
    if len(paths) < len(stack.cabinets):
        raise RuntimeError("a cabinet process wrote no tracemalloc snapshot (is PYTHONTRACEMALLOC reaching it?)")
    return paths


def grown(half: dict[str, Path], end: dict[str, Path], top: int = 10) -> dict[str, list[str]]:
    """The ``top`` tracebacks whose memory grew most from half-way to the end, per process."""
    result: dict[str, list[str]] = {}
    for process, path in half.items():
        first, last = tracemalloc.Snapshot.load(str(path)), tracemalloc.Snapshot.load(str(end[process]))
        diff = last.compare_to(first, "traceback")
        result[process] = [
            f"{stat.size_diff / 1024:+.0f} KiB ({stat.count_diff:+d} blocks) at "
            + " <- ".join(
                f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}" for frame in stat.traceback
            )
            for stat in diff[:top]
        ]
    return result


def memory(stack: Any) -> dict[str, float]:
    """Resident MB of each cabinet process and of nginx (master + workers)."""
    mb = {f"cabinet:{c.port}": rss_mb(c.pid) for c in stack.cabinets}
    mb["nginx"] = sum(rss_mb(p) for p in stack.nginx.pids())
    return mb


def format_memory(mb: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.0f}" for name, value in mb.items())


def interval_line(phase: dict[str, Any]) -> str:
    parts = [f"{phase['elapsed_s'] / 60:6.1f} min"]
    for st in phase["streams"].values():
        parts.append(f"{st['name']} {st['rps']:.0f} req/s p99 {st['p99_ms']:.0f} ms errors {st['errors']}")
    parts.append(f"cabinet CPU {phase['cpu_pct']['cabinet']:.0f}%")
    parts.append(f"memory MB: {format_memory(phase['memory_mb'])}")
    return " | ".join(parts)


def summarize(
    args: argparse.Namespace,
    info: dict[str, Any],
    started: datetime,
    probe: dict[str, Any],
    capacity: dict[str, float],
    rates: dict[str, float],
    memory_start: dict[str, float],
    memory_end: dict[str, float],
    intervals: list[dict[str, Any]],
) -> dict[str, Any]:
    errors = sum(st["errors"] for phase in intervals for st in phase["streams"].values())
    served = {
        name: sum(phase["streams"][name]["requests"] for phase in intervals) / (args.minutes * 60) for name in rates
    }
    checks = [
        {
            "name": "responses other than 200 / connection errors",
            "value": errors,
            "shown": str(errors),
            "target": "0",
            "result": "PASS" if errors == 0 else "FAIL",
        }
    ]
    checks += growth_checks(memory_start, memory_end, "start -> end", args.rss_growth)
    half = len(intervals) // 2
    if half:  # the second half: growth there is a leak, not a warm-up
        checks += growth_checks(intervals[half - 1]["memory_mb"], memory_end, "second half", args.late_growth)
    for name, rate in rates.items():  # the load was really offered: a stalled soak proves nothing
        checks.append(
            {
                "name": f"{name}: served vs offered req/s",
                "value": served[name] / rate if rate else 0.0,
                "shown": f"{served[name]:.0f} / {rate:.0f}",
                "target": ">= 95%",
                "result": "PASS" if rate and served[name] >= 0.95 * rate else "FAIL",
            }
        )
    return {
        "benchmark": "soak",
        "started_at": started.isoformat(timespec="seconds"),
        "config": {**vars(args), **source_revision()},
        "machine": {**info, "loadavg_after": list(os.getloadavg())},
        "probe": probe,
        "capacity_rps": capacity,
        "soak_rps": rates,
        "memory_start_mb": memory_start,
        "memory_end_mb": memory_end,
        "intervals": intervals,
        "errors": errors,
        "checks": checks,
        "verdict": "PASS" if all(c["result"] == "PASS" for c in checks) else "FAIL",
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


if __name__ == "__main__":
    run_script(main)
