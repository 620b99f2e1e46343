"""Attachment benchmark against the real server: ``./dev bench bench/attachments.py [--megabytes 20]``.

Starts ``cabinet serve`` (1 worker, fresh embedded SQLite data dir) on a free loopback port, with a tenant whose
external system (a BOT with an API key) dispatches a call to a contractor, who accepts it and completes a task.
Then, ``--rounds`` times each:

1. Baselines of the same run: raw loopback TCP (``--megabytes`` sent through a socket to a thread that discards
   them) and the disk (the same bytes written with fsync into the server's data directory).
2. Upload: ``POST /calltask/{id}/attachment`` of a ``--megabytes`` ZIP (stored, random content) as multipart:
   MB/s, and the server process's resident memory sampled every 5 ms (growth over its level before the request).
3. Download: the contractor's ``GET .../download`` of that file, read as a stream: MB/s and memory as above; the
   bytes are checked against what was sent.

Prints a table (best and median of the rounds, next to the baselines) and writes every figure to
``bench/results/attachments-<timestamp>.json``. Exit status 0, or 2 when the run itself failed (a wrong answer, or
the server's memory grew by more than ``--max-rss-growth`` MB while moving a file).
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import io
import json
import os
import socket
import statistics
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from _load import HOST, Server, machine, source_revision, wait_for_quiet

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COMPANY = "bench_company"
ERP = "bench_erp"
CONTRACTOR = "bench_contractor"
PASSWORD = "bench-password-1234"
MB = 1024 * 1024
CHUNK = 256 * 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--megabytes", type=int, default=20, help="size of the file moved (default 20 MiB, max 24)")
    parser.add_argument("--rounds", type=int, default=3, help="uploads and downloads measured (default 3)")
    parser.add_argument("--max-rss-growth", type=float, default=30.0, help="fail above this growth, MB (30)")
    parser.add_argument("--quiet-wait", type=float, default=10.0, help="wait up to this long for an idle machine")
    args = parser.parse_args(argv)
    if not 1 <= args.megabytes <= 24 or args.rounds < 1:
        parser.error("--megabytes 1..24 (the default CABINET_ATTACHMENT_MAX_BYTES is 25 MiB), --rounds >= 1")
    return args


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler:
    """The peak resident memory of a process while a block runs (sampled every 5 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = rss_kib(pid)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.005)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1024


def make_zip(size: int) -> bytes:
    """A ZIP archive of about ``size`` bytes: one stored member of random bytes (nothing to compress)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("payload.bin", os.urandom(size - 200))
    return buffer.getvalue()


def loopback_baseline(data: bytes) -> float:
    """MB/s of the bytes through a loopback TCP socket into a thread that discards them."""
    listener = socket.create_server((HOST, 0))
    port = listener.getsockname()[1]
    received = 0

    def sink() -> None:
        nonlocal received
        connection, _ = listener.accept()
        with connection:
            while chunk := connection.recv(CHUNK):
                received += len(chunk)

    thread = threading.Thread(target=sink)
    thread.start()
    began = time.perf_counter()
    with socket.create_connection((HOST, port)) as sender:
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            sender.sendall(view[start : start + CHUNK])
    thread.join()
    elapsed = time.perf_counter() - began
    listener.close()
    assert received == len(data)
    return len(data) / MB / elapsed


def disk_baseline(data: bytes, directory: Path) -> float:
    """MB/s of the bytes written (and fsynced) into a file of ``directory``."""
    path = directory / "baseline.bin"
    began = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            os.write(fd, view[start : start + CHUNK])
        os.fsync(fd)
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - began
    path.unlink()
    return len(data) / MB / elapsed


def measured(pid: int, size: int, action: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    with RssSampler(pid) as rss:
        began = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - began
    return {"seconds": elapsed, "mb_per_s": size / MB / elapsed, "rss_growth_mb": rss.growth_mb}, result


def setup(server: Server) -> tuple[dict[str, str], dict[str, str], int]:
    """The ERP's and a contractor's headers (the ERP registers it), and a Done task of its Committed call."""
    server.cli("migrate")
    server.cli("users", "create", "--username", ERP, "--password", PASSWORD, "--company", COMPANY, "--role", "BOT")
    erp = {"Authorization": f"Bearer {server.cli('keys', 'create', '--username', ERP).split()[-1]}"}
    server.start()

    def ok(answer: httpx.Response) -> Any:
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    with httpx.Client(base_url=server.base, timeout=60) as client:
        registered = client.post("/user/register", json={"userName": CONTRACTOR, "password": PASSWORD}, headers=erp)
        user_id = ok(registered)["id"]
        salt = os.urandom(16)
        hashed = hashlib.sha256(hashlib.sha256(PASSWORD.encode()).digest() + salt).digest()
        tokens = ok(
            client.post(
                "/user/signin",
                json={
                    "userName": CONTRACTOR,
                    "salt": base64.b64encode(salt).decode(),
                    "hashedPassword": base64.b64encode(hashed).decode(),
                },
            )
        )
        me = {"Authorization": f"Bearer {tokens['access']['token']}"}
        call = ok(
            client.post(
                "/call",
                json={
                    "availableExpenditureItems": [{"name": "Fuel"}],
                    "clientName": "Bench",
                    "created": "2026-11-20T09:00:00Z",
                    "descriptionHtmlText": "<p>bench</p>",
                    "descriptionTextForFieldEmployee": "bench",
                    "ownerId": user_id,
                    "serviceObjectAddress": "Loopback 1",
                    "serviceObjectLatitude": 0,
                    "serviceObjectLongitude": 0,
                    "serviceObjectName": "127.0.0.1",
                    "tasks": [{"title": "Photograph"}],
                },
                headers=erp,
            )
        )
        ok(client.post(f"/call/{call['id']}/status", json={"status": "Committed"}, headers=me))
        task_id = call["tasks"][0]["id"]
        ok(client.post(f"/calltask/{task_id}/status", json={"status": "Done"}, headers=me))
    return erp, me, task_id


def upload(base: str, headers: dict[str, str], task_id: int, data: bytes) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=120) as client:
        answer = client.post(
            f"/calltask/{task_id}/attachment",
            headers=headers,
            files={"Attachment": ("bench.zip", io.BytesIO(data), "application/zip")},
        )
    if answer.status_code != 200:
        raise RuntimeError(f"upload: {answer.status_code} {answer.text}")
    return answer.json()  # type: ignore[no-any-return]


def download(base: str, headers: dict[str, str], path: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with httpx.Client(base_url=base, timeout=120) as client, client.stream("GET", path, headers=headers) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"download: {answer.status_code}")
        for chunk in answer.iter_bytes(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    print(
        f"cabinet attachment benchmark: {os.cpu_count()} CPUs, {args.megabytes} MiB file, {args.rounds} rounds",
        flush=True,
    )
    report: dict[str, Any] = {"started": started.isoformat(), "machine": machine(), "source": source_revision()}
    data = make_zip(args.megabytes * MB)
    expected = hashlib.sha256(data).hexdigest()
    failures: list[str] = []
    rows: dict[str, list[dict[str, float]]] = {"loopback": [], "disk": [], "upload": [], "download": []}
    with Server() as server:
        _, me, task_id = setup(server)
        pid = server.pid
        for n in range(args.rounds):
            wait_for_quiet(args.quiet_wait)
            rows["loopback"].append({"mb_per_s": loopback_baseline(data)})
            rows["disk"].append({"mb_per_s": disk_baseline(data, server.data_dir)})
            figures, dto = measured(pid, len(data), functools.partial(upload, server.base, me, task_id, data))
            if dto["sha256"] != expected or dto["size"] != len(data) or dto["type"] != "ZIP":
                failures.append(f"round {n}: the stored file differs: {dto}")
            rows["upload"].append(figures)
            path = f"/calltask/{task_id}/attachment/{dto['id']}/download"
            figures, (size, digest) = measured(pid, len(data), functools.partial(download, server.base, me, path))
            if (size, digest) != (len(data), expected):
                failures.append(f"round {n}: the downloaded bytes differ ({size} bytes)")
            rows["download"].append(figures)
        report["server_rss_mb_after"] = round(rss_kib(pid) / 1024, 1)
    report["rounds"] = rows
    report["megabytes"] = args.megabytes

    def figures(name: str) -> dict[str, float]:
        speeds = [r["mb_per_s"] for r in rows[name]]
        out = {"best_mb_per_s": round(max(speeds), 1), "median_mb_per_s": round(statistics.median(speeds), 1)}
        if "rss_growth_mb" in rows[name][0]:
            out["max_rss_growth_mb"] = round(max(r["rss_growth_mb"] for r in rows[name]), 1)
        return out

    report["summary"] = {name: figures(name) for name in rows}
    loopback = report["summary"]["loopback"]["median_mb_per_s"]
    print(f"\n{'':<34}{'best MB/s':>12}{'median MB/s':>13}{'vs loopback':>13}{'RSS growth':>13}")
    for name, label in (
        ("loopback", "baseline: loopback TCP"),
        ("disk", "baseline: disk write + fsync"),
        ("upload", f"upload {args.megabytes} MiB (multipart)"),
        ("download", f"download {args.megabytes} MiB (stream)"),
    ):
        row = report["summary"][name]
        ratio = row["median_mb_per_s"] / loopback if loopback else 0.0
        growth = f"{row['max_rss_growth_mb']:.1f} MB" if "max_rss_growth_mb" in row else "-"
        print(f"{label:<34}{row['best_mb_per_s']:>12.1f}{row['median_mb_per_s']:>13.1f}{ratio:>12.2f}x{growth:>13}")
    for name in ("upload", "download"):
        growth = report["summary"][name]["max_rss_growth_mb"]
        if growth > args.max_rss_growth:
            failures.append(f"{name}: the server's memory grew by {growth:.1f} MB (limit {args.max_rss_growth} MB)")
    report["failures"] = failures
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"attachments-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nfigures: {out}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
