"""The sync proof across two app processes on one PostgreSQL: writers spread over both processes, a reader per
feed alternating between them; no change is ever skipped (tests/apis/contractor/support.py: sync_proof)."""

from __future__ import annotations

import httpx

from cabinet.domains.registry import Services
from tests.apis.contractor.support import make_tenant, sync_proof
from tests.helpers import SCALE_OUT

pytestmark = SCALE_OUT


async def test_no_change_is_skipped_across_two_processes(two_servers: list[str], services: Services) -> None:
    tenant = await make_tenant(services)
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in two_servers]
    try:
        polls = await sync_proof(clients, tenant, calls=12, page=5, rounds=4)
    finally:
        for client in clients:
            await client.aclose()
    assert polls > 3
