"""Scale-out benchmark: ``./dev bench bench/scaleout.py [--seconds 5] [--connections 16]``.

Starts the production profile (``_stack.py``): a private PostgreSQL cluster and redis-server, two ``cabinet serve``
processes and nginx with the shipped ``deploy/nginx/cabinet.conf`` rendered twice: one site with only the first
process behind it, one with both. The same load (``--connections`` keep-alive connections from a separate
load-generator process, ``_load.py``) then goes through each site in turn:

1. ``GET /health``        the baseline (no auth, no quota)
2. ``GET /account/info``  an authenticated read (token, user, quota check)
3. ``PUT /account/info``  a write (one transaction with its audit record; payloads stored in the blob store)

Target (issue 9): two processes serve at least 1.7 times what one does, for the read and for the write.

On a 2-core machine the two processes do not get two cores: nginx, PostgreSQL and the load generator run on
the same cores. So every phase also reports the CPU each component used (from /proc), and the figures that
tell whether the processes themselves scale: requests per second per core used by cabinet; the ratio
projected for a machine where each process gets a core of its own (the others' CPU elsewhere),
``(rps2 / cabinet cores2 * 2) / (rps1 / cabinet cores1 * 1)``; and the best ratio this machine allows,
``cores / (1 + o)`` where ``o`` is the CPU the rest of the stack spends per unit of cabinet CPU.

Writes every figure to ``bench/results/scaleout-<timestamp>.json``. Exit status: 0 the targets pass, 1 a target
failed or a request did not answer 200, 2 the run itself failed.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from _load import LoadProcess, Stream, http_request, machine
from _stack import bearer_token, run_phase, run_script, save_report, start_stack
from account import OTHER_CPU_WARNING_PCT, source_revision, wait_for_quiet

RATIO_TARGET = 1.7
WRITE_BODY = {"specification": "written by bench/scaleout.py"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured duration of each phase (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up before each phase (default 1)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=20.0,
        help="before each phase, wait up to this many seconds for other jobs to leave the machine idle (default 20)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.connections < 1 or args.quiet_wait < 0:
        parser.error("--seconds must be > 0, --warmup and --quiet-wait >= 0, --connections >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    info = machine()
    print(
        f"cabinet scale-out benchmark: {info['cpu_count']} CPUs ({info['cpu_model'] or 'unknown'}), load average "
        f"{info['loadavg_before'][0]:.2f}; {args.seconds:g} s per phase after {args.warmup:g} s warm-up; "
        f"{args.connections} connections through nginx",
        flush=True,
    )
    phases: dict[str, dict[str, Any]] = {}
    stack = start_stack(processes=2, sites=[[0], [0, 1]])
    try:
        with LoadProcess() as loader:
            assert stack.nginx is not None
            one, two = stack.nginx.ports
            auth = bearer_token(stack.nginx.urls[0])
            print(
                f"PostgreSQL on {stack.postgres.port if stack.postgres else '?'}, Redis on {stack.redis.port}; "
                f"cabinet pids {[c.pid for c in stack.cabinets]}; nginx: 1 process on {one}, 2 on {two}; "
                f"loader pid {loader.pid}",
                flush=True,
            )
            plan = [
                ("health", "GET", "/health", None, None),
                ("read", "GET", "/account/info", auth, None),
                ("write", "PUT", "/account/info", auth, WRITE_BODY),
            ]
            for key, method, path, headers, body in plan:
                for processes, port in ((1, one), (2, two)):
                    busy = wait_for_quiet(args.quiet_wait)
                    title = f"{method} {path} with {processes} process{'es' if processes > 1 else ''}"
                    print(f"  running {title} (other load before: {busy:.2f} cores) ...", flush=True)
                    request = http_request(method, path, headers=headers, body=body, port=port)
                    phases[f"{key}_{processes}"] = run_phase(
                        loader,
                        stack,
                        port,
                        [Stream(key, request, args.connections)],
                        seconds=args.seconds,
                        warmup=args.warmup,
                    )
    finally:
        stack.stop()

    report = summarize(phases, args, info, started)
    print_report(report)
    print(f"\nfigures written to {save_report('scaleout', started, report)}")
    return 0 if report["verdict"] == "PASS" else 1


def summarize(
    phases: dict[str, dict[str, Any]], args: argparse.Namespace, info: dict[str, Any], started: datetime
) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    checks = []
    for key in ("health", "read", "write"):
        rps = {n: phases[f"{key}_{n}"]["streams"][key]["rps"] for n in (1, 2)}
        cores = {n: phases[f"{key}_{n}"]["cpu_pct"]["cabinet"] / 100 for n in (1, 2)}
        per_core = {n: rps[n] / cores[n] if cores[n] else 0.0 for n in (1, 2)}
        ratio = rps[2] / rps[1] if rps[1] else 0.0
        projected = (per_core[2] * 2) / (per_core[1] * 1) if per_core[1] else 0.0
        # what the rest of the stack (nginx, PostgreSQL, Redis, the loader) costs per unit of cabinet CPU, and so
        # the best ratio this machine allows: 2 processes can have at most cores / (1 + overhead) cores
        cpu2 = phases[f"{key}_2"]["cpu_pct"]
        overhead = (cpu2["nginx"] + cpu2["postgres"] + cpu2["redis"] + cpu2["loader"]) / cpu2["cabinet"]
        machine_cap = min(2.0, (os.cpu_count() or 1) / (1 + overhead)) if cpu2["cabinet"] else 0.0
        summary[key] = {
            "rps_1": rps[1],
            "rps_2": rps[2],
            "ratio": ratio,
            "cabinet_cores_1": cores[1],
            "cabinet_cores_2": cores[2],
            "rps_per_cabinet_core_1": per_core[1],
            "rps_per_cabinet_core_2": per_core[2],
            "projected_ratio_one_core_per_process": projected,
            "stack_cpu_per_cabinet_cpu": overhead if cpu2["cabinet"] else 0.0,
            "best_ratio_this_machine_allows": machine_cap,
        }
        if key != "health":
            checks.append(
                {
                    "name": f"{key}: 2 processes vs 1 (req/s)",
                    "value": ratio,
                    "shown": f"{ratio:.2f}x",
                    "target": f">= {RATIO_TARGET}x",
                    "result": "PASS" if ratio >= RATIO_TARGET else "FAIL",
                }
            )
    errors = sum(st["errors"] for phase in phases.values() for st in phase["streams"].values())
    checks.append(
        {
            "name": "responses other than 200 / connection errors",
            "value": errors,
            "shown": str(errors),
            "target": "0",
            "result": "PASS" if errors == 0 else "FAIL",
        }
    )
    return {
        "benchmark": "scaleout",
        "started_at": started.isoformat(timespec="seconds"),
        "config": {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "connections": args.connections,
            **source_revision(),
            "stack": "nginx (deploy/nginx/cabinet.conf, 1 worker) -> cabinet serve x1 | x2 -> private PostgreSQL "
            "(fsync off) + redis-server, all on this machine",
            "loader": "asyncio raw-socket HTTP/1.1 keep-alive client in a separate process",
        },
        "machine": {**info, "loadavg_after": list(os.getloadavg())},
        "phases": phases,
        "summary": summary,
        "errors": errors,
        "checks": checks,
        "verdict": "PASS" if all(c["result"] == "PASS" for c in checks) else "FAIL",
    }


def print_report(report: dict[str, Any]) -> None:
    header = (
        f"{'phase':<34}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}  CPU % of a core: "
        f"{'cabinet':>8}{'nginx':>7}{'pg':>6}{'redis':>6}{'loader':>7}{'other':>6}"
    )
    print()
    print(header)
    print("-" * len(header))
    for name, phase in report["phases"].items():
        key, processes = name.rsplit("_", 1)
        st = phase["streams"][key]
        cpu = phase["cpu_pct"]
        title = f"{key} ({processes} process{'es' if processes != '1' else ''})"
        print(
            f"{title:<34}{st['rps']:>9.1f}{st['p50_ms']:>8.1f}{st['p99_ms']:>8.1f}{st['errors']:>7}  "
            f"{'':>16}{cpu['cabinet']:>8.0f}{cpu['nginx']:>7.0f}{cpu['postgres']:>6.0f}{cpu['redis']:>6.0f}"
            f"{cpu['loader']:>7.0f}{cpu['other']:>6.0f}"
        )
    print()
    for key, s in report["summary"].items():
        print(
            f"  {key:<6} 1 -> 2 processes: {s['rps_1']:.0f} -> {s['rps_2']:.0f} req/s = {s['ratio']:.2f}x; "
            f"cabinet used {s['cabinet_cores_1']:.2f} -> {s['cabinet_cores_2']:.2f} cores "
            f"({s['rps_per_cabinet_core_1']:.0f} -> {s['rps_per_cabinet_core_2']:.0f} req/s per cabinet core); "
            f"projected with a core per process: {s['projected_ratio_one_core_per_process']:.2f}x; "
            f"the rest of the stack costs {s['stack_cpu_per_cabinet_cpu']:.2f} core per cabinet core, so this "
            f"machine allows at most {s['best_ratio_this_machine_allows']:.2f}x"
        )
    print()
    for check in report["checks"]:
        print(f"  {check['name']:<48}{check['shown']:>8}   target {check['target']:<12}{check['result']}")
    other = max(phase["cpu_pct"]["other"] for phase in report["phases"].values())
    if other > OTHER_CPU_WARNING_PCT:
        print(f"\nWARNING: other processes used up to {other:.0f}% of a core while measuring; rerun on a quiet machine")
    print(f"\noverall: {report['verdict']}")


if __name__ == "__main__":
    run_script(main)
