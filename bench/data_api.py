"""Data API benchmark: ``./dev bench bench/data_api.py [--seconds 5] [--users 100000] [--calls 100000]``.

Starts ``cabinet serve`` (1 worker, fresh embedded SQLite; with ``--pg`` PostgreSQL + Redis in a schema of the
run's own, see ``_backend.py``) with ``--users`` users and ``--calls`` calls (each
with two tasks, as bench/contractor.py seeds them) in one company, bulk-inserted before the server starts, then
drives it from a separate load-generator process (``_load.py``):

1. ``GET /health``                                       the bare baseline of the same stack
2. ``POST /v2.0`` ``get.users``: a 3-condition filter tree (``is_active = true`` and ``timezone >= 0`` and
   ``login like 'user_1%'``) sorted by ``creation_date`` desc, ``limit`` 100, with ``metadata.total_items``
3. ``GET /admin/users``: the REST list of the same company's users with the same text, sort and page
4. ``POST /v2.0`` ``get.calls`` as the external system (every call of the company): ``status = New`` and
   ``critical = true`` and ``is_expired = false``, sorted by ``ttf`` asc, ``limit`` 50, with ``total_items``
5. ``GET /call?status=New&critical=true&expired=false&sort=ttf&limit=50``: the contractor REST list of the same
   query for the same caller (its X-Total-Count must equal ``total_items``)

Prints requests/s, p50 and p99 and the ratios to /health and between each pair; writes them to
``bench/results/data_api-<timestamp>.json``. Exit status 0, or 2 when the run itself failed (a request not
answered 200, a JSON-RPC error, or the two call lists disagreeing on the count).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from _backend import SeedTarget, backend_env, postgres_schema
from _load import LoadProcess, Server, Stream, http_request, machine
from contractor import CONTRACTOR, ERP, OTHERS, profiler, stop
from contractor import seed as seed_calls

RESULTS_DIR = Path(__file__).resolve().parent / "results"
OWNER, PASSWORD, COMPANY = "bench_owner", "bench-password-1234", "bench_company"
GET_USERS = {
    "filter": {
        "condition": "and",
        "filters": [
            {"field": "is_active", "operator": "=", "value": True},
            {"field": "timezone", "operator": ">=", "value": 0},
            {"field": "login", "operator": "like", "value": "user_1%"},
        ],
    },
    "sort": [{"field": "creation_date", "order": "desc"}],
    "limit": 100,
    "fields": ["id", "login", "email", "timezone", "creation_date"],
}
REST_USERS = "/admin/users?filter=user_1&sort_field=creation_date&sort_direction=DESC&limit=100"
GET_CALLS = {
    "filter": {
        "condition": "and",
        "filters": [
            {"field": "status", "operator": "=", "value": "New"},
            {"field": "critical", "operator": "=", "value": True},
            {"field": "is_expired", "operator": "=", "value": False},
        ],
    },
    "sort": [{"field": "ttf", "order": "asc"}],
    "limit": 50,
}
REST_CALLS = "/call?status=New&critical=true&expired=false&sort=ttf&limit=50"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per phase (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up per phase (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--users", type=int, default=100_000, help="users in the company (default 100,000)")
    parser.add_argument("--calls", type=int, default=100_000, help="calls in the company (default 100,000)")
    parser.add_argument("--pg", action="store_true", help="cabinet on PostgreSQL + Redis instead of embedded SQLite")
    parser.add_argument("--profile", help="run py-spy (this path to its binary) on cabinet in each phase")
    return parser.parse_args(argv)


def seed_users(db: SeedTarget, count: int) -> None:
    """Bulk-insert ``count`` users into the owner's company (before the server starts)."""
    (company_id,) = db.one("SELECT id FROM company WHERE key = ?", (COMPANY,))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        at = start + timedelta(seconds=i * 17)
        rows.append(
            (
                f"user_{i}",
                company_id,
                i % 50 != 0,
                '["USER"]',
                f"u{i}@example.com" if i % 3 else None,
                i % 25 - 12,
                "[]",
                1,
                at,
                at,
            )
        )
    db.many(
        "INSERT INTO user_account (username, company_id, enabled, roles, email, timezone, attributes, "
        "token_version, created_at, edited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    env, schema = backend_env(args.pg, tag="bench_data")
    try:
        return measure(args, env, started)
    finally:
        if schema is not None:
            postgres_schema(env["CABINET_DATABASE_URL"], schema, create=False)


def measure(args: argparse.Namespace, env: dict[str, str], started: float) -> int:
    with Server(env=env) as server, LoadProcess() as loader:
        server.env.update(CABINET_DATA_DAY_POINTS_LIMIT="2000000000", CABINET_DATA_MINUTE_POINTS_LIMIT="2000000000")
        server.cli("migrate")
        server.cli(
            "users",
            "create",
            "--username",
            OWNER,
            "--password",
            PASSWORD,
            "--company",
            COMPANY,
            "--role",
            "COMPANYOWNER",
        )
        server.cli("networks", "allow", "--company", COMPANY, "--cidr", "127.0.0.1")
        key = server.cli("keys", "create", "--username", OWNER).split()[-1]
        for username, role in ((ERP, "BOT"), (CONTRACTOR, "USER"), (OTHERS, "USER")):
            server.cli(
                "users", "create", "--username", username, "--password", PASSWORD, "--company", COMPANY, "--role", role
            )
        erp_key = server.cli("keys", "create", "--username", ERP).split()[-1]
        began = time.monotonic()
        target = SeedTarget(server.env, server.data_dir)
        seed_users(target, args.users)
        seed_calls(target, args.calls, 1000)
        target.close()
        print(f"seeded {args.users} users and {args.calls} calls in {time.monotonic() - began:.0f} s", flush=True)
        server.start()
        token = server.post_json("/account/token/generation", {"username": OWNER, "password": PASSWORD})
        rpc = {"jsonrpc": "2.0", "id": "bench", "method": "get.users", "params": {"access_token": key, **GET_USERS}}
        check = server.post_json("/v2.0", rpc)
        if "result" not in check:
            print(f"get.users failed: {check}", file=sys.stderr)
            return 2
        rest = server.get_json(REST_USERS, {"Authorization": f"Bearer {token}"})
        auth = {"Authorization": f"Bearer {token}"}
        erp = {"Authorization": f"Bearer {erp_key}"}
        calls_rpc = {
            "jsonrpc": "2.0",
            "id": "bench",
            "method": "get.calls",
            "params": {"access_token": erp_key, **GET_CALLS},
        }
        calls_check = server.post_json("/v2.0", calls_rpc)
        if "result" not in calls_check:
            print(f"get.calls failed: {calls_check}", file=sys.stderr)
            return 2
        with httpx.Client(base_url=server.base, headers=erp, timeout=60) as http:
            rest_calls = http.get(REST_CALLS)
        call_matches = calls_check["result"]["metadata"]["total_items"]
        if rest_calls.status_code != 200 or int(rest_calls.headers["X-Total-Count"]) != call_matches:
            print(f"the call lists disagree: {rest_calls.status_code} {rest_calls.headers}", file=sys.stderr)
            return 2
        phases = {
            "health": http_request("GET", "/health", port=server.port),
            "data_api_get_users": http_request("POST", "/v2.0", body=rpc, port=server.port),
            "admin_rest_users": http_request("GET", REST_USERS, headers=auth, port=server.port),
            "data_api_get_calls": http_request("POST", "/v2.0", body=calls_rpc, port=server.port),
            "contractor_rest_calls": http_request("GET", REST_CALLS, headers=erp, port=server.port),
        }
        results: dict[str, Any] = {}
        for name, request in phases.items():
            spy = profiler(args, server, name)
            try:
                loader.submit(
                    server.port, [Stream(name, request, args.connections)], seconds=args.seconds, warmup=args.warmup
                )
                result = loader.collect()["streams"][name]
            finally:
                stop(spy)
            if result["errors"]:
                print(f"{name}: {result['errors']} errors, first: {result['first_error']}", file=sys.stderr)
                return 2
            results[name] = result
    health, data, admin, data_calls, rest_calls_rps = (results[n]["rps"] for n in phases)
    summary = {
        "backend": "postgresql+redis" if args.pg else "sqlite",
        "users": args.users,
        "calls": args.calls,
        "call_matches": call_matches,
        "calls_data_vs_rest": data_calls / rest_calls_rps,
        "matches": check["result"]["metadata"]["total_items"],
        "rest_matches": rest["counters"]["filter"]["total"] if "counters" in rest else None,
        "results": results,
        "data_vs_health": data / health,
        "rest_vs_health": admin / health,
        "data_vs_rest": data / admin,
        "machine": machine(),
        "wall_seconds": time.monotonic() - started,
    }
    print(f"{'phase':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'/health':>10}")
    for name in phases:
        r = results[name]
        print(f"{name:<24}{r['rps']:>10.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['rps'] / health:>10.2f}")
    print(
        f"get.users matches {summary['matches']} of {args.users} users; Data API / REST list: "
        f"{summary['data_vs_rest']:.2f}"
    )
    print(
        f"get.calls matches {call_matches} of {args.calls} calls; Data API / contractor REST list: "
        f"{summary['calls_data_vs_rest']:.2f}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"data_api{'-pg' if args.pg else ''}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
