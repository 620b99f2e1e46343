"""Contractor API benchmark against the real server: ``./dev bench bench/contractor.py [--calls 100000]``.

Starts ``cabinet serve`` (1 worker, fresh embedded SQLite data dir; with ``--pg`` PostgreSQL + Redis, see
``_backend.py``) on a free loopback port with a tenant whose external system (a BOT with an API key) owns
``--calls`` calls, each with two tasks, one expenditure item and consecutive change numbers, all dispatched to
one contractor. The calls are seeded straight into the database
before the server starts (through the API it would take an hour; the bench measures reading, not seeding).

1. ``GET /health``: the baseline of the same stack (requests/s, load-generator process, keep-alive).
2. Full sync: the external system pulls ``GET /call/modifications/{n}`` from change number 0, page after page
   (``--page``), each next page from the last item's ``timestamp``, until an empty page. Time, calls/s, pages/s,
   and a check that it saw every call exactly once in ascending order. On SQLite, then the floor of the same
   server-side work: the same pages read with bare ``sqlite3`` and written with ``orjson`` (``bare_feed``).
3. ``GET /call?limit=50`` (the default list: critical first, nearest ttf, X-Total-Count) under load, for the
   contractor (``--own`` of the calls are its own) and for the external system (every call of the company), and
   ``GET /call/{id}``, next to the baseline.

Prints a table and writes every figure to ``bench/results/contractor-<timestamp>.json``. Exit status 0, or 2 when
the run itself failed (a wrong answer included).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from _backend import SeedTarget, backend_env, postgres_schema
from _load import LoadProcess, Server, Stream, http_request, machine, run_script, source_revision, wait_for_quiet
from account import run_phase

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COMPANY = "bench_company"
ERP = "bench_erp"
CONTRACTOR = "bench_contractor"
OTHERS = "bench_others"  # owns every call the measured contractor does not
PASSWORD = "bench-password-1234"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls to seed and sync (default 100000)")
    parser.add_argument(
        "--own", type=int, default=1000, help="calls of the measured contractor; the rest belong to another (1000)"
    )
    parser.add_argument("--page", type=int, default=1000, help="feed page size (default 1000, the API default)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured duration of each load phase")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up before each load phase")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per load phase")
    parser.add_argument("--pg", action="store_true", help="cabinet on PostgreSQL + Redis instead of embedded SQLite")
    parser.add_argument("--quiet-wait", type=float, default=20.0, help="wait up to this long for an idle machine")
    parser.add_argument("--profile", help="run py-spy (this path to its binary) on cabinet in each phase")
    parser.add_argument("--only-sync", action="store_true", help="measure the full sync only (no load phases)")
    args = parser.parse_args(argv)
    if args.calls < 1 or not 1 <= args.page <= 10_000 or args.seconds <= 0 or args.connections < 1:
        parser.error("--calls >= 1, --page 1..10000, --seconds > 0, --connections >= 1")
    return args


def seed(db: SeedTarget, calls: int, own: int) -> None:
    """``calls`` calls (2 tasks and 1 expenditure item each), change numbers 1..3*calls; every
    ``calls // own``-th belongs to the measured contractor, the others to a second one. ``db`` is left open."""
    company_id = db.one("SELECT id FROM company WHERE key = ?", (COMPANY,))[0]
    owner_id = db.one("SELECT id FROM user_account WHERE username = ?", (CONTRACTOR,))[0]
    others_id = db.one("SELECT id FROM user_account WHERE username = ?", (OTHERS,))[0]
    every = max(1, calls // max(1, own))
    created = datetime.now(UTC)
    rows = []
    for n in range(1, calls + 1):
        ttf = created + timedelta(hours=1 + n % 500) if n % 3 else None
        rows.append(
            (
                n,
                company_id,
                owner_id if n % every == 0 else others_id,
                f"{n:08d}",
                "New",
                f"Client {n}",
                created,
                n % 10 == 0,
                f"<p>Call {n}: the ATM does not dispense cash</p>",
                f"Call {n}",
                f"Main street {n}",
                55.75,
                37.62,
                f"ATM {n}",
                ttf,
                False,
                3 * n - 2,
                created,
                created,
            )
        )
    db.many(
        "INSERT INTO contractor_call (id, company_id, owner_id, number, status, client_name, created, critical,"
        " description_html, description_for_field_employee, service_object_address, service_object_latitude,"
        " service_object_longitude, service_object_name, ttf, jeopardy_open, change_no, created_at, edited_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.many(
        "INSERT INTO contractor_task (call_id, company_id, title, status, change_no, created_at, edited_at)"
        " VALUES (?, ?, ?, 'New', ?, ?, ?)",
        [
            (n, company_id, title, 3 * n - k, created, created)
            for n in range(1, calls + 1)
            for k, title in ((1, "Diagnose"), (0, "Repair"))
        ],
    )
    db.many(
        "INSERT INTO contractor_expenditure_item (call_id, company_id, name) VALUES (?, ?, 'Fuel')",
        [(n, company_id) for n in range(1, calls + 1)],
    )
    db.many(
        "INSERT INTO contractor_sequence (company_id, last_change, last_call_number) VALUES (?, ?, ?)",
        [(company_id, 3 * calls, calls)],
    )


def full_sync(base: str, erp: dict[str, str], page: int, expected: int) -> dict[str, Any]:
    """Pull the whole call feed from change number 0; checks every call arrives once, in ascending order."""
    cursor, pages, seen, payload_bytes = 0, 0, 0, 0
    waited = 0.0  # from each request sent to its whole answer read (httpx's ``elapsed``): the server's share
    last_id = 0
    began = time.perf_counter()
    with httpx.Client(base_url=base, headers=erp, timeout=120) as client:
        while True:
            answer = client.get(f"/call/modifications/{cursor}", params={"limit": page})
            if answer.status_code != 200:
                raise RuntimeError(f"feed answered {answer.status_code}: {answer.text[:200]}")
            waited += answer.elapsed.total_seconds()
            items = answer.json()
            pages += 1
            payload_bytes += len(answer.content)
            if not items:
                break
            for item in items:
                if item["timestamp"] <= cursor or item["id"] != last_id + 1:
                    raise RuntimeError(f"feed out of order at {item['id']} / {item['timestamp']}")
                cursor, last_id = item["timestamp"], item["id"]
            seen += len(items)
    seconds = time.perf_counter() - began
    if seen != expected:
        raise RuntimeError(f"full sync saw {seen} calls, expected {expected}")
    return {
        "calls": seen,
        "page": page,
        "pages": pages,
        "seconds": round(seconds, 2),
        "answer_seconds": round(waited, 2),
        "calls_per_s": round(seen / seconds, 1),
        "ms_per_page": round(1000 * seconds / pages, 1),
        "mb": round(payload_bytes / 1e6, 1),
    }


def bare_feed(db_path: Path, company_id: int, page: int) -> dict[str, Any]:
    """The floor of the feed's server-side work on this machine: the same pages (calls by change number, then
    their tasks, expenditure items, jeopardies, visits and signatures by call id) read with bare ``sqlite3`` and
    written with ``orjson`` as the same JSON fields, with no HTTP, framework, pool or driver thread. Run in this
    process after the sync, on the database file the server used."""
    import sqlite3

    import orjson

    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    columns = [row[1] for row in db.execute("PRAGMA table_info(contractor_call)")]
    at = {name: n for n, name in enumerate(columns)}
    times = [at[name] for name in ("created", "commited_at", "finished_at", "ttf", "tto")]

    def parsed(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value + "+00:00")

    def children(table: str, ids: str) -> dict[int, list[tuple[Any, ...]]]:
        grouped: dict[int, list[tuple[Any, ...]]] = {}
        sql = f"SELECT * FROM {table} WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY call_id, id"
        for row in db.execute(sql, (ids,)):
            grouped.setdefault(row[1], []).append(row)
        return grouped

    cursor, pages, calls, size = 0, 0, 0, 0
    began = time.perf_counter()
    while True:
        rows = db.execute(
            "SELECT * FROM contractor_call WHERE company_id = ? AND change_no > ? ORDER BY change_no LIMIT ?",
            (company_id, cursor, page),
        ).fetchall()
        pages += 1
        if not rows:
            break
        ids = json.dumps([row[0] for row in rows])
        tasks, items = children("contractor_task", ids), children("contractor_expenditure_item", ids)
        jeopardies, visits = children("contractor_jeopardy", ids), children("contractor_visit", ids)
        signatures = children("contractor_signature", ids)
        out = []
        for row in rows:
            call = list(row)
            for n in times:
                call[n] = parsed(call[n])
            out.append(
                {
                    "availableExpenditureItems": [{"id": i[0], "name": i[3]} for i in items.get(call[0], ())],
                    "clientName": call[at["client_name"]],
                    "comments": call[at["comments"]],
                    "commited": call[at["commited_at"]],
                    "contactPersonEmail": call[at["contact_person_email"]],
                    "contactPersonName": call[at["contact_person_name"]],
                    "contactPersonPhone": call[at["contact_person_phone"]],
                    "created": call[at["created"]],
                    "critical": bool(call[at["critical"]]),
                    "descriptionHtmlText": call[at["description_html"]],
                    "descriptionTextForFieldEmployee": call[at["description_for_field_employee"]],
                    "finished": call[at["finished_at"]],
                    "id": call[0],
                    "isExpired": False,
                    "isJeopardy": bool(call[at["jeopardy_open"]]),
                    "jeopardies": [{"id": j[0]} for j in jeopardies.get(call[0], ())],
                    "number": call[at["number"]],
                    "serviceObjectAddress": call[at["service_object_address"]],
                    "serviceObjectLatitude": float(call[at["service_object_latitude"]]),
                    "serviceObjectLongitude": float(call[at["service_object_longitude"]]),
                    "serviceObjectName": call[at["service_object_name"]],
                    "serviceObjectType": call[at["service_object_type"]],
                    "status": call[at["status"]],
                    "tasks": [
                        {"id": t[0], "result": None, "status": t[4], "title": t[3]} for t in tasks.get(call[0], ())
                    ],
                    "timestamp": call[at["change_no"]],
                    "ttf": call[at["ttf"]],
                    "tto": call[at["tto"]],
                    "userId": call[at["owner_id"]],
                    "visits": [{"id": v[0]} for v in visits.get(call[0], ())],
                    "signature": [{"id": s[0]} for s in signatures.get(call[0], ())] or None,
                }
            )
        size += len(orjson.dumps(out, option=orjson.OPT_UTC_Z))
        cursor = rows[-1][at["change_no"]]
        calls += len(rows)
    db.close()
    return {"calls": calls, "seconds": round(time.perf_counter() - began, 2), "mb": round(size / 1e6, 1)}


def profiler(args: argparse.Namespace, server: Server, phase: str) -> subprocess.Popen[bytes] | None:
    """py-spy recording the server during one phase (``--profile``), raw stacks to /tmp/contractor-<phase>-..."""
    if not args.profile:
        return None
    out = Path(f"/tmp/contractor-{phase}-{'pg' if args.pg else 'sqlite'}-{os.getpid()}.txt")
    spy = subprocess.Popen(
        [args.profile, "record", "--nonblocking", "--format", "raw", "--rate", "200", "-o", str(out)]
        + ["--pid", str(server.pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"  py-spy on cabinet (pid {server.pid}) to {out}", flush=True)
    time.sleep(1)
    return spy


def stop(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)


def company_id(server: Server) -> int:
    target = SeedTarget(server.env, server.data_dir)
    try:
        return int(target.one("SELECT id FROM company WHERE key = ?", (COMPANY,))[0])
    finally:
        target.close()


def print_sync(report: dict[str, Any]) -> None:
    sync = report["full_sync"]
    print(f"\nfull sync of {sync['calls']} calls from change number 0, pages of {sync['page']}:")
    print(f"  {sync['seconds']} s, {sync['calls_per_s']} calls/s, {sync['ms_per_page']} ms/page, {sync['mb']} MB")
    print(f"  of which {sync['answer_seconds']} s from each request sent to its answer read (the rest: the client)")
    print(f"  the server's CPU time over the sync: {sync['server_cpu_seconds']} s")
    bare = report.get("bare_feed")
    if bare is not None:
        ratio = sync["server_cpu_seconds"] / bare["seconds"] if bare["seconds"] else 0.0
        print(
            f"  the same pages in bare sqlite3 + orjson (no HTTP, no framework): {bare['seconds']} s for"
            f" {bare['calls']} calls, {bare['mb']} MB; cabinet's server CPU is {ratio:.2f}x that floor"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    info = machine()
    print(f"cabinet contractor benchmark: {os.cpu_count()} CPUs, {args.calls} calls, feed page {args.page}", flush=True)
    report: dict[str, Any] = {
        "started": started.isoformat(),
        "machine": info,
        "source": source_revision(),
        "backend": "postgresql+redis" if args.pg else "sqlite",
    }
    env, schema = backend_env(args.pg, tag="bench_contractor")
    try:
        return measure(args, env, started, report)
    finally:
        if schema is not None:
            postgres_schema(env["CABINET_DATABASE_URL"], schema, create=False)


def measure(args: argparse.Namespace, env: dict[str, str], started: datetime, report: dict[str, Any]) -> int:
    with Server(env=env) as server, LoadProcess() as loader:
        server.cli("migrate")
        for username, role in ((ERP, "BOT"), (CONTRACTOR, "USER"), (OTHERS, "USER")):
            server.cli(
                "users", "create", "--username", username, "--password", PASSWORD, "--company", COMPANY, "--role", role
            )
        key = server.cli("keys", "create", "--username", ERP).split()[-1]
        began = time.perf_counter()
        target = SeedTarget(server.env, server.data_dir)
        seed(target, args.calls, args.own)
        target.close()
        report["seed_seconds"] = round(time.perf_counter() - began, 1)
        print(f"seeded {args.calls} calls in {report['seed_seconds']} s", flush=True)
        server.start()
        erp = {"Authorization": f"Bearer {key}"}
        contractor_id = server.get_json(f"/call/{max(1, args.calls // max(1, args.own))}", erp)["userId"]
        with httpx.Client(base_url=server.base, timeout=30) as client:
            changed = client.post(f"/user/{contractor_id}/changePassword", json={"newPassword": PASSWORD}, headers=erp)
            if changed.status_code != 204:
                raise RuntimeError(f"changePassword answered {changed.status_code}")
            salt = os.urandom(16)
            hashed = hashlib.sha256(hashlib.sha256(PASSWORD.encode()).digest() + salt).digest()
            tokens = client.post(
                "/user/signin",
                json={
                    "userName": CONTRACTOR,
                    "salt": base64.b64encode(salt).decode(),
                    "hashedPassword": base64.b64encode(hashed).decode(),
                },
            ).json()
        contractor = {"Authorization": f"Bearer {tokens['access']['token']}"}

        print("  full sync ...", flush=True)
        wait_for_quiet(args.quiet_wait)
        spy = profiler(args, server, "sync")
        try:
            cpu_before = server.cpu_seconds()
            report["full_sync"] = full_sync(server.base, erp, args.page, args.calls)
            report["full_sync"]["server_cpu_seconds"] = round(server.cpu_seconds() - cpu_before, 2)
        finally:
            stop(spy)
        if not args.pg:
            report["bare_feed"] = bare_feed(server.data_dir / "cabinet.sqlite3", company_id(server), args.page)
        if args.only_sync:
            print_sync(report)
            return 0

        port = server.port
        streams = {
            "health": Stream("health", http_request("GET", "/health", port=port), args.connections),
            "list": Stream(
                "list", http_request("GET", "/call?limit=50", headers=contractor, port=port), args.connections
            ),
            "list_all": Stream(
                "list_all", http_request("GET", "/call?limit=50", headers=erp, port=port), args.connections
            ),
            "one": Stream(
                "one", http_request("GET", f"/call/{args.calls // 2}", headers=erp, port=port), args.connections
            ),
        }
        report["load"] = {}
        for name, stream in streams.items():
            busy = wait_for_quiet(args.quiet_wait)
            print(f"  load: {name} (other load before: {busy:.2f} cores) ...", flush=True)
            spy = profiler(args, server, name)
            try:
                result = run_phase(loader, server, [stream], seconds=args.seconds, warmup=args.warmup)
            finally:
                stop(spy)
            figures = result["streams"][name]
            if figures["errors"]:
                raise RuntimeError(f"{name}: {figures['errors']} errors, first: {figures['first_error']}")
            report["load"][name] = {
                "rps": round(figures["rps"], 1),
                "p50_ms": round(figures["p50_ms"], 1),
                "p99_ms": round(figures["p99_ms"], 1),
                "server_cpu_pct": round(result["server_cpu_pct"]),
                "other_cpu_pct": round(result["other_cpu_pct"]),
            }

    health = report["load"]["health"]["rps"]
    print_sync(report)
    print(f"\n{'phase':<36}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs /health':>12}")
    own = min(args.own, args.calls)
    for name, title in (
        ("health", "GET /health (baseline)"),
        ("list", f"GET /call?limit=50 ({own} own)"),
        ("list_all", f"GET /call?limit=50 (ERP, {args.calls})"),
        ("one", "GET /call/{id}"),
    ):
        figures = report["load"][name]
        ratio = figures["rps"] / health if health else 0.0
        print(f"{title:<36}{figures['rps']:>10.1f}{figures['p50_ms']:>9.1f}{figures['p99_ms']:>9.1f}{ratio:>11.0%}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"contractor{'-pg' if args.pg else ''}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nfigures written to {path}")
    return 0


if __name__ == "__main__":
    run_script(main)
