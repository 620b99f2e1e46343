"""The metering half of the Account API: audit, stored data, quotas, statistics, report."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import timedelta

import httpx

from cabinet.core.metering import ProcessType, Service
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.domains.registry import Services
from tests.helpers import UserFactory, bearer, login


async def test_actions_are_audited_with_payloads(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    user = await make_user()
    token = await login(client, user)
    for _ in range(3):
        assert (await client.get("/account/info", headers=bearer(token))).status_code == 200
    update = {"specification": "Traced Name", "attributes": [{"key": "k", "value": "v"}]}
    put = await client.put("/account/info", headers=bearer(token), json=update)
    assert put.status_code == 200
    await services.audit.flush()

    audit = await client.get("/account/audit", headers=bearer(token))
    assert audit.status_code == 200, audit.text
    body = audit.json()
    operations = [a["requests"][0]["operation"] for a in body["actions"]]
    assert operations == ["read_info", "read_info", "read_info", "update_info"]
    assert body["counters"] == {"overall": {"total": 4}, "filter": {"total": 4}}
    traced = body["actions"][-1]
    assert traced["process_type"] == "TRACE" and traced["service"] == "ACCOUNT"
    assert traced["input_file_exists"] and traced["output_file_exists"]
    assert traced["statistics"]["calculation_info"]["status"] == "FINISHED_IN_TIME"
    assert traced["process_code"] == put.headers["x-process-code"]
    assert not body["actions"][0]["input_file_exists"]

    code = traced["process_code"]
    raw_in = await client.get(f"/account/data/{code}", headers=bearer(token))
    assert raw_in.status_code == 200
    assert json.loads(raw_in.content) == update
    raw_out = await client.get(f"/account/data/{code}", headers=bearer(token), params={"data_flow_type": "OUTPUT"})
    assert raw_out.status_code == 200
    assert raw_out.content == put.content

    filtered = await client.get(
        "/account/audit", headers=bearer(token), params={"process_type": "TRACE", "sort_direction": "DESC"}
    )
    assert filtered.json()["counters"]["filter"]["total"] == 1
    paged = await client.get("/account/audit", headers=bearer(token), params={"offset": 1, "limit": 2})
    assert len(paged.json()["actions"]) == 2


async def test_other_users_actions_and_data_are_invisible(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    alice = await make_user(company="company_a")
    bob = await make_user(company="company_b")
    colleague = await make_user(company="company_a")
    alice_token, bob_token = await login(client, alice), await login(client, bob)
    colleague_token = await login(client, colleague)
    put = await client.put("/account/info", headers=bearer(alice_token), json={"specification": "Alice"})
    code = put.headers["x-process-code"]
    await services.audit.flush()
    for token in (bob_token, colleague_token):
        leak = await client.get(f"/account/data/{code}", headers=bearer(token))
        assert leak.status_code == 404
        assert leak.json()["detail"]["tracedata"]["operation"] == "read_data"
        seen = (await client.get("/account/audit", headers=bearer(token))).json()
        assert all(a["username"] != alice.username for a in seen["actions"])


async def test_day_quota_refuses_with_402_and_is_audited(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    user = await make_user()
    token = await login(client, user)
    await services.quotas.replace_for_user(
        user.id,
        (await services.identity.get_account_by_id(user.id)).company_id,
        [
            QuotaSpec(
                Service.ACCOUNT,
                ProcessType.NOTRACE,
                points_per_request=10,
                points_per_day=3,
                max_concurrent_execution=10,
            )
        ],
    )
    codes = [(await client.get("/account/info", headers=bearer(token))).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 402, 402]
    refused = await client.get("/account/info", headers=bearer(token))
    assert refused.json()["tracedata"]["operation"] == "read_info"
    assert "quota" in refused.json()["message"]
    quota = await client.get("/account/quota", headers=bearer(token))
    assert quota.status_code == 402  # the quota read is itself a NOTRACE read of the same budget
    await services.audit.flush()
    await services.quotas.delete_for_user(user.id)
    audit = (await client.get("/account/audit", headers=bearer(token), params={"status": "CANCELED_BY_QUOTA"})).json()
    assert audit["counters"]["filter"]["total"] == 4


async def test_parallel_requests_consume_exactly_the_quota(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    user = await make_user()
    token = await login(client, user)
    account = await services.identity.get_account_by_id(user.id)
    await services.quotas.replace_for_user(
        user.id,
        account.company_id,
        [
            QuotaSpec(
                Service.ACCOUNT,
                ProcessType.NOTRACE,
                points_per_request=1,
                points_per_day=7,
                max_concurrent_execution=1000,
            )
        ],
    )
    responses = await asyncio.gather(*(client.get("/account/info", headers=bearer(token)) for _ in range(25)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 7 and statuses.count(402) == 18


async def test_statistics_and_report(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services, clock
) -> None:
    user = await make_user()
    token = await login(client, user)
    for _ in range(4):
        await client.get("/account/info", headers=bearer(token))
    for spec in ("A", "B", "A"):
        await client.put("/account/info", headers=bearer(token), json={"specification": f"Name {spec}"})
    await services.audit.flush()
    today = (clock.now()).date().isoformat()
    stats = await client.get("/account/statistics", headers=bearer(token), params={"from": today, "to": today})
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["username"] == user.username
    [day] = body["dates"]
    [service] = day["services"]
    processes = {p["process_type"]: p for p in service["processes"]}
    assert processes["NOTRACE"]["points_per_day"] == 4
    assert processes["NOTRACE"]["processes_per_day"] == 4
    assert processes["TRACE"]["points_per_day"] == 3
    assert processes["TRACE"]["unique_points_per_day"] == 2  # two distinct inputs
    default = await client.get("/account/statistics", headers=bearer(token))
    assert default.status_code == 200
    assert all(d["date"] != today for d in default.json()["dates"])  # today is excluded by default

    # the two statistics reads are batched audit records: written before the report, so the count never depends on
    # whether the batch's timer fired in between (it did on a loaded machine)
    await services.audit.flush()
    report = await client.get("/account/report", headers=bearer(token), params={"from": today, "to": today})
    assert report.status_code == 200
    with zipfile.ZipFile(io.BytesIO(report.content)) as xlsx:
        workbook = xlsx.read("xl/workbook.xml").decode()
        assert all(name in workbook for name in ("Summary", "Actions", "Totals"))
        actions_sheet = xlsx.read("xl/worksheets/sheet2.xml").decode()
        assert actions_sheet.count("<row ") == 1 + 7 + 2  # header + every action of the day, statistics reads too


async def test_audit_period_parameters(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services, clock
) -> None:
    user = await make_user()
    token = await login(client, user)
    await client.get("/account/info", headers=bearer(token))
    await services.audit.flush()
    now = clock.now()
    forms = [
        (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),
        (now - timedelta(minutes=5)).isoformat(),
        (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
        now.date().isoformat(),
    ]
    until = now.isoformat()  # these reads of the audit are recorded too (batched: maybe flushed in between)
    for form in forms:
        r = await client.get("/account/audit", headers=bearer(token), params={"from": form, "to": until})
        assert r.status_code == 200, (form, r.text)
        assert r.json()["counters"]["filter"]["total"] == 1, form
    later = (now + timedelta(hours=1)).isoformat()
    r = await client.get("/account/audit", headers=bearer(token), params={"from": later})
    assert r.json()["counters"]["filter"]["total"] == 0
    bad = await client.get("/account/audit", headers=bearer(token), params={"from": "yesterday"})
    assert bad.status_code == 400
    bad_sort = await client.get("/account/audit", headers=bearer(token), params={"sort_field": "password"})
    assert bad_sort.status_code == 400


async def test_report_reads_back_with_openpyxl(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services, clock
) -> None:
    import openpyxl

    user = await make_user()
    token = await login(client, user)
    for _ in range(3):
        await client.get("/account/info", headers=bearer(token))
    await client.put("/account/info", headers=bearer(token), json={"specification": "Reported"})
    await services.audit.flush()
    today = clock.now().date()
    report = await client.get(
        "/account/report", headers=bearer(token), params={"from": today.isoformat(), "to": today.isoformat()}
    )
    assert report.status_code == 200
    assert "attachment" in report.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(report.content))
    assert book.sheetnames == ["Summary", "Actions", "Totals"]
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert summary[0][:5] == ("Date", "User", "Service", "Process type", "Points")
    by_type = {row[3]: row for row in summary[1:]}
    assert by_type["NOTRACE"][4] == 3 and by_type["TRACE"][4] == 1
    assert by_type["NOTRACE"][0].date() == today  # a real date cell, not text
    assert book["Summary"].cell(row=2, column=5).number_format == "#,##0"
    actions = list(book["Actions"].iter_rows(values_only=True))
    assert len(actions) == 1 + 4
    assert {row[4] for row in actions[1:]} == {"read_info", "update_info"}
    totals = list(book["Totals"].iter_rows(values_only=True))
    assert any(row[:3] == ("ACCOUNT", "NOTRACE", 3) for row in totals)
