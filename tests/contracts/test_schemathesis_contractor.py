"""Property-based fuzzing of the contractor API against its own OpenAPI document (schemathesis 4.x).

The document is served by the sub-app mounted at the root (``/contractor/openapi.json``). Every operation is
fuzzed in-process over ASGI three times: with the external system's API key, with a contractor's access token
(the two callers the seed knows), and without credentials. The database holds a contractor with a call, so
small ids reach real objects (200s, 409s), not only 404s. ``derandomize`` keeps every run identical.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from cabinet.app import create_app
from cabinet.settings import Settings
from tests.apis.contractor.support import make_tenant
from tests.contracts.fuzzing import CHECKS, fuzzed_app, without_fuzzing_phase

# once per CI, in the PostgreSQL + Redis pass (.ci/run): see the marker in pytest.ini
pytestmark = pytest.mark.schemathesis


async def _arrange(settings: Settings) -> dict[str, Any]:
    """A tenant with its ERP key, a signed-in contractor and two calls (the first accepted, with a cost estimate
    holding an expense and a material line), through a throw-away app."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        tenant = await make_tenant(application.state.runtime.services)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz") as client:
            owner_id, contractor = await tenant.contractor(client)
            calls = [(await tenant.dispatch(client, owner_id))["id"] for _ in range(2)]
            first = calls[0]
            await client.post(f"/call/{first}/status", json={"status": "Committed"}, headers=contractor)
            await client.post(f"/callCost/call/{first}", headers=contractor)
            item = (await client.get(f"/call/{first}", headers=contractor)).json()["availableExpenditureItems"][0]
            line = {"count": 1.5, "expenditureItemId": item["id"]}
            await client.post(f"/callCost/call/{first}/expense", json=line, headers=contractor)
            part = {"count": 2, "name": "Fuse", "ownerType": "Contractor", "price": 0.1, "serialNumber": "SN-1"}
            await client.post(f"/callCost/call/{first}/material", json=part, headers=contractor)
        return {"erp": tenant.erp, "contractor": contractor}


@pytest.fixture
def fuzz_env(settings: Settings) -> Iterator[dict[str, Any]]:
    headers = asyncio.run(_arrange(settings))
    with fuzzed_app(settings) as (application, _):
        yield {"app": application, **headers}


@pytest.fixture
def contractor_schema(fuzz_env: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/contractor/openapi.json", fuzz_env["app"])


@pytest.fixture
def anonymous_contractor_schema(fuzz_env: dict[str, Any]) -> Any:
    return without_fuzzing_phase(schemathesis.openapi.from_asgi("/contractor/openapi.json", fuzz_env["app"]))


def test_document_lists_every_part_one_operation(contractor_schema: Any) -> None:
    raw = contractor_schema.raw_schema
    found = {
        (method.upper(), path)
        for path, item in raw["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
    }
    assert found == {
        ("POST", "/user/register"),
        ("POST", "/user/signin"),
        ("POST", "/user/token"),
        ("GET", "/user/self"),
        ("POST", "/user/{id}/changePassword"),
        ("POST", "/user/{id}/lock"),
        ("POST", "/user/{id}/unlock"),
        ("POST", "/call"),
        ("GET", "/call"),
        ("GET", "/call/modifications/{timestamp}"),
        ("GET", "/call/messages/modifications/{timestamp}"),
        ("GET", "/call/jeopardies/modifications/{timestamp}"),
        ("GET", "/call/{id}"),
        ("PATCH", "/call/{id}"),
        ("POST", "/call/{id}/status"),
        ("POST", "/call/{id}/close"),
        ("POST", "/call/{id}/message"),
        ("POST", "/call/{id}/dispatcher/message"),
        ("POST", "/call/{id}/jeopardy"),
        ("POST", "/call/{id}/unjeopardy"),
        ("GET", "/calltask"),
        ("GET", "/calltask/modifications/{timestamp}"),
        ("GET", "/calltask/{id}"),
        ("POST", "/calltask/{id}/status"),
        ("GET", "/calltask/{id}/result"),
        ("GET", "/notification"),
        ("POST", "/notification/readAll"),
        ("POST", "/notification/{id}/read"),
        ("PATCH", "/systemSettings"),
        ("POST", "/call/{callId}/templink"),
        ("POST", "/calltask/{id}/attachment"),
        ("GET", "/calltask/{id}/attachment/{attachmentId}"),
        ("GET", "/calltask/{id}/attachment/{attachmentId}/download"),
        ("GET", "/shared/call"),
        ("POST", "/shared/call/done"),
        ("POST", "/shared/callTask/{id}/attachment"),
        ("GET", "/shared/callTask/{id}/attachment/{attachmentId}/download"),
        ("GET", "/shared/callTask/{id}/result"),
        ("POST", "/shared/call/visit"),
        ("POST", "/shared/call/signature"),
        ("GET", "/call/{callId}/signature/{attachmentId}"),
        ("GET", "/call/{callId}/report.pdf"),
        ("GET", "/call/{callId}/evidence.zip"),
        ("POST", "/callCost/call/{callId}"),
        ("GET", "/callCost/call/{callId}"),
        ("GET", "/callCost/modifications/{timestamp}"),
        ("PATCH", "/callCost/call/{callId}/changeApprovalStatus"),
        ("POST", "/callCost/call/{callId}/expense"),
        ("PATCH", "/callCost/call/{callId}/expense/{expenseId}"),
        ("DELETE", "/callCost/call/{callId}/expense/{expenseId}"),
        ("POST", "/callCost/call/{callId}/material"),
        ("PATCH", "/callCost/call/{callId}/material/{materialId}"),
        ("DELETE", "/callCost/call/{callId}/material/{materialId}"),
        ("POST", "/callCost/status/call/{callId}"),
    }
    operations = [op for item in raw["paths"].values() for op in item.values() if isinstance(op, dict)]
    for op in operations:  # every one is metered as CONTRACTOR, but the anonymous sign-in
        if op["operationId"] != "signIn":
            assert op["x-cabinet-operation"]["service"] == "STUDIO", op["operationId"]


schema = schemathesis.pytest.from_fixture("contractor_schema")
anonymous = schemathesis.pytest.from_fixture("anonymous_contractor_schema")
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@schema.parametrize()
@FUZZ
def test_as_the_external_system(case: schemathesis.Case, fuzz_env: dict[str, Any]) -> None:
    case.call_and_validate(headers=fuzz_env["erp"], checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_as_a_contractor(case: schemathesis.Case, fuzz_env: dict[str, Any]) -> None:
    case.call_and_validate(headers=fuzz_env["contractor"], checks=CHECKS)


@anonymous.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_without_credentials(case: schemathesis.Case, fuzz_env: dict[str, Any]) -> None:
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    response = case.call_and_validate(checks=CHECKS)
    if case.operation.definition.raw.get("security") and case.method.upper() == case.operation.method.upper():
        assert response.status_code in (400, 401, 404, 413), response.text
