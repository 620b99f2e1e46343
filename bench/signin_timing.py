"""Contractor sign-in timing, known vs unknown name: ``./dev bench bench/signin_timing.py [--rounds 20]``.

Starts ``cabinet serve`` (1 worker, fresh embedded SQLite data dir) with the sign-in throttles raised out of the
way, registers a contractor through the contractor API, then sends ``--rounds`` wrong sign-ins
(``POST /user/signin`` with a wrong password) for the known name and as many for a name that does not exist,
interleaved (the order alternating each round) after a warm-up, over one keep-alive connection; that set is
measured ``--sets`` times (the machine may be shared: one set of 20 can catch a neighbour's burst).

Prints, per set, the median of each name's 20 times and their difference in % of the unknown name's median, then
the median of those differences (target: under 10 %: the time of an answer must not say whether a name
exists) and the medians over all sets. Writes the figures to
``bench/results/signin_timing-<timestamp>.json``. Exit status 0 within the target, 1 above it, 2 the run failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from _load import Server, machine, run_script, save_report, source_revision, wait_for_quiet

COMPANY = "timing_company"
ERP = "timing_erp"
PASSWORD = "timing-password-1234"
TARGET_PERCENT = 10.0


def body(username: str, password: str) -> dict[str, str]:
    salt = os.urandom(16)
    hashed = hashlib.sha256(hashlib.sha256(password.encode()).digest() + salt).digest()
    return {
        "userName": username,
        "salt": base64.b64encode(salt).decode(),
        "hashedPassword": base64.b64encode(hashed).decode(),
    }


def timed(client: httpx.Client, username: str) -> float:
    started = time.perf_counter()
    answer = client.post("/user/signin", json=body(username, "wrong-password-0"))
    elapsed = time.perf_counter() - started
    if answer.status_code != 401 or answer.json() != {"errorCode": 1}:
        raise RuntimeError(f"a wrong sign-in answered {answer.status_code} {answer.text[:200]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=20, help="wrong sign-ins per name (default 20)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured sign-ins per name first (default 5)")
    parser.add_argument("--sets", type=int, default=5, help="sets of --rounds sign-ins per name (default 5)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    report: dict[str, Any] = {"started": started.isoformat(), "machine": machine(), "source": source_revision()}
    with Server() as server:
        server.env.update(
            CABINET_LOGIN_FAILURES_PER_USERNAME="100000/15 minutes", CABINET_LOGIN_FAILURES_PER_IP="100000/15 minutes"
        )
        server.cli("migrate")
        server.cli("users", "create", "--username", ERP, "--password", PASSWORD, "--company", COMPANY, "--role", "BOT")
        key = server.cli("keys", "create", "--username", ERP).split()[-1]
        server.start()
        known = "timing_contractor"
        with httpx.Client(base_url=server.base, timeout=30) as client:
            made = client.post(
                "/user/register",
                json={"userName": known, "password": PASSWORD},
                headers={"Authorization": f"Bearer {key}"},
            )
            if made.status_code != 200:
                raise RuntimeError(f"register answered {made.status_code} {made.text[:200]}")
            names = {"known": known, "unknown": "nobody_by_this_name"}
            for _ in range(args.warmup):
                for name in names.values():
                    timed(client, name)
            sets: list[dict[str, list[float]]] = []
            for _ in range(args.sets):
                wait_for_quiet(10)
                times: dict[str, list[float]] = {"known": [], "unknown": []}
                for round_ in range(args.rounds):
                    order = list(names.items()) if round_ % 2 == 0 else list(reversed(names.items()))
                    for label, name in order:
                        times[label].append(timed(client, name))
                sets.append(times)
    print(f"contractor POST /user/signin, {args.rounds} wrong sign-ins per name and set (after {args.warmup} warm-up)")
    differences = []
    for number, times in enumerate(sets, 1):
        medians = {label: statistics.median(values) for label, values in times.items()}
        differences.append(abs(medians["known"] - medians["unknown"]) / medians["unknown"] * 100)
        print(
            f"  set {number}: known median {medians['known'] * 1000:6.2f} ms, unknown median "
            f"{medians['unknown'] * 1000:6.2f} ms, difference {differences[-1]:5.1f} %"
        )
    pooled = {label: [v for times in sets for v in times[label]] for label in ("known", "unknown")}
    for label, values in pooled.items():
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        print(f"  all sets, {label:8s} median {statistics.median(values) * 1000:6.2f} ms   p90 {p90 * 1000:6.2f} ms")
        report[label] = {"median_ms": statistics.median(values) * 1000, "p90_ms": p90 * 1000}
    report["sets"] = [{k: [round(v * 1000, 3) for v in vs] for k, vs in times.items()} for times in sets]
    difference = statistics.median(differences)
    verdict = "PASS" if difference < TARGET_PERCENT else "FAIL"
    print(f"  median difference over {len(sets)} sets: {difference:.1f} % of the unknown name's median "
          f"(target < {TARGET_PERCENT:.0f} %) {verdict}")  # fmt: skip
    report["difference_percent"] = difference
    print(f"figures: {save_report('signin_timing', started, report)}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    run_script(main)
