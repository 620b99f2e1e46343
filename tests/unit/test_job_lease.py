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
