"""Every operation and service any API can write into the audit reads back through both audit endpoints.

``GET /account/audit`` answered 500 for every user who had called the Data API: the response model's operation
pattern (``\\w+``) refused the JSON-RPC method names (``login.user``). This walks every declared operation (the
apps register theirs while they are built) under its own service, plus every service name, and reads them all
back through ``GET /account/audit`` and ``GET /admin/audit``, filtered by each operation too.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from cabinet.core.metering import CalculationStatus, Operation, Service, declared_operations
from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditEntry
from cabinet.domains.quotas.service import local_date
from cabinet.domains.registry import Services
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
