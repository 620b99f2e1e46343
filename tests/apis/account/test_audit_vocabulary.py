"""Every operation and service any API can write into the audit reads back through both audit endpoints.

``GET /account/audit`` answered 500 for every user who had called the Data API: the response model's operation
pattern (``\\w+``) refused the JSON-RPC method names (``login.user``). This walks every declared operation (the
apps register theirs while they are built) under its own service, plus every service name, and reads them all
back through ``GET /account/audit`` and ``GET /admin/audit``, filtered by each operation too.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from cabinet.core.metering import CalculationStatus, Operation, Service, declared_operations
from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditEntry
from cabinet.domains.quotas.service import local_date
from cabinet.domains.registry import Services
from tests.apis.contractor.support import make_tenant
from tests.apis.data.support import make_caller, mnemonic, rpc
from tests.helpers import UserFactory, login


def entry(services: Services, user_id: int, username: str, company: str, company_id: int, op: Operation) -> AuditEntry:
    now = services.audit.clock.now() - timedelta(minutes=1)
    return AuditEntry(
        process_code=uuid.uuid4(),
        request_code=uuid.uuid4(),
        company_id=company_id,
        user_id=user_id,
        username=username,
        company_key=company,
        service=op.service.value,
        process_type=op.process_type.value,
        operation=op.name,
        env="test",
        pod="pod-1",
        status=CalculationStatus.FINISHED_IN_TIME.value,
        message=None,
        http_status=200,
        started_at=now,
        duration_seconds=0.01,
        billing_date=local_date(now, 0),
        request_points=op.points,
        result_elements=0,
        input_digest=None,
        input_blob=None,
        output_blob=None,
    )


async def test_every_operation_and_service_reads_back(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    operations = declared_operations()
    names = {op.name for op in operations}
    assert {"login.user", "get.calls", "read_audit", "ui_getSharedCall"} <= names, sorted(names)
    assert {op.service for op in operations} >= {Service.ACCOUNT, Service.ADMIN}
    # every operation under its own service, and one operation under every service name
    every_service = [Operation(name="read_info", service=s, process_type=operations[0].process_type) for s in Service]
    walked = [*operations, *every_service]

    user = await make_user(roles=[Role.ADMIN], company="vocab_co")
    company_id = (await services.identity.get_account_by_id(user.id)).company_id
    for op in walked:
        await services.audit.record(entry(services, user.id, user.username, user.company, company_id, op), durable=True)
    token = await login(api, user)
    headers = {"Authorization": f"Bearer {token}"}

    mine = await api.get("/account/audit", params={"limit": 2001}, headers=headers)
    assert mine.status_code == 200, mine.text
    seen = {a["requests"][0]["operation"] for a in mine.json()["actions"]}
    assert names <= seen

    admin = await api.get("/admin/audit", params={"limit": 5000, "username": user.username}, headers=headers)
    assert admin.status_code == 200, admin.text
    listed = admin.json()["actions"]
    assert names <= {a["tracedata"]["operation"] for a in listed}
    assert {s.value for s in Service} <= {a["tracedata"]["service"] for a in listed}

    for name in sorted(names):  # each operation name is a valid filter on both
        one = await api.get("/account/audit", params={"operation": name}, headers=headers)
        assert one.status_code == 200, one.text
        assert {a["requests"][0]["operation"] for a in one.json()["actions"]} == {name}
        one = await api.get("/admin/audit", params={"operation_id": name}, headers=headers)
        assert one.status_code == 200, one.text
        assert {a["tracedata"]["operation"] for a in one.json()["actions"]} == {name}


async def test_operations_report_under_the_metered_services_only(app: Any) -> None:
    from cabinet.core.metering import METERED_SERVICES

    del app  # built: every API (and so every operation) is declared
    assert {op.service for op in declared_operations()} == METERED_SERVICES
    assert {"STUDIO", "REGISTRY", "ACCOUNT", "ADMIN"} == {s.value for s in METERED_SERVICES}


def _quota(service: str, per_day: int = 1) -> dict[str, Any]:
    method = {
        "method_group": "NOTRACE",
        "points_per_request": 1,
        "points_per_day": per_day,
        "points_per_date_window": None,
        "max_concurrent_execution": 5,
    }
    return {"services": [{"service": service, "methods": [method]}]}


async def test_a_quota_under_each_shown_service_is_enforced(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    """A quota set under the names /account/quota and /account/statistics show (STUDIO, REGISTRY) limits the
    operations reporting under them; a name no operation reports under is refused (400)."""
    root = await make_user(roles=[Role.ADMIN], company="quota_root_co")
    admin = {"Authorization": f"Bearer {await login(api, root)}"}

    # STUDIO: the contractor area (its API)
    tenant = await make_tenant(services)
    owner_id, me = await tenant.contractor(api)
    contractor = await services.identity.get_account_by_id(owner_id)
    put = await api.put(f"/admin/quota/{contractor.username}", json=_quota("STUDIO"), headers=admin)
    assert put.status_code == 204, put.text
    shown = await api.get(f"/admin/quota/{contractor.username}", headers=admin)
    assert shown.json()["base"]["services"][0]["service"] == "STUDIO"
    assert (await api.get("/call", headers=me)).status_code == 200
    refused = await api.get("/call", headers=me)
    assert refused.status_code == 402, refused.text

    # REGISTRY: the Data API (its reads are NOTRACE); the Account API shows the same name
    caller = await make_caller(services, make_user, company="quota_user_co")
    user = caller.user
    put = await api.put(f"/admin/quota/{user.username}", json=_quota("REGISTRY"), headers=admin)
    assert put.status_code == 204, put.text
    token = await login(api, user)
    mine = await api.get("/account/quota", headers={"Authorization": f"Bearer {token}"})
    assert [s["service"] for s in mine.json()["base"]["services"]] == ["REGISTRY"]
    assert "result" in await rpc(api, "get.account", caller.params())
    assert mnemonic(await rpc(api, "get.account", caller.params())) == "limit_exceeded"

    # a service no operation reports under: refused, for a user's quota and a company's ceiling alike
    for service in ("UNIVERSAL", "ROUTING", "MONITOR", "PACKER", "AGRO", "SUPPORT"):
        answer = await api.put(f"/admin/quota/{user.username}", json=_quota(service), headers=admin)
        assert answer.status_code == 400 and service in answer.text, answer.text
        answer = await api.put("/admin/companies/quota_user_co/quota", json=_quota(service), headers=admin)
        assert answer.status_code == 400 and service in answer.text, answer.text
