"""Thumbnail memory against the real server: ``./dev bench bench/thumbnails.py [--side 6000] [--parallel 16]``.

Starts ``cabinet serve`` (1 worker, fresh embedded SQLite data dir), uploads a ``--side`` x ``--side`` PNG (a
gradient: a small file of many pixels, the shape of the issue's 154 KB 6300 x 6300 attack) as a contractor's task
result, makes a field link for the call, then:

1. ``--parallel`` requests at once for ``/ui/link/{token}/tasks/{id}/attachments/{id}/thumb`` (no account needed):
   the first thumbnail is made here (one decode at a time per process) and stored;
2. the same again: every answer comes from the stored copy.

The server's resident memory (VmRSS of its process, sampled every 5 ms) before, at its peak during each round and
after, and each round's wall time. Target: the first round adds at most 200 MB to the resident memory (one full
decode of a 6000 x 6000 PNG is ~144 MB of pixels in Pillow). Writes the figures to
``bench/results/thumbnails-<timestamp>.json``. Exit status 0 within the target, 1 above it, 2 the run failed.
"""

from __future__ import annotations

import argparse
import io
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
from PIL import Image

from _load import Server, machine, run_script, save_report, source_revision
from attachments import RssSampler, rss_kib, setup

TARGET_MB = 200.0


def gradient_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((side, side)).convert("RGB").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def burst(base: str, path: str, parallel: int) -> tuple[float, set[bytes]]:
    def one(_: int) -> bytes:
        with httpx.Client(base_url=base, timeout=300) as client:
            answer = client.get(path)
        if answer.status_code != 200:
            raise RuntimeError(f"thumbnail: {answer.status_code} {answer.text[:200]}")
        return answer.content

    began = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        bodies = set(pool.map(one, range(parallel)))
    return time.perf_counter() - began, bodies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--side", type=int, default=6000, help="the PNG's width and height in pixels (6000)")
    parser.add_argument("--parallel", type=int, default=16, help="thumbnail requests at once (16)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    report: dict[str, Any] = {"started": started.isoformat(), "machine": machine(), "source": source_revision()}
    png = gradient_png(args.side)
    print(f"cabinet thumbnail memory: a {args.side}x{args.side} PNG of {len(png) / 1024:.0f} KiB, "
          f"{args.parallel} parallel requests per round")  # fmt: skip
    with Server() as server:
        erp, me, task_id = setup(server)
        with httpx.Client(base_url=server.base, timeout=120) as client:
            uploaded = client.post(
                f"/calltask/{task_id}/attachment", headers=me, files={"Attachment": ("big.png", png, "image/png")}
            )
            if uploaded.status_code != 200:
                raise RuntimeError(f"upload: {uploaded.status_code} {uploaded.text[:200]}")
            calls = client.get("/call", headers=me).json()
            call_id = calls[0]["id"]  # the contractor's one call
            token = client.post(f"/call/{call_id}/templink", headers=me).json()
        path = f"/ui/link/{token}/tasks/{task_id}/attachments/{uploaded.json()['id']}/thumb"
        time.sleep(1.0)
        baseline = rss_kib(server.pid) / 1024
        print(f"  server resident before: {baseline:7.1f} MB")
        rounds = []
        for name in ("first (made and stored)", "again (stored copy)"):
            with RssSampler(server.pid) as rss:
                seconds, bodies = burst(server.base, path, args.parallel)
            if len(bodies) != 1:
                raise RuntimeError("the answers differ")
            row = {
                "round": name,
                "seconds": round(seconds, 3),
                "peak_mb": round(rss.peak / 1024, 1),
                "growth_over_baseline_mb": round(rss.peak / 1024 - baseline, 1),
                "after_mb": round(rss_kib(server.pid) / 1024, 1),
                "thumbnail_bytes": len(next(iter(bodies))),
            }
            rounds.append(row)
            print(f"  {name:24s} {seconds:6.2f} s   peak {row['peak_mb']:7.1f} MB "
                  f"(+{row['growth_over_baseline_mb']:6.1f} MB)   after {row['after_mb']:7.1f} MB")  # fmt: skip
    growth = max(r["growth_over_baseline_mb"] for r in rounds)
    verdict = "PASS" if growth <= TARGET_MB else "FAIL"
    print(f"  largest growth over the baseline: {growth:.1f} MB (target <= {TARGET_MB:.0f} MB) {verdict}")
    report.update(png_bytes=len(png), side=args.side, parallel=args.parallel, baseline_mb=baseline, rounds=rounds)
    print(f"figures: {save_report('thumbnails', started, report)}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    run_script(main)
