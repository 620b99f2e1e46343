"""A shared job runs once per period across processes: the first process to claim the period runs it."""

from __future__ import annotations

import asyncio
import os
import uuid

from cabinet.core.limits import JobLease, build_limit_storage


async def test_one_claim_per_period_on_the_configured_store() -> None:
    redis_url = os.environ.get("CABINET_TEST_REDIS_URL") or None
    prefix = f"cabinet-test-lease-{uuid.uuid4().hex[:8]}"
    # two stores = two processes (on Redis they share the keys; in memory one store is the one process)
    first = build_limit_storage(redis_url, key_prefix=prefix)
    second = build_limit_storage(redis_url, key_prefix=prefix) if redis_url else first
    now = [1_000_000.0]

    def clock() -> float:
        return now[0]

    leases = [JobLease(store, "retention", 3600, clock) for store in (first, second, first, second)]
    claims = await asyncio.gather(*(lease.claim() for lease in leases))
    assert sorted(claims) == [False, False, False, True]
    now[0] += 3600  # the next period: claimable once again
    claims = await asyncio.gather(*(lease.claim() for lease in leases))
    assert sorted(claims) == [False, False, False, True]
    other = JobLease(first, "another-job", 3600, clock)
    assert await other.claim()  # jobs do not share their periods


async def test_maintenance_waits_for_its_delay_then_runs_every_period() -> None:
    """A process's maintenance starts after its first minute (MAINTENANCE_DELAY_SECONDS), then runs each period."""
    from cabinet.wiring import MAINTENANCE_DELAY_SECONDS, _every

    assert MAINTENANCE_DELAY_SECONDS >= 30
    store = build_limit_storage(None, key_prefix=f"cabinet-test-lease-{uuid.uuid4().hex[:8]}")
    now = [0.0]
    lease = JobLease(store, "job", 1, lambda: now[0])
    runs: list[float] = []

    async def job() -> None:
        runs.append(asyncio.get_running_loop().time())
        now[0] += 1  # the next period

    started = asyncio.get_running_loop().time()
    task = asyncio.create_task(_every(0.05, job, lease, first_after=0.3))
    await asyncio.sleep(0.2)
    assert runs == []  # not during the delay
    await asyncio.sleep(0.35)
    task.cancel()
    assert len(runs) >= 3 and runs[0] - started >= 0.3, runs
