"""Webhook latency benchmark: ``./dev bench bench/webhooks.py [--seconds 10] [--rate 100]``.

Builds the app in this process on a fresh embedded SQLite data dir (its delivery worker running, as in every
server process), creates a company with an endpoint on a loopback HTTP receiver, then commits ``--rate`` changes
a second (``company.updated`` events) for ``--seconds``. Each event's latency is from the commit of its change to
the receiver reading the signed POST. The baseline, measured in the same run on the same loop: a plain POST of the
same body to the same receiver (what the network part alone costs).

Prints p50/p95/p99/max of both and the ratio of the p99s, PASS/FAIL against the target (p99 <= 1 s), and
writes the figures to ``bench/results/webhooks-<timestamp>.json``. Exit status: 0 pass, 1 fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from cabinet.app import create_app
from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.roles import Role
from cabinet.domains.webhooks.schemas import EndpointCommand
from cabinet.migrations import upgrade
from cabinet.settings import Settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COMPANY = "bench_hooks"
TARGET_P99_SECONDS = 1.0
OPERATOR = Principal(
    user_id=0,
    username="bench",
    company_id=0,
    company_key="bench",
    roles=(Role.OVERLORD,),
    timezone=0,
    credential=CredentialKind.ACCESS,
)


class Receiver:
    """A loopback HTTP/1.1 server (keep-alive) noting when each request's body was read."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.expected = 0
        self.all_in = asyncio.Event()
        self.plain: list[float] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                now = time.perf_counter()
                detail = json.loads(body).get("data", {}).get("detail")
                if "webhook-id" in headers and detail:
                    self.arrivals[detail] = now
                    if self.expected and len(self.arrivals) >= self.expected:
                        self.all_in.set()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": pick(0.50) * 1000,
        "p95_ms": pick(0.95) * 1000,
        "p99_ms": pick(0.99) * 1000,
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


async def run(settings: Settings, seconds: float, rate: float) -> dict[str, Any]:
    receiver = Receiver()
    await receiver.start()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services = app.state.runtime.services
        await services.directory.create_company(OPERATOR, COMPANY, "start")
        url = f"http://127.0.0.1:{receiver.port}/hook"
        await services.webhooks.create_endpoint(OPERATOR, COMPANY, EndpointCommand(url=url, events=["*"]))

        # baseline: the same body POSTed straight to the receiver
        async with httpx.AsyncClient() as client:
            body = json.dumps({"type": "baseline", "data": {}}).encode()
            for _ in range(int(rate * seconds / 4) or 1):
                started = time.perf_counter()
                await client.post(url, content=body, headers={"content-type": "application/json"})
                receiver.plain.append(time.perf_counter() - started)

        committed: dict[str, float] = {}
        total = int(seconds * rate)
        receiver.expected = total

        async def change(detail: str) -> None:
            await services.directory.update_company(OPERATOR, COMPANY, detail)
            committed[detail] = time.perf_counter()

        # open loop: a change starts every 1/rate s whether or not the earlier ones have committed
        interval = 1.0 / rate
        begin = time.perf_counter()
        writers = []
        for i in range(total):
            delay = begin + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            writers.append(asyncio.create_task(change(f"change-{i}")))
        await asyncio.gather(*writers)
        achieved = total / (time.perf_counter() - begin)
        try:
            await asyncio.wait_for(receiver.all_in.wait(), timeout=30)
        except TimeoutError:
            pass
    assert receiver.server is not None
    receiver.server.close()
    latencies = [receiver.arrivals[d] - t for d, t in committed.items() if d in receiver.arrivals]
    event = figures(latencies)
    base = figures(receiver.plain)
    return {
        "rate_target": rate,
        "rate_achieved": achieved,
        "events": len(committed),
        "delivered": len(latencies),
        "event_to_delivery": event,
        "baseline_plain_post": base,
        "p99_ratio_to_baseline": event["p99_ms"] / base["p99_ms"] if base["p99_ms"] else None,
        "target_p99_ms": TARGET_P99_SECONDS * 1000,
        "pass": len(latencies) == len(committed) and event["p99_ms"] <= TARGET_P99_SECONDS * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration (default 10)")
    parser.add_argument("--rate", type=float, default=100.0, help="committed changes per second (default 100)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            secret_key="bench-secret-key-0123456789abcdef",
            webhook_allow_private_networks=True,
            log_level="WARNING",
        )
        upgrade(settings)  # (runs its own event loop)
        result = asyncio.run(run(settings, args.seconds, args.rate))
    e, b = result["event_to_delivery"], result["baseline_plain_post"]
    print(f"writes/s target {result['rate_target']:.0f}, achieved {result['rate_achieved']:.1f}")
    print(f"events {result['events']}, delivered {result['delivered']}")
    print(f"{'':26}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, f in (("event -> delivery", e), ("baseline plain POST", b)):
        print(f"{name:26}{f['p50_ms']:9.1f}{f['p95_ms']:9.1f}{f['p99_ms']:9.1f}{f['max_ms']:9.1f}")
    print(f"p99 ratio to baseline: {result['p99_ratio_to_baseline']:.1f}x")
    print(f"target p99 <= {result['target_p99_ms']:.0f} ms: {'PASS' if result['pass'] else 'FAIL'}")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS_DIR / f"webhooks-{stamp}.json").write_text(json.dumps(result, indent=2))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
