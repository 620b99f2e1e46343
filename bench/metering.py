"""Metering benchmark: ``./dev bench bench/metering.py [--seconds 5] [--actions 100000]``.

1. The same authenticated endpoint (``GET /account/info``) on two real servers started one after the other, one
   with metering on (quota check, batched audit) and one with ``CABINET_METERING_ENABLED=false``; each against
   its own bare ``GET /health`` baseline. Target: metering costs at most 15 % of the throughput.
   The on/off pair is measured ``--rounds`` times alternately and the median ratio is reported, since a shared
   2-core machine drifts between phases.
2. The XLSX usage report over ``--actions`` (100,000) audit actions, built in process on a fresh SQLite file:
   wall time, rows per second, and peak resident memory growth while it is written (target <= 50 MB: streamed).

Prints the figures and PASS/FAIL, writes them to ``bench/results/metering-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _load import LoadProcess, Server, Stream, http_request, machine, source_revision

RESULTS_DIR = Path(__file__).resolve().parent / "results"
USERNAME, PASSWORD, COMPANY = "bench_user", "bench-password-1234", "bench_company"
METERING_COST_TARGET = 0.15
REPORT_MEMORY_TARGET_MB = 50.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=1.5, help="warm-up seconds per phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating on/off rounds")
    parser.add_argument("--actions", type=int, default=100_000, help="audit actions in the report benchmark")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    return parser.parse_args(argv)


def measure_server(metering: bool, args: argparse.Namespace) -> dict[str, float]:
    with Server() as server, LoadProcess() as loader:
        server.env["CABINET_METERING_ENABLED"] = "true" if metering else "false"
        server.cli("migrate")
        server.cli(
            "users", "create", "--username", USERNAME, "--password", PASSWORD, "--company", COMPANY, "--role", "USER"
        )
        server.start()
        token = server.post_json("/account/token/generation", {"username": USERNAME, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token}"}
        out: dict[str, float] = {}
        for name, path, headers in (("health", "/health", None), ("info", "/account/info", auth)):
            stream = Stream(name, http_request("GET", path, headers=headers, port=server.port), args.connections)
            loader.submit(server.port, [stream], seconds=args.seconds, warmup=args.warmup)
            result = loader.collect()["streams"][name]
            if result["errors"]:
                raise RuntimeError(f"{name}: {result['errors']} errors, first: {result['first_error']}")
            out[f"{name}_rps"] = result["rps"]
            out[f"{name}_p99_ms"] = result["p99_ms"]
        if metering:  # the metered run really audited what it served
            audit = server.get_json("/account/audit?limit=1", auth)
            out["audited_reads"] = audit["counters"]["overall"]["total"]
        return out


def http_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    rounds = []
    for i in range(args.rounds):
        on = measure_server(True, args)
        off = measure_server(False, args)
        on_norm = on["info_rps"] / on["health_rps"]
        off_norm = off["info_rps"] / off["health_rps"]
        cost = 1 - on_norm / off_norm
        print(
            f"  round {i + 1}: metering on {on['info_rps']:8.0f} req/s (health {on['health_rps']:.0f}), "
            f"off {off['info_rps']:8.0f} req/s (health {off['health_rps']:.0f}); cost {cost:+.1%}",
            flush=True,
        )
        rounds.append({"on": on, "off": off, "cost": cost})
    cost = statistics.median(r["cost"] for r in rounds)
    return {"rounds": rounds, "median_cost": cost, "pass": cost <= METERING_COST_TARGET}


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


SRC = Path(__file__).resolve().parent.parent / "src"


def bare_xlsx_seconds(rows: int, path: Path) -> float:
    """The floor, measured in the same run: XlsxWriter alone (constant memory) writing as many 10-cell rows of
    the same shape from memory, no database, no cabinet code."""
    import xlsxwriter

    moment, code = datetime.now(UTC).replace(tzinfo=None), str(uuid.uuid4())
    began = time.perf_counter()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet = book.add_worksheet("Actions")
    for n in range(1, rows + 1):
        sheet.write_datetime(n, 0, moment, fmt)
        sheet.write_row(n, 1, (USERNAME, "ACCOUNT", "NOTRACE", "read_info", "FINISHED_IN_TIME", 1, 1, 0.002, code))
    book.close()
    seconds = time.perf_counter() - began
    path.unlink()
    return seconds


async def report_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(SRC))
    from sqlalchemy import insert

    from cabinet.app import create_app
    from cabinet.asgi import settle_collector
    from cabinet.core.roles import Role
    from cabinet.domains.identity.schemas import UserCreate
    from cabinet.domains.usage.schemas import UsageQuery
    from cabinet.migrations import upgrade
    from cabinet.models import AuditAction
    from cabinet.settings import Settings

    data_dir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="cabinet-bench-report-"))
    settings = Settings(data_dir=data_dir, log_level="WARNING", secret_key="bench-secret-" + "x" * 40)
    await asyncio.to_thread(upgrade, settings)
    app = create_app(settings)
    settle_collector()  # as `cabinet serve` does, where the report is built
    async with app.router.lifespan_context(app):
        services = app.state.runtime.services
        user = await services.identity.create_user(
            UserCreate(
                username=USERNAME, password=PASSWORD, company_key=COMPANY, roles=[Role.USER], create_company=True
            )
        )
        today = datetime.now(UTC).date()
        start = today - timedelta(days=29)
        began = time.perf_counter()
        engine = app.state.runtime.resources.db.engine
        batch = []
        async with engine.begin() as conn:
            for i in range(args.actions):
                day = start + timedelta(days=i % 30)
                moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(seconds=i % 3600)
                batch.append(
                    dict(
                        process_code=uuid.uuid4(),
                        request_code=uuid.uuid4(),
                        company_id=user.company_id,
                        user_id=user.id,
                        username=USERNAME,
                        company_key=COMPANY,
                        service="ACCOUNT",
                        process_type="TRACE" if i % 5 == 0 else "NOTRACE",
                        operation="read_info",
                        env="bench",
                        pod="bench-pod",
                        status="FINISHED_IN_TIME",
                        message=None,
                        http_status=200,
                        started_at=moment,
                        duration_seconds=0.002,
                        billing_date=day,
                        request_points=1,
                        result_elements=1,
                        input_digest=None,
                        input_blob=None,
                        output_blob=None,
                    )
                )
                if len(batch) == 5000:
                    await conn.execute(insert(AuditAction), batch)
                    batch = []
            if batch:
                await conn.execute(insert(AuditAction), batch)
        seeded = time.perf_counter() - began
        query = UsageQuery(date_from=start, date_to=today, user_id=user.id, company_id=user.company_id)
        before = rss_mb()
        began = time.perf_counter()
        with PeakRss() as peak:
            path = await services.usage.build_report(query, title="bench")
        elapsed = time.perf_counter() - began
        size = (await asyncio.to_thread(path.stat)).st_size
        await asyncio.to_thread(path.unlink)
        baseline = await asyncio.to_thread(bare_xlsx_seconds, args.actions, data_dir / "bare.xlsx")
    growth = peak.peak - before
    return {
        "baseline_bare_xlsx_seconds": baseline,
        "ratio_to_baseline": elapsed / baseline,
        "actions": args.actions,
        "seed_seconds": seeded,
        "report_seconds": elapsed,
        "rows_per_second": args.actions / elapsed,
        "xlsx_bytes": size,
        "rss_before_mb": before,
        "rss_peak_mb": peak.peak,
        "rss_growth_mb": growth,
        "pass": growth <= REPORT_MEMORY_TARGET_MB,
        "period": [start.isoformat(), today.isoformat()],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine()
    print(
        f"cabinet metering benchmark: {info['cpu_count']} CPUs ({info['cpu_model'] or 'unknown'}), "
        f"load average {info['loadavg_before'][0]:.2f}",
        flush=True,
    )
    report: dict[str, Any] = {"machine": info, "started": datetime.now(UTC).isoformat(), "source": source_revision()}
    ok = True
    if not args.skip_http:
        print(f"GET /account/info with metering on and off ({args.seconds:g} s per phase, {args.rounds} rounds):")
        http = http_benchmark(args)
        report["http"] = http
        ok &= http["pass"]
        print(
            f"  => metering costs {http['median_cost']:.1%} of throughput (median), target <= "
            f"{METERING_COST_TARGET:.0%}: {'PASS' if http['pass'] else 'FAIL'}"
        )
    if not args.skip_report:
        print(f"XLSX report over {args.actions:,} audit actions:")
        xlsx = asyncio.run(report_benchmark(args))
        report["report"] = xlsx
        ok &= xlsx["pass"]
        print(
            f"  => {xlsx['report_seconds']:.2f} s ({xlsx['rows_per_second']:,.0f} actions/s), "
            f"{xlsx['xlsx_bytes'] / 2**20:.1f} MiB file; peak RSS growth {xlsx['rss_growth_mb']:.1f} MB "
            f"(target <= {REPORT_MEMORY_TARGET_MB:.0f} MB): {'PASS' if xlsx['pass'] else 'FAIL'}"
        )
        print(
            f"     baseline (bare XlsxWriter, same rows from memory, same run): "
            f"{xlsx['baseline_bare_xlsx_seconds']:.2f} s; report / baseline = {xlsx['ratio_to_baseline']:.2f}x"
            " (absolute figures on a loaded shared machine are upper bounds)"
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"metering-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"figures written to {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
