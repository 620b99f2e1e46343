"""Prometheus metrics: requests by API, operation and status, latency, quota refusals, login failures.

With several worker processes (``cabinet serve --workers N``) the CLI points ``PROMETHEUS_MULTIPROC_DIR`` at a
fresh directory before the workers start, and ``/metrics`` aggregates every worker's files; a single process
keeps its metrics in memory. Label values are bounded (operation ids, status codes), never paths or users.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import tracemalloc
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "cabinet_http_requests_total",
    "HTTP requests answered, by API, operation and status.",
    ["api", "operation", "status"],
)
LATENCY = Histogram(
    "cabinet_http_request_duration_seconds",
    "Time from the first byte in to the last byte out, by API and operation.",
    ["api", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
QUOTA_REFUSALS = Counter(
    "cabinet_quota_refusals_total",
    "Requests refused by a quota or limit, by service and reason.",
    ["service", "reason"],
)
WEBHOOK_DELIVERIES = Counter(
    "cabinet_webhook_deliveries_total", "Webhook delivery attempts, by result (delivered, failed).", ["result"]
)
WEBHOOK_OLDEST_PENDING = Gauge(
    "cabinet_webhook_oldest_undelivered_seconds",
    "Age of the oldest event not yet delivered to an endpoint.",
    multiprocess_mode="max",
)
LOGIN_FAILURES = Counter("cabinet_login_failures_total", "Failed password sign-ins, by reason.", ["reason"])


def observe_request(api: str | None, operation: str | None, status: int, seconds: float) -> None:
    api_label = api or "root"
    operation_label = operation or "unrouted"
    REQUESTS.labels(api_label, operation_label, str(status)).inc()
    LATENCY.labels(api_label, operation_label).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The text exposition of this process's metrics, or of every worker's when several share a port."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def install_memory_snapshots(data_dir: Path) -> bool:
    """A diagnosis of memory growth: when Python traces allocations (``PYTHONTRACEMALLOC=<frames>`` in the
    process's environment), SIGUSR2 writes a tracemalloc snapshot to ``<data_dir>/tracemalloc/<pid>-<n>.snapshot``
    (``bench/soak.py --tracemalloc`` compares two of them to name what grew). Off otherwise: tracing allocations
    slows every one of them. Returns whether it was installed."""
    if not tracemalloc.is_tracing():
        return False
    folder = data_dir / "tracemalloc"
    folder.mkdir(parents=True, exist_ok=True)
    taken = itertools.count(1)

    def dump() -> None:
        tracemalloc.take_snapshot().dump(str(folder / f"{os.getpid()}-{next(taken)}.snapshot"))

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, dump)
    return True
