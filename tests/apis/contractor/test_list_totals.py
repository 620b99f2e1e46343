"""``X-Total-Count`` of the call list, kept per process under the company's change number
(``domains/fieldservice/repository/call_counts.py``), on both backends: a list asked again is not counted again
while no call of the company changed; every change of a call (dispatched, accepted, a risk raised, closed), by this
process or another, shows in the next total; a total depending on the clock (``expired``) is always counted; two
companies, or a company's contractor and its external system, never share a total."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from cabinet.core.clock import OffsetClock
from cabinet.domains.fieldservice.calls import CallService
from cabinet.domains.fieldservice.states import CallStatus
from cabinet.domains.registry import Services
from tests.apis.contractor.support import Tenant, make_tenant
from tests.helpers import table_reads


def counts(statements: list[str]) -> int:
    return sum("count(" in statement.lower() for statement in statements)


async def total(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> int:
    answer = await client.get("/call", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return int(answer.headers["X-Total-Count"])


async def test_a_total_is_counted_once_per_change_of_the_company(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    owner_id, me = await tenant.contractor(client)
    calls = [await tenant.dispatch(client, owner_id) for _ in range(3)]
    with table_reads(app, "contractor_call") as first:
        assert await total(client, tenant.erp, limit=2) == 3
    assert counts(first) == 1
    with table_reads(app, "contractor_call") as again:
        assert await total(client, tenant.erp, limit=2) == 3
        assert await total(client, tenant.erp, limit=2, offset=2) == 3  # the next page: the same filters
    assert counts(again) == 0
    with table_reads(app, "contractor_call") as filtered:
        assert await total(client, tenant.erp, status="New") == 3
    assert counts(filtered) == 1  # other filters: counted the first time

    # each change of a call renews the company's change number: the next total is counted again, and exact
    await tenant.dispatch(client, owner_id)
    assert await total(client, tenant.erp, limit=2) == 4
    accepted = await client.post(f"/call/{calls[0]['id']}/status", json={"status": "Committed"}, headers=me)
    assert accepted.status_code == 200, accepted.text
    assert await total(client, tenant.erp, status="New") == 3
    assert await total(client, me, status="Committed") == 1
    risk = await client.post(f"/call/{calls[0]['id']}/jeopardy", json={"comment": "no parts"}, headers=me)
    assert risk.status_code == 200, risk.text
    assert await total(client, tenant.erp, jeopardy="true") == 1
    closed = await client.post(f"/call/{calls[0]['id']}/status", json={"status": "Done"}, headers=me)
    assert closed.status_code == 200, closed.text
    assert await total(client, tenant.erp, status="Committed") == 0
    assert await total(client, tenant.erp, status="Done") == 1
    assert await total(client, tenant.erp, limit=2) == 4


async def test_a_change_made_by_another_process_shows(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, services: Services
) -> None:
    """The totals are kept by one call service per process; a second one on the same database (another process)
    changes a call: this process's next total sees it, though it heard of nothing."""
    owner_id, me = await tenant.contractor(client)
    first = await tenant.dispatch(client, owner_id)
    await tenant.dispatch(client, owner_id)
    assert await total(client, me, status="New") == 2
    resources = app.state.runtime.resources
    elsewhere = CallService(resources.db, clock=resources.clock)
    assert elsewhere.calls.counts is not services.calls.calls.counts  # totals of its own
    principal = await services.identity.resolve_access_token(me["Authorization"].removeprefix("Bearer "))
    await elsewhere.change_status(principal, first["id"], CallStatus.COMMITTED, None)
    with table_reads(app, "contractor_call") as after:
        assert await total(client, me, status="New") == 1
    assert counts(after) == 1


async def test_a_total_of_the_clock_holds_until_the_next_deadline(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: OffsetClock
) -> None:
    """A total filtered by ``expired`` is kept until a call of the company could next become expired (its arrival
    or fix deadline passing), then counted again: exact at every moment, with no call changing."""
    owner_id, _ = await tenant.contractor(client)
    start = clock.now()

    def at(hours: float) -> str:
        return (start + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")

    await tenant.dispatch(client, owner_id, tto=at(2), ttf=at(5))
    await tenant.dispatch(client, owner_id, ttf=at(3))
    await tenant.dispatch(client, owner_id)  # no deadline: never expires
    with table_reads(app, "contractor_call") as first:
        assert await total(client, tenant.erp, expired="true") == 0
        assert await total(client, tenant.erp, expired="false") == 3
    assert counts(first) == 1  # (an empty first page needs no count)
    clock.advance(hours=1)
    with table_reads(app, "contractor_call") as before_any:
        assert await total(client, tenant.erp, expired="true") == 0
        assert await total(client, tenant.erp, expired="false") == 3
    assert counts(before_any) == 0  # no deadline passed: kept
    for hours, expired in ((2.5, 1), (3.5, 2), (10, 2)):  # past the arrival, the second's fix, every deadline
        clock.advance(seconds=(start + timedelta(hours=hours) - clock.now()).total_seconds())
        with table_reads(app, "contractor_call") as later:
            assert await total(client, tenant.erp, expired="true") == expired
            assert await total(client, tenant.erp, expired="false") == 3 - expired
        assert counts(later) == 2, hours


async def test_scopes_never_share_a_total(client: httpx.AsyncClient, tenant: Tenant, services: Services) -> None:
    owner_id, me = await tenant.contractor(client)
    _, other_me = await tenant.contractor(client)
    await tenant.dispatch(client, owner_id)
    assert await total(client, tenant.erp, expired="false") == 1
    assert await total(client, me) == 1
    assert await total(client, other_me) == 0  # another contractor of the same company: its own calls only
    second = await make_tenant(services)
    second_owner, _ = await second.contractor(client)
    await second.dispatch(client, second_owner)
    await second.dispatch(client, second_owner)
    assert await total(client, second.erp) == 2
    assert await total(client, tenant.erp) == 1  # the same filters in another company: its own total
