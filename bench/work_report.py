"""Work report benchmark against the real server: ``./dev bench bench/work_report.py [--photos 20]``.

Starts ``cabinet serve`` (1 worker, fresh embedded SQLite data dir) with a tenant whose external system dispatches
a call to a contractor, who accepts it, completes its task and attaches ``--photos`` camera-sized JPEGs
(``--width`` x 3/4 of it, photographic noise so they do not compress to nothing). Then, ``--rounds`` times each:

1. Baseline: ``GET /call/{id}`` of the same call (its JSON with the photos' metadata), same server, same run.
2. ``GET /call/{id}/report.pdf``: seconds, and the server process's resident memory sampled every 5 ms (growth
   over its level before the request). Targets: at most ``--max-seconds`` (2) and ``--max-rss-growth`` MB (100).
3. ``GET /call/{id}/evidence.zip`` (the report plus every original), read as a stream: seconds, MB/s, memory.

The machine may be shared: the server's CPU seconds per request are printed too (wall time on a loaded box
counts other jobs' time). The first round includes the process's first use of the font and the PDF library (its
own row, "cold"). Prints a table (median and worst, ratio to the baseline) and writes every figure to
``bench/results/work_report-<timestamp>.json``. Exit status 0, 1 when a target is missed, 2 when the run failed.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from _load import Server, machine, process_cpu_seconds, source_revision, wait_for_quiet
from attachments import CONTRACTOR, RssSampler, setup

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MB = 1024 * 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--photos", type=int, default=20, help="photos attached to the call (default 20)")
    parser.add_argument("--width", type=int, default=2560, help="photo width in pixels (default 2560)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds after the cold one (default 5)")
    parser.add_argument("--max-seconds", type=float, default=2.0, help="target for the PDF (default 2 s)")
    parser.add_argument("--max-rss-growth", type=float, default=100.0, help="target for the PDF (default 100 MB)")
    parser.add_argument("--quiet-wait", type=float, default=20.0, help="wait up to this long for an idle machine")
    args = parser.parse_args(argv)
    if args.photos < 1 or args.width < 64 or args.rounds < 1:
        parser.error("--photos >= 1, --width >= 64, --rounds >= 1")
    return args


def photo(width: int, seed: int) -> bytes:
    """A camera-like JPEG: a gradient scene with fine noise (quality 90, about what a phone writes)."""
    height = width * 3 // 4
    rng = random.Random(seed)
    small = Image.new("RGB", (64, 48))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(64 * 48)])
    scene = small.resize((width, height), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(scene, noise, 0.25)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def timed_get(base: str, headers: dict[str, str], path: str) -> tuple[float, int, bytes]:
    with httpx.Client(base_url=base, timeout=120) as client:
        began = time.perf_counter()
        answer = client.get(path, headers=headers)
        elapsed = time.perf_counter() - began
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:200]}")
    return elapsed, len(answer.content), answer.content[:5]


def measured(pid: int, action: functools.partial[Any]) -> dict[str, float]:
    cpu = process_cpu_seconds(pid)
    with RssSampler(pid) as rss:
        elapsed, size, _ = action()
    cpu = process_cpu_seconds(pid) - cpu
    return {"seconds": elapsed, "server_cpu_seconds": cpu, "bytes": size, "rss_growth_mb": rss.growth_mb}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    print(f"cabinet work report benchmark: {args.photos} photos of {args.width} px, {args.rounds} rounds", flush=True)
    report: dict[str, Any] = {"started": started.isoformat(), "machine": machine(), "source": source_revision()}
    photos = [photo(args.width, n) for n in range(args.photos)]
    report["photo_bytes_total"] = sum(len(p) for p in photos)
    rows: dict[str, list[dict[str, float]]] = {"baseline": [], "cold": [], "pdf": [], "evidence": []}
    with Server() as server:
        erp, me, task_id = setup(server)
        with httpx.Client(base_url=server.base, timeout=120) as client:
            for n, data in enumerate(photos):
                answer = client.post(
                    f"/calltask/{task_id}/attachment",
                    headers=me,
                    files={"Attachment": (f"photo-{n + 1:02d}.jpg", data, "image/jpeg")},
                )
                if answer.status_code != 200 or answer.json()["type"] != "JPEG":
                    raise RuntimeError(f"upload: {answer.status_code} {answer.text[:200]}")
            call_id = client.get("/call", headers=me).json()[0]["id"]  # the contractor's only call
        pid = server.pid
        get = functools.partial(timed_get, server.base, erp)
        rows["cold"].append(measured(pid, functools.partial(get, f"/call/{call_id}/report.pdf")))
        for _ in range(args.rounds):
            wait_for_quiet(args.quiet_wait)
            rows["baseline"].append(measured(pid, functools.partial(get, f"/call/{call_id}")))
            rows["pdf"].append(measured(pid, functools.partial(get, f"/call/{call_id}/report.pdf")))
            rows["evidence"].append(measured(pid, functools.partial(get, f"/call/{call_id}/evidence.zip")))
        head = get(f"/call/{call_id}/report.pdf")[2]
        if head != b"%PDF-":
            raise RuntimeError("the report is not a PDF")
    report["rounds"] = rows
    report["contractor"] = CONTRACTOR

    def summary(name: str) -> dict[str, float]:
        seconds = [r["seconds"] for r in rows[name]]
        return {
            "median_seconds": round(statistics.median(seconds), 4),
            "worst_seconds": round(max(seconds), 4),
            "median_server_cpu_seconds": round(statistics.median(r["server_cpu_seconds"] for r in rows[name]), 4),
            "bytes": int(rows[name][-1]["bytes"]),
            "max_rss_growth_mb": round(max(r["rss_growth_mb"] for r in rows[name]), 1),
        }

    report["summary"] = {name: summary(name) for name in rows}
    base = report["summary"]["baseline"]["median_seconds"]
    print(
        f"\n{'':<36}{'median s':>10}{'worst s':>10}{'vs baseline':>13}{'server CPU s':>14}{'size':>12}"
        f"{'RSS growth':>13}"
    )
    for name, label in (
        ("baseline", "baseline: GET /call/{id}"),
        ("cold", "report.pdf, first (cold)"),
        ("pdf", f"report.pdf, {args.photos} photos"),
        ("evidence", "evidence.zip (streamed)"),
    ):
        row = report["summary"][name]
        ratio = row["median_seconds"] / base if base else 0.0
        print(
            f"{label:<36}{row['median_seconds']:>10.3f}{row['worst_seconds']:>10.3f}{ratio:>12.1f}x"
            f"{row['median_server_cpu_seconds']:>14.3f}{row['bytes'] / MB:>10.2f}MB{row['max_rss_growth_mb']:>10.1f} MB"
        )
    failures = []
    pdf = report["summary"]["pdf"]
    if pdf["worst_seconds"] > args.max_seconds:
        failures.append(f"report.pdf took {pdf['worst_seconds']:.2f} s (target {args.max_seconds} s)")
    if pdf["max_rss_growth_mb"] > args.max_rss_growth:
        failures.append(f"report.pdf grew the server by {pdf['max_rss_growth_mb']} MB (target {args.max_rss_growth})")
    report["failures"] = failures
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"work_report-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nfigures: {out}")
    for failure in failures:
        print(f"TARGET MISSED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
