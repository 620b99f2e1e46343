"""One row written by many at once: ``./dev bench bench/row_contention.py [--transactions 300] [--repeats 3]``.

What PostgreSQL spends on the transaction of an authenticated write (``PUT /account/info``: read the user, insert
its audit record, update the user) when 16 connections run it side by side, without cabinet in between (asyncpg
straight to a private cluster migrated to cabinet's schema, ``_stack``'s PostgreSQL): all on one user, or each
connection on a user of its own, with the audit table's foreign keys and without them. The foreign-key check of
each audit insert takes a share lock on the user's row, and every update of that row while another transaction
holds one makes PostgreSQL build a MultiXact: the one-user case is the ``write_one_user`` figure of
``bench/scaleout.py``.

Prints PostgreSQL's CPU per transaction (its backends, from /proc) and transactions per second, the median of
``--repeats`` runs of ``--transactions`` per connection; the 16-user run with foreign keys is the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid

import asyncpg

from _load import ROOT, process_cpu_seconds, run_script
from _stack import PrivatePostgres
from cabinet.migrations import upgrade
from cabinet.settings import Settings

CONNECTIONS = 16
UPDATE = "UPDATE user_account SET specification = 's', edited_at = $1 WHERE id = $2"
AUDIT = (
    "INSERT INTO audit_action (process_code, request_code, company_id, user_id, username, company_key, service, "
    "process_type, operation, env, pod, status, message, http_status, started_at, duration_seconds, billing_date, "
    "request_points, result_elements, input_digest, input_blob, output_blob) VALUES ($1, $2, 1, $3, 'u', 'bench', "
    "'account', 'trace', 'update_info', 'bench', 'bench', 'ok', NULL, 200, $4, 0.01, $5, 1, 0, NULL, 'in', 'out')"
)


def postgres_cpu(server: PrivatePostgres) -> float:
    pids = server.pids()
    return sum(process_cpu_seconds(p, reaped_children=p == pids[0]) for p in pids)


async def writer(pool: asyncpg.Pool, user_ids: list[int], count: int) -> None:
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        for n in range(count):
            user = user_ids[n % len(user_ids)]
            async with conn.transaction():
                await conn.fetchrow("SELECT * FROM user_account WHERE id = $1", user)
                await conn.execute(AUDIT, uuid.uuid4(), uuid.uuid4(), user, now, now.date())
                await conn.execute(
                    "UPDATE user_account SET specification = 's', edited_at = $1 WHERE id = $2", now, user
                )


async def measure(server: PrivatePostgres, pool: asyncpg.Pool, one_user: bool, count: int) -> tuple[float, float]:
    cpu, began = postgres_cpu(server), time.perf_counter()
    await asyncio.gather(*(writer(pool, [1] if one_user else [c + 1], count) for c in range(CONNECTIONS)))
    elapsed, total = time.perf_counter() - began, CONNECTIONS * count
    return (postgres_cpu(server) - cpu) / total * 1e6, total / elapsed


async def run(args: argparse.Namespace, server: PrivatePostgres) -> list[tuple[str, float, float]]:
    conn = await asyncpg.connect(server.url)
    await conn.execute(
        "INSERT INTO company (id, key, timezone, created_at, edited_at) VALUES (1, 'bench', 0, now(), now())"
    )
    await conn.executemany(
        "INSERT INTO user_account (id, username, company_id, timezone, attributes, token_version, created_at, "
        "edited_at, enabled, roles) VALUES ($1, $2, 1, 0, '[]', 0, now(), now(), true, '[\"USER\"]')",
        [(n, f"user_{n}") for n in range(1, CONNECTIONS + 1)],
    )
    pool = await asyncpg.create_pool(server.url, min_size=CONNECTIONS, max_size=CONNECTIONS)
    rows = []
    try:
        for keys in ("with foreign keys", "without foreign keys"):
            if keys == "without foreign keys":
                await conn.execute(
                    "ALTER TABLE audit_action DROP CONSTRAINT fk_audit_action_company_id_company, "
                    "DROP CONSTRAINT fk_audit_action_user_id_user_account"
                )
            for one_user in (False, True):
                await measure(server, pool, one_user, 20)  # warm-up
                runs = [await measure(server, pool, one_user, args.transactions) for _ in range(args.repeats)]
                label = f"{'1 user ' if one_user else '16 users'}, {keys}"
                rows.append((label, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))
                print(f"  {label:<32} {rows[-1][1]:8.0f} us of PostgreSQL CPU   {rows[-1][2]:7.0f} txn/s", flush=True)
    finally:
        await pool.close()
        await conn.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--transactions", type=int, default=300, help="per connection and run (default 300)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case; the median is shown (default 3)")
    args = parser.parse_args()
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        upgrade(Settings(database_url=server.url, data_dir=ROOT / "var" / "bench-row-contention", secret_key="x" * 64))
        print(f"{CONNECTIONS} connections, read + audit insert + update per transaction (PostgreSQL on {server.port})")
        rows = asyncio.run(run(args, server))
    finally:
        server.destroy()
    baseline = rows[0][1]
    print()
    for label, cpu, _ in rows:
        print(f"  {label:<32} {cpu / baseline:5.2f}x the PostgreSQL CPU of 16 users with foreign keys")
    return 0


if __name__ == "__main__":
    run_script(main)
