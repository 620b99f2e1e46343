"""One accepted range for every date-time and date an API or a page takes in (1900-01-01T00:00:00Z ..
8999-12-31T23:59:59Z; dates 1900-01-01 .. 8999-12-31), a 400 in each API's own format outside it, and pages
that show a moment stored before the range existed (at the very end of what a datetime holds) instead of a 500.
The issue's examples: an ERP ttf of 9999-12-31T23:59:59Z broke /ui/calls for everyone east of UTC; a tto of
9999-12-31T23:59:59-14:00, an audit ``from`` of 0001-01-01T00:00:00+14:00 and Data API date filters of
9999-12-31 23:59:59 answered 500 / internal_error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from cabinet.core.roles import Role
from cabinet.domains.registry import Services
from cabinet.models.call import Call
from tests.apis.contractor.support import PASSWORD, Tenant, call_body, make_tenant
from tests.apis.data.support import make_caller, mnemonic, ok, rpc
from tests.apis.web.support import csrf_of, sign_in, web_client
from tests.helpers import UserFactory, login

OUTSIDE = [
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9000-01-01T00:00:00Z",
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:00:00+00:01",
]
EDGES = ["1900-01-01T00:00:00Z", "8999-12-31T23:59:59Z", "8999-12-31T23:59:59+14:00", "1900-01-01T00:00:00-14:00"]


@pytest.mark.parametrize("value", OUTSIDE)
async def test_contractor_call_dates_outside_the_range_are_400(
    api: httpx.AsyncClient, services: Services, value: str
) -> None:
    tenant = await make_tenant(services)
    _name, owner_id = await tenant.register(api)
    call = await tenant.dispatch(api, owner_id)
    for body in ({"ttf": value}, {"tto": value}):
        patched = await api.patch(f"/call/{call['id']}", json=body, headers=tenant.erp)
        assert (patched.status_code, patched.json()) == (400, {"errorCode": 0}), (body, patched.text)
    created = await api.post("/call", json=call_body(owner_id, ttf=value), headers=tenant.erp)
    assert (created.status_code, created.json()) == (400, {"errorCode": 0}), created.text


async def test_contractor_call_dates_at_the_ends_of_the_range(api: httpx.AsyncClient, services: Services) -> None:
    tenant = await make_tenant(services)
    _name, owner_id = await tenant.register(api)
    call = await tenant.dispatch(api, owner_id)
    for value in EDGES:
        patched = await api.patch(f"/call/{call['id']}", json={"ttf": value, "tto": value}, headers=tenant.erp)
        assert patched.status_code == 200, (value, patched.text)


@pytest.mark.parametrize("path", ["/account/audit", "/admin/audit"])
async def test_audit_bounds_outside_the_range_are_400(
    api: httpx.AsyncClient, make_user: UserFactory, path: str
) -> None:
    user = await make_user(roles=[Role.ADMIN], company="range_co")
    headers = {"Authorization": f"Bearer {await login(api, user)}"}
    for value in OUTSIDE:
        for name in ("from", "to"):
            answer = await api.get(path, params={name: value}, headers=headers)
            assert answer.status_code == 400, (path, name, value, answer.text)
            assert "1900-01-01T00:00:00Z .. 8999-12-31T23:59:59Z" in answer.text or "ISO 8601" in answer.text
    for value in EDGES:
        assert (await api.get(path, params={"from": value}, headers=headers)).status_code == 200, value


async def test_admin_key_expiry_and_usage_dates_outside_the_range_are_400(
    api: httpx.AsyncClient, make_user: UserFactory
) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="range_ops")
    target = await make_user(roles=[Role.USER], company="range_ops")
    headers = {"Authorization": f"Bearer {await login(api, admin)}"}
    for value in ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00"):
        issued = await api.post(f"/admin/users/{target.username}/keys", json={"expires_at": value}, headers=headers)
        assert issued.status_code == 400, issued.text
        assert issued.json()["tracedata"]["operation"] == "create_api_key"
    for path in ("/admin/statistics", "/account/statistics"):
        for params in ({"from": "9999-12-30", "to": "9999-12-31"}, {"from": "0001-01-01", "to": "1900-01-02"}):
            assert (await api.get(path, params=params, headers=headers)).status_code == 400, (path, params)


async def test_data_api_date_filters_outside_the_range(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    eastern = await make_caller(services, make_user, roles=[Role.COMPANYOWNER], timezone=12)
    for value in ("9999-12-31 23:59:59", "0001-01-01 00:00:00", "1900-01-01 05:00:00", "9000-01-01 12:00:00"):
        condition = {"field": "creation_date", "operator": ">", "value": value}
        body = await rpc(client, "get.users", eastern.params(filter=condition))
        assert (mnemonic(body), body["error"]["data"]["field"]) == ("invalid_parameter_value", "filter.value"), value
        body = await rpc(client, "get.audit_actions", eastern.params(date_from=value, date_till="2026-01-01 00:00:00"))
        assert (mnemonic(body), body["error"]["data"]["field"]) == ("invalid_parameter_value", "date_from"), value
    at_the_end = {"field": "creation_date", "operator": "<", "value": "9000-01-01 11:59:59"}
    assert len(ok(await rpc(client, "get.users", eastern.params(filter=at_the_end)))) == 1


async def _stored_extremes(app: Any, call_id: int) -> None:
    """What an API accepted before the range existed: the very ends of what a datetime holds."""
    engine = app.state.runtime.resources.db.engine
    async with engine.begin() as conn:
        await conn.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(
                ttf=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
                tto=datetime(1, 1, 1, tzinfo=UTC),
                created=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
            )
        )


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_pages_show_moments_stored_at_the_ends_of_a_datetime(
    app: Any, client: httpx.AsyncClient, services: Services, language: str
) -> None:
    tenant: Tenant = await make_tenant(services)
    name, owner_id = await tenant.register(client)
    call = await tenant.dispatch(client, owner_id)
    await _stored_extremes(app, call["id"])
    async with web_client(app, language=language) as browser:  # the deployment's zone: Moscow, east of UTC
        await sign_in(browser, name, PASSWORD)
        listing = await browser.get("/ui/calls")
        assert listing.status_code == 200, listing.text[:2000]
        assert "9999" in listing.text
        page = await browser.get(f"/ui/calls/{call['id']}")
        assert page.status_code == 200, page.text[:2000]
        csrf_of(page.text)
    report = await client.get(f"/call/{call['id']}/report.pdf", headers=tenant.erp)  # in the company's zone
    assert report.status_code == 200 and report.content.startswith(b"%PDF"), report.text[:500]
    read = await client.get(f"/call/{call['id']}", headers=tenant.erp)
    assert read.status_code == 200 and read.json()["ttf"].startswith("9999-12-31T23:59:59")
