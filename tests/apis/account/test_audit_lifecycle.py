"""Batched read audits are never lost: flushed by the background job and on shutdown."""

from __future__ import annotations

import asyncio

import httpx

from cabinet.app import create_app
from cabinet.core.clock import OffsetClock
from cabinet.settings import Settings
from tests.helpers import UserFactory, clean, login


async def test_reads_are_flushed_by_the_background_job(
    client: httpx.AsyncClient, make_user: UserFactory, services
) -> None:
    user = await make_user()
    token = await login(client, user)
    await client.get("/account/info", headers={"Authorization": f"Bearer {token}"})
    for _ in range(400):  # the flusher runs every 0.5 s (a loaded machine may take a while)
        if services.audit.pending == 0:
            break
        await asyncio.sleep(0.05)
    assert services.audit.pending == 0
    audit = await client.get("/account/audit", headers={"Authorization": f"Bearer {token}"})
    assert audit.json()["counters"]["filter"]["total"] >= 1


async def test_a_batch_being_written_is_still_pending(
    client: httpx.AsyncClient, make_user: UserFactory, services
) -> None:
    """``pending`` counts records until their write committed (it said 0 while a batch was being written, and a
    reader that waited for 0 could find no record yet)."""
    user = await make_user()
    token = await login(client, user)
    audit = services.audit
    await audit.flush()
    writing, release = asyncio.Event(), asyncio.Event()
    write = audit._write

    async def slow_write(batch):  # type: ignore[no-untyped-def]
        writing.set()
        await release.wait()
        await write(batch)

    audit._write = slow_write
    try:
        await client.get("/account/info", headers={"Authorization": f"Bearer {token}"})
        assert audit.pending == 1
        flushing = asyncio.create_task(audit.flush())
        await asyncio.wait_for(writing.wait(), 10)
        assert audit.pending == 1  # taken from the buffer, not committed yet
        release.set()
        await flushing  # (or the background flusher wrote it, waiting on the same lock: committed either way)
        assert audit.pending == 0
    finally:
        release.set()
        audit._write = write


async def test_shutdown_flushes_pending_audit(settings: Settings, clock: OffsetClock) -> None:
    slow = settings.model_copy(update={"audit_flush_interval_seconds": 60.0})
    application = create_app(slow, clock=clock)
    async with application.router.lifespan_context(application):
        services = application.state.runtime.services
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            user = await UserFactory(services)()
            token = await login(client, user)
            for _ in range(5):
                await client.get("/account/info", headers={"Authorization": f"Bearer {token}"})
            assert services.audit.pending == 5
    # after shutdown: a fresh app sees all five
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            token = await login(client, user)
            audit = await client.get("/account/audit", headers={"Authorization": f"Bearer {token}"})
            assert audit.json()["counters"]["filter"]["total"] == 5
        await clean(application)
