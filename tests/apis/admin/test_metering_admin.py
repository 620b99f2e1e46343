"""Admin API, the metering half (seed 002 A11-A17), over the wire.

Audit of everyone (A11), stored data with its deprecated conversions (A12), statistics (A13), the XLSX report
(A14), user quotas (A15-A17) and cabinet's own company quota ceilings; every operation with its error paths,
against data built here with known answers: users of two companies make traced calls through the Account API.
Scoping: a COMPANYOWNER sees and manages its own company only (another company's objects are not found), SUPPORT
reads everything and writes nothing; a COMPANYOWNER gives quotas only within its company's ceiling. No answer may
be a 5xx: the ``api`` client fails the test on one.

Read audits are written in batches; this module sets the batch period to its maximum (60 s), so the Admin
API's own reads reach the audit table only when a test flushes, and counts stay exact.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import openpyxl
import pytest

from cabinet.apis.admin.routes.audit import iso_duration
from cabinet.core.clock import OffsetClock
from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditEntry, FlowType
from cabinet.domains.audit.service import payload_key
from cabinet.domains.registry import Services
from cabinet.settings import Settings
from tests.helpers import MadeUser, UserFactory, login

AUDIT = "/admin/audit"
STATS = "/admin/statistics"
REPORT = "/admin/report"
TRACEDATA_KEYS = {"code", "client", "server", "service", "operation", "time"}
DURATION = re.compile(r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
PASSWORD = "correct_horse_battery"
ALICE_BODY = {"specification": "Alice Archer", "attributes": [{"key": "team", "value": "north"}]}
BOB_BODY = {"specification": "Bob Baker"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Read audits flushed by the tests only (the batch period at its maximum)."""
    return settings.model_copy(update={"audit_flush_interval_seconds": 60.0})


# --------------------------------------------------------------------------------------------------------------
# harness


@dataclass
class Caller:
    user: MadeUser
    token: str

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def client_id(self) -> str:
        return f"{self.user.company}_|_{self.user.username}"


async def sign_in(api: httpx.AsyncClient, make_user: UserFactory, username: str, role: Role, company: str) -> Caller:
    user = await make_user(username, roles=[role], company=company, password=PASSWORD)
    return Caller(user, await login(api, user))


def check_tracedata(tracedata: Any, operation: str, client: str | None = None) -> None:
    assert isinstance(tracedata, dict) and set(tracedata) == TRACEDATA_KEYS, tracedata
    uuid.UUID(tracedata["code"])
    assert tracedata["service"] == "ADMIN" and tracedata["operation"] == operation, tracedata
    if client is not None:
        assert tracedata["client"] == client


def assert_error(response: httpx.Response, status: int, operation: str, *, client: str | None = None) -> dict:
    """Seed 002's general error: {tracedata, message[, schema_errors]}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"tracedata", "message", "schema_errors"} and body["message"], body
    check_tracedata(body["tracedata"], operation, client)
    return body  # type: ignore[no-any-return]


def assert_invalid(response: httpx.Response, operation: str, entity: str) -> dict:
    body = assert_error(response, 400, operation)
    entities = [e.get("entity") or "" for e in body.get("schema_errors", [])]
    assert any(entity in e for e in entities), body
    return body


def assert_not_found(response: httpx.Response, operation: str, resource_id: str | None = None) -> None:
    """Seed 002's 404: {resource_id, detail: {tracedata}}."""
    assert response.status_code == 404, response.text
    body = response.json()
    assert set(body) == {"resource_id", "detail"} and set(body["detail"]) == {"tracedata"}, body
    check_tracedata(body["detail"]["tracedata"], operation)
    if resource_id is not None:
        assert body["resource_id"] == resource_id


def quota_body(*services: tuple[str, str, int, int, int | None, int]) -> dict[str, Any]:
    """{services: [...]} from (service, method_group, per_request, per_day, per_window, concurrent) tuples."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for service, method, per_request, per_day, per_window, concurrent in services:
        grouped.setdefault(service, []).append(
            {
                "method_group": method,
                "points_per_request": per_request,
                "points_per_day": per_day,
                "points_per_date_window": per_window,
                "max_concurrent_execution": concurrent,
            }
        )
    return {"services": [{"service": s, "methods": m} for s, m in grouped.items()]}


# --------------------------------------------------------------------------------------------------------------
# the world: two companies, their users' traced calls through the Account API


@dataclass
class World:
    root: Caller  # ADMIN, platform_co
    overlord: Caller  # OVERLORD, platform_co
    helper: Caller  # SUPPORT, platform_co
    owner: Caller  # COMPANYOWNER, alpha_co
    alice: Caller  # USER, alpha_co
    alan: Caller  # USER, alpha_co
    bob: Caller  # USER, beta_co
    codes: dict[str, str]  # label -> process code of the traced call
    today: date
    company_ids: dict[str, int]


# the traced calls, in time order: label, caller, method, body
CALLS = [
    ("alice_read1", "alice", "GET", None),
    ("alice_write", "alice", "PUT", ALICE_BODY),
    ("alice_read2", "alice", "GET", None),
    ("bob_read", "bob", "GET", None),
    ("bob_write", "bob", "PUT", BOB_BODY),
    ("alan_read", "alan", "GET", None),
]
# what the audit shows of them: label -> (username, company_key, operation, method_group)
SHOWN = {
    "alice_read1": ("alice", "alpha_co", "read_info", "NOTRACE"),
    "alice_write": ("alice", "alpha_co", "update_info", "TRACE"),
    "alice_read2": ("alice", "alpha_co", "read_info", "NOTRACE"),
    "bob_read": ("bob", "beta_co", "read_info", "NOTRACE"),
    "bob_write": ("bob", "beta_co", "update_info", "TRACE"),
    "alan_read": ("alan", "alpha_co", "read_info", "NOTRACE"),
}
IN_ORDER = [label for label, *_ in CALLS]


@pytest.fixture
async def world(api: httpx.AsyncClient, make_user: UserFactory, services: Services, clock: OffsetClock) -> World:
    callers = {
        "root": await sign_in(api, make_user, "root", Role.ADMIN, "platform_co"),
        "overlord": await sign_in(api, make_user, "overlord", Role.OVERLORD, "platform_co"),
        "helper": await sign_in(api, make_user, "helper", Role.SUPPORT, "platform_co"),
        "owner": await sign_in(api, make_user, "owner", Role.COMPANYOWNER, "alpha_co"),
        "alice": await sign_in(api, make_user, "alice", Role.USER, "alpha_co"),
        "alan": await sign_in(api, make_user, "alan", Role.USER, "alpha_co"),
        "bob": await sign_in(api, make_user, "bob", Role.USER, "beta_co"),
    }
    codes: dict[str, str] = {}
    for label, who, method, body in CALLS:
        clock.advance(seconds=1)
        response = await api.request(method, "/account/info", json=body, headers=callers[who].h)
        assert response.status_code == 200, response.text
        codes[label] = response.headers["x-process-code"]
    await services.audit.flush()
    company_ids = {
        key: (await services.identity.get_account_by_id(callers[who].user.id)).company_id
        for key, who in (("alpha_co", "alice"), ("beta_co", "bob"), ("platform_co", "root"))
    }
    return World(**callers, codes=codes, today=clock.now().date(), company_ids=company_ids)


async def audit(api: httpx.AsyncClient, caller: Caller, **params: Any) -> dict[str, Any]:
    response = await api.get(AUDIT, params=params, headers=caller.h)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def labels(body: dict[str, Any], world: World) -> list[str]:
    by_code = {code: label for label, code in world.codes.items()}
    return [by_code.get(a["tracedata"]["code"], a["tracedata"]["operation"]) for a in body["actions"]]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def next_day(clock: OffsetClock) -> None:
    """Move the clock to one minute past the next midnight (UTC): tokens of a day stay valid."""
    now = clock.now()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    clock.advance(seconds=(midnight - now).total_seconds() + 60)


def totals(body: dict[str, Any]) -> tuple[int, int]:
    return body["statistics"]["overall"]["total"], body["statistics"]["filter"]["total"]


# --------------------------------------------------------------------------------------------------------------
# A11: audit


async def test_audit_lists_every_action_with_known_answers(api: httpx.AsyncClient, world: World) -> None:
    body = await audit(api, world.root)
    assert set(body) == {"actions", "statistics"}
    assert labels(body, world) == IN_ORDER
    assert totals(body) == (6, 6)
    for action, label in zip(body["actions"], IN_ORDER, strict=True):
        username, company_key, operation, method_group = SHOWN[label]
        assert set(action) == {"username", "company_key", "tracedata", "method_group", "statistics"}
        assert (action["username"], action["company_key"], action["method_group"]) == (
            username,
            company_key,
            method_group,
        )
        trace = action["tracedata"]
        assert set(trace) == TRACEDATA_KEYS
        assert trace["code"] == world.codes[label]
        assert trace["client"] == f"{company_key}_|_{username}"
        assert trace["service"] == "ACCOUNT" and trace["operation"] == operation
        assert trace["server"]
        assert datetime.fromisoformat(trace["time"].replace("Z", "+00:00")).tzinfo is not None
        assert set(action["statistics"]) == {"points_count", "duration"}
        assert action["statistics"]["points_count"] == 1
        assert DURATION.match(action["statistics"]["duration"]), action["statistics"]
    times = [a["tracedata"]["time"] for a in body["actions"]]
    assert times == sorted(times)


async def test_audit_filters(api: httpx.AsyncClient, world: World, services: Services) -> None:
    async def shown(**params: Any) -> tuple[list[str], tuple[int, int]]:
        body = await audit(api, world.root, **params)
        return labels(body, world), totals(body)

    assert await shown(company_key="beta_co") == (["bob_read", "bob_write"], (6, 2))
    assert await shown(company_key="alpha_co") == (["alice_read1", "alice_write", "alice_read2", "alan_read"], (6, 4))
    assert await shown(company_key="gamma_co") == ([], (6, 0))
    assert await shown(username="alice") == (["alice_read1", "alice_write", "alice_read2"], (6, 3))
    assert await shown(username="nobody") == ([], (6, 0))
    assert await shown(method_group="TRACE") == (["alice_write", "bob_write"], (6, 2))
    assert await shown(method_group="PLAN") == ([], (6, 0))
    assert await shown(operation_id="update_info") == (["alice_write", "bob_write"], (6, 2))
    assert await shown(service_name="ACCOUNT") == (IN_ORDER, (6, 6))
    assert await shown(service_name="UNIVERSAL") == ([], (6, 0))
    assert await shown(company_key="alpha_co", method_group="NOTRACE", username="alice") == (
        ["alice_read1", "alice_read2"],
        (6, 2),
    )
    # the Admin API's own reads are audited too (service ADMIN), once flushed
    await services.audit.flush()
    body = await audit(api, world.root, service_name="ADMIN", username="root")
    assert [a["tracedata"]["operation"] for a in body["actions"]] == ["read_audit"] * 11
    assert {a["method_group"] for a in body["actions"]} == {"NOTRACE"}
    assert body["actions"][0]["tracedata"]["client"] == "platform_co_|_root"


async def test_audit_period(api: httpx.AsyncClient, world: World, clock: OffsetClock) -> None:
    now = clock.now()
    before = now - timedelta(minutes=10)
    for form in (
        before.isoformat(),
        before.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),
        before.strftime("%Y-%m-%dT%H:%M:%SZ"),
        before.strftime("%Y-%m-%dT%H:%M:%S"),  # no offset: the caller's timezone (UTC here)
        (before + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+03:00"),
        (before + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S 03:00"),  # an unescaped '+' arrives as a space
        world.today.isoformat(),
    ):
        assert totals(await audit(api, world.root, **{"from": form})) == (6, 6), form
    later = now + timedelta(hours=1)
    assert labels(await audit(api, world.root, **{"from": later.isoformat()}), world) == []
    # 'to' bounds the period from above: only the calls up to alice's write
    write_time = (await audit(api, world.root, username="alice", method_group="TRACE"))["actions"][0]["tracedata"]
    until = write_time["time"]
    assert labels(await audit(api, world.root, to=until), world) == ["alice_read1", "alice_write"]
    # a day ago: nothing of today
    yesterday = (now - timedelta(days=1)).isoformat()
    body = await audit(api, world.root, **{"from": (now - timedelta(days=2)).isoformat(), "to": yesterday})
    assert totals(body) == (6, 0)
    # no period: from the start of the caller's day; the calls are tomorrow's history once a day passes
    next_day(clock)
    assert totals(await audit(api, world.root)) == (6, 0)


async def test_audit_sorting_and_paging(api: httpx.AsyncClient, world: World) -> None:
    async def order(**params: Any) -> list[str]:
        return labels(await audit(api, world.root, **params), world)

    assert await order(sort_direction="DESC") == IN_ORDER[::-1]
    assert await order(sort_field="time", sort_direction="ASC") == IN_ORDER
    # ties keep the order of recording (reversed with DESC)
    assert await order(sort_field="username") == [
        "alan_read",
        "alice_read1",
        "alice_write",
        "alice_read2",
        "bob_read",
        "bob_write",
    ]
    assert await order(sort_field="username", sort_direction="DESC") == [
        "bob_write",
        "bob_read",
        "alice_read2",
        "alice_write",
        "alice_read1",
        "alan_read",
    ]
    assert await order(sort_field="company_key") == [
        "alice_read1",
        "alice_write",
        "alice_read2",
        "alan_read",
        "bob_read",
        "bob_write",
    ]
    assert await order(sort_field="method_group") == [
        "alice_read1",
        "alice_read2",
        "bob_read",
        "alan_read",
        "alice_write",
        "bob_write",
    ]
    assert (await order(sort_field="operation_id", sort_direction="DESC"))[:2] == ["bob_write", "alice_write"]
    for field in ("service_name", "points_count", "duration", "status"):
        assert sorted(await order(sort_field=field)) == sorted(IN_ORDER), field
    assert await order(offset=1, limit=2) == ["alice_write", "alice_read2"]
    assert await order(offset=4, limit=100) == ["bob_write", "alan_read"]
    assert await order(offset=6) == []
    body = await audit(api, world.root, offset=10_000_000, limit=10_000_000)
    assert body["actions"] == [] and totals(body) == (6, 6)


async def test_audit_answers_at_most_ten_thousand_actions(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    root = await sign_in(api, make_user, "root", Role.ADMIN, "platform_co")
    worker = await make_user("worker", company="busy_co")
    company_id = (await services.identity.get_account_by_id(worker.id)).company_id
    now = datetime.now(UTC)
    for i in range(10_001):
        await services.audit.record(
            entry(worker, company_id, started_at=now - timedelta(milliseconds=10_001 - i), operation="bulk_op"),
            durable=False,
        )
    await services.audit.flush()
    response = await api.get(AUDIT, params={"limit": 20_000, "operation_id": "bulk_op"}, headers=root.h)
    assert response.status_code == 200
    body = response.json()
    assert len(body["actions"]) == 10_000 and totals(body) == (10_001, 10_001)
    rest = (await audit(api, root, offset=10_000, limit=10_000_000, operation_id="bulk_op"))["actions"]
    assert len(rest) == 1
    assert moment(rest[0]["tracedata"]["time"]) > moment(body["actions"][-1]["tracedata"]["time"])


async def test_audit_scope_of_companyowner_and_support(api: httpx.AsyncClient, world: World) -> None:
    alpha = ["alice_read1", "alice_write", "alice_read2", "alan_read"]
    body = await audit(api, world.owner)
    assert labels(body, world) == alpha and totals(body) == (4, 4)
    # another company's key or user finds nothing: never its data, never a hint that it exists
    for params in ({"company_key": "beta_co"}, {"username": "bob"}, {"company_key": "no_such_co"}):
        body = await audit(api, world.owner, **params)
        assert body["actions"] == [] and totals(body) == (4, 0), params
    assert labels(await audit(api, world.owner, company_key="alpha_co"), world) == alpha
    # SUPPORT reads every company
    body = await audit(api, world.helper)
    assert labels(body, world) == IN_ORDER and totals(body) == (6, 6)
    assert labels(await audit(api, world.helper, company_key="beta_co"), world) == ["bob_read", "bob_write"]


@pytest.mark.parametrize(
    ("params", "entity"),
    [
        ({"offset": -1}, "offset"),
        ({"offset": 10_000_001}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_000_001}, "limit"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-13-01T00:00:00"}, "to"),
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"from": "9999-12-31T23:59:59"}, "from"),  # outside the accepted range (README: Security limits)
        ({"to": "1899-12-31T23:59:59Z"}, "to"),
        ({"to": "1900-01-01T00:00:00+00:01"}, "to"),
        ({"company_key": "ab"}, "company_key"),
        ({"company_key": "bad-key"}, "company_key"),
        ({"company_key": "k" * 257}, "company_key"),
        ({"username": "a"}, "username"),
        ({"username": "no spaces"}, "username"),
        ({"service_name": "NOPE"}, "service_name"),
        ({"service_name": "account"}, "service_name"),
        ({"operation_id": "ab"}, "operation_id"),
        ({"operation_id": "o" * 257}, "operation_id"),
        ({"operation_id": "bad\x00op"}, "operation_id"),
        ({"method_group": "NOPE"}, "method_group"),
        ({"sort_field": "password"}, "sort_field"),
        ({"sort_field": ""}, "sort_field"),
        ({"sort_direction": "UP"}, "sort_direction"),
    ],
)
async def test_audit_query_bounds(
    api: httpx.AsyncClient, make_user: UserFactory, params: dict[str, Any], entity: str
) -> None:
    root = await sign_in(api, make_user, "root", Role.ADMIN, "platform_co")
    assert_invalid(await api.get(AUDIT, params=params, headers=root.h), "read_audit", entity)


async def test_audit_query_bounds_that_pass(api: httpx.AsyncClient, make_user: UserFactory) -> None:
    root = await sign_in(api, make_user, "root", Role.ADMIN, "platform_co")
    for params in (
        {"offset": 10_000_000, "limit": 1},
        {"limit": 10_000_000},
        {"company_key": "abc", "username": "ab", "operation_id": "abc"},
        {"company_key": "k" * 256, "username": "u" * 256, "operation_id": "o" * 256},
        {"operation_id": "odd chars: ' % _ \\ ;"},
        {"from": "8999-12-31T23:59:59", "to": "1900-01-01T00:00:00Z"},  # the ends of the accepted range
    ):
        response = await api.get(AUDIT, params=params, headers=root.h)
        assert response.status_code == 200, (params, response.text)
        assert response.json()["actions"] == []


def test_iso_durations() -> None:
    assert iso_duration(0) == "PT0S"
    assert iso_duration(-1) == "PT0S"
    assert iso_duration(0.0123) == "PT0.012S"
    assert iso_duration(1.5) == "PT1.5S"
    assert iso_duration(60) == "PT1M"
    assert iso_duration(7954.3) == "PT2H12M34.3S"
    assert iso_duration(86_400) == "P1D"
    assert iso_duration(86_401) == "P1DT1S"
    for seconds in (0, 0.0004, 0.0005, 59.9996, 3599.9999, 1e7):
        assert DURATION.match(iso_duration(seconds)), seconds


# --------------------------------------------------------------------------------------------------------------
# A12: stored data


def data_url(code: str | uuid.UUID) -> str:
    return f"/admin/data/{code}"


async def test_data_as_stored_as_json_and_as_xlsx(api: httpx.AsyncClient, world: World) -> None:
    code = world.codes["alice_write"]
    raw = await api.get(data_url(code), headers=world.root.h)
    assert raw.status_code == 200, raw.text
    assert raw.headers["content-type"] == "application/octet-stream"
    assert raw.headers["content-disposition"] == f'attachment; filename="{code}.input"'
    assert json.loads(raw.content) == ALICE_BODY
    same = await api.get(
        data_url(code),
        params={"data_flow_type": "INPUT", "data_flow_stage": 0, "data_flow_convert": "ORIGIN"},
        headers=world.root.h,
    )
    assert same.content == raw.content

    output = await api.get(data_url(code), params={"data_flow_type": "OUTPUT"}, headers=world.root.h)
    assert output.status_code == 200
    assert output.headers["content-disposition"] == f'attachment; filename="{code}.output"'
    assert json.loads(output.content)["specification"] == "Alice Archer"

    as_json = await api.get(data_url(code), params={"data_flow_convert": "JSON"}, headers=world.root.h)
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.content == raw.content

    as_xlsx = await api.get(data_url(code), params={"data_flow_convert": "XLSX"}, headers=world.root.h)
    assert as_xlsx.status_code == 200, as_xlsx.text
    assert as_xlsx.headers["content-type"] == "application/octet-stream"
    assert as_xlsx.headers["content-disposition"] == f'attachment; filename="{code}.input.xlsx"'
    assert sheet_rows(as_xlsx.content) == [
        ("Path", "Value"),
        ("specification", "Alice Archer"),
        ("attributes[0].key", "team"),
        ("attributes[0].value", "north"),
    ]


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert workbook.sheetnames == ["Data"]
    rows = [tuple(row) for row in workbook["Data"].iter_rows(values_only=True)]
    workbook.close()
    return rows


def entry(user: MadeUser, company_id: int, *, started_at: datetime | None = None, **fields: Any) -> AuditEntry:
    started = started_at or datetime.now(UTC)
    values: dict[str, Any] = {
        "process_code": uuid.uuid4(),
        "request_code": uuid.uuid4(),
        "company_id": company_id,
        "user_id": user.id,
        "username": user.username,
        "company_key": user.company,
        "service": "UNIVERSAL",
        "process_type": "PLAN",
        "operation": "run_plan_calculation",
        "env": "test",
        "pod": "test-pod",
        "status": "FINISHED_IN_TIME",
        "message": None,
        "http_status": 200,
        "started_at": started,
        "duration_seconds": 0.25,
        "billing_date": started.date(),
        "request_points": 1,
        "result_elements": 0,
        "input_digest": None,
        "input_blob": None,
        "output_blob": None,
    }
    values.update(fields)
    return AuditEntry(**values)


async def arrange_process(services: Services, world: World, data: bytes) -> uuid.UUID:
    """A process of alice's that kept ``data`` as its input (what any client could have sent)."""
    made = entry(world.alice.user, world.company_ids["alpha_co"])
    made.input_blob = payload_key(made, FlowType.INPUT)
    await services.audit.record(made, durable=True)
    await services.audit.store_payloads(made, data, None)
    return made.process_code


async def test_data_conversions_of_odd_payloads(api: httpx.AsyncClient, world: World, services: Services) -> None:
    cases: list[tuple[bytes, list[tuple[Any, ...]]]] = [
        (b"42", [("$", 42)]),
        (b'"text"', [("$", "text")]),
        (b"null", [("$", "null")]),
        (b"{}", [("$", "{}")]),
        (b"[]", [("$", "[]")]),
        (
            json.dumps(
                {
                    "a": {"b": [1, 2.5, True, None, {"c": "=SUM(A1:A2)"}], "empty": {}, "none": []},
                    "big": 10**20,
                    "ünï": "ü",
                }
            ).encode(),
            [
                ("a.b[0]", 1),
                ("a.b[1]", 2.5),
                ("a.b[2]", True),
                ("a.b[3]", "null"),
                ("a.b[4].c", "=SUM(A1:A2)"),  # text, never a formula
                ("a.empty", "{}"),
                ("a.none", "[]"),
                ("big", str(10**20)),  # beyond a float's exact integers: text
                ("ünï", "ü"),
            ],
        ),
    ]
    for data, rows in cases:
        code = await arrange_process(services, world, data)
        response = await api.get(data_url(code), params={"data_flow_convert": "XLSX"}, headers=world.root.h)
        assert response.status_code == 200, (data, response.text)
        assert sheet_rows(response.content) == [("Path", "Value"), *rows], data
        as_json = await api.get(data_url(code), params={"data_flow_convert": "JSON"}, headers=world.root.h)
        assert as_json.status_code == 200 and as_json.content == data

    deep = b"[" * 100_000 + b"]" * 100_000
    for data in (b"not json{", b"\xff\xfe\x00garbage", b"NaN", b'{"x": Infinity}', deep):
        code = await arrange_process(services, world, data)
        raw = await api.get(data_url(code), headers=world.root.h)
        assert raw.status_code == 200 and raw.content == data
        for convert in ("JSON", "XLSX"):
            refused = await api.get(data_url(code), params={"data_flow_convert": convert}, headers=world.root.h)
            body = assert_error(refused, 400, "read_data")
            assert "not JSON" in body["message"]


async def test_data_not_found_and_bounds(api: httpx.AsyncClient, world: World) -> None:
    code = world.codes["alice_write"]
    h = world.root.h
    for stage in (1, 2, 3):  # only the raw data (stage 0) is kept
        assert_not_found(await api.get(data_url(code), params={"data_flow_stage": stage}, headers=h), "read_data", code)
    unknown = str(uuid.uuid4())
    assert_not_found(await api.get(data_url(unknown), headers=h), "read_data", unknown)
    # a read keeps no data
    read = world.codes["alice_read1"]
    for convert in ("ORIGIN", "JSON", "XLSX"):
        response = await api.get(data_url(read), params={"data_flow_convert": convert}, headers=h)
        assert_not_found(response, "read_data", read)
    for params, entity in (
        ({"data_flow_stage": 4}, "data_flow_stage"),
        ({"data_flow_stage": -1}, "data_flow_stage"),
        ({"data_flow_stage": "RAW"}, "data_flow_stage"),
        ({"data_flow_type": "BOTH"}, "data_flow_type"),
        ({"data_flow_convert": "CSV"}, "data_flow_convert"),
    ):
        assert_invalid(await api.get(data_url(code), params=params, headers=h), "read_data", entity)
    assert_invalid(await api.get(data_url("not-a-uuid"), headers=h), "read_data", "tracecode")


async def test_data_scope(api: httpx.AsyncClient, world: World) -> None:
    alice_code, bob_code = world.codes["alice_write"], world.codes["bob_write"]
    assert (await api.get(data_url(alice_code), headers=world.owner.h)).status_code == 200
    for convert in ("ORIGIN", "JSON", "XLSX"):
        for flow in ("INPUT", "OUTPUT"):
            params = {"data_flow_convert": convert, "data_flow_type": flow}
            # another company's process is indistinguishable from one that never existed
            assert_not_found(
                await api.get(data_url(bob_code), params=params, headers=world.owner.h), "read_data", bob_code
            )
    for caller in (world.helper, world.root, world.overlord):
        response = await api.get(data_url(bob_code), headers=caller.h)
        assert response.status_code == 200 and json.loads(response.content) == BOB_BODY
    # a user without an Admin role reads its own data through the Account API only
    assert_error(await api.get(data_url(alice_code), headers=world.alice.h), 403, "read_data")


# --------------------------------------------------------------------------------------------------------------
# A13, A14: statistics and report


def usage(name: str, day: date, reads: int, writes: int) -> dict[str, Any]:
    methods = []
    if reads:
        methods.append({"method_group": "NOTRACE", "unique_points_per_day": reads, "points_per_day": reads})
    if writes:
        methods.append({"method_group": "TRACE", "unique_points_per_day": writes, "points_per_day": writes})
    return {
        "username": name,
        "dates": [{"date": day.isoformat(), "services": [{"service": "ACCOUNT", "methods": methods}]}],
    }


async def stats(api: httpx.AsyncClient, caller: Caller, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(STATS, params=params, headers=caller.h)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"users"}
    return response.json()["users"]  # type: ignore[no-any-return]


async def test_statistics_with_known_answers(api: httpx.AsyncClient, world: World, clock: OffsetClock) -> None:
    today = world.today
    day = {"from": today.isoformat(), "to": today.isoformat()}
    alan, alice, bob = usage("alan", today, 1, 0), usage("alice", today, 2, 1), usage("bob", today, 1, 1)
    assert await stats(api, world.root, **day) == [alan, alice, bob]
    assert await stats(api, world.root, username="alice", **day) == [alice]
    assert await stats(api, world.helper, **day) == [alan, alice, bob]
    # a COMPANYOWNER: its own company's users only; another company's user is not found
    assert await stats(api, world.owner, **day) == [alan, alice]
    assert await stats(api, world.owner, username="alan", **day) == [alan]
    assert_not_found(
        await api.get(STATS, params={"username": "bob", **day}, headers=world.owner.h), "generate_statistics", "bob"
    )
    assert_not_found(await api.get(STATS, params={"username": "nobody"}, headers=world.root.h), "generate_statistics")
    # a named user without usage in the period is listed with no dates; nobody else is
    yesterday = (today - timedelta(days=1)).isoformat()
    assert await stats(api, world.root, username="alice", **{"from": yesterday, "to": yesterday}) == [
        {"username": "alice", "dates": []}
    ]
    assert await stats(api, world.root, **{"from": yesterday, "to": yesterday}) == []
    # 'to' is included; 'from' after 'to' by one day is an empty period, by two an error
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert await stats(api, world.root, **{"from": tomorrow, "to": today.isoformat()}) == []
    assert await stats(api, world.root, **{"from": yesterday, "to": tomorrow}) == [alan, alice, bob]
    # no period: this month up to yesterday (today excluded)
    assert await stats(api, world.root) == []
    next_day(clock)
    same_month = (today + timedelta(days=1)).month == today.month
    assert await stats(api, world.root) == ([alan, alice, bob] if same_month else [])
    assert await stats(api, world.root, **{"from": today.replace(day=1).isoformat()}) == [alan, alice, bob]


async def test_statistics_count_unique_inputs_and_skip_failures(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    h = world.alice.h
    for spec in ("Same", "Same", "Other"):
        assert (await api.put("/account/info", json={"specification": spec}, headers=h)).status_code == 200
    assert (await api.put("/account/info", json={"email": "bad"}, headers=h)).status_code == 400
    await services.audit.flush()
    today = world.today.isoformat()
    [alice] = await stats(api, world.root, username="alice", **{"from": today, "to": today})
    methods = {m["method_group"]: m for m in alice["dates"][0]["services"][0]["methods"]}
    assert methods["TRACE"] == {"method_group": "TRACE", "unique_points_per_day": 3, "points_per_day": 4}
    assert methods["NOTRACE"]["points_per_day"] == 2


@pytest.mark.parametrize(
    ("params", "entity"),
    [
        ({"from": "2024-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2024-02-21T09:30:00"}, "from"),
        ({"username": "a"}, "username"),
        ({"username": "bad name"}, "username"),
        ({"username": "u" * 257}, "username"),
    ],
)
@pytest.mark.parametrize(("path", "operation"), [(STATS, "generate_statistics"), (REPORT, "generate_report")])
async def test_statistics_and_report_query_bounds(
    api: httpx.AsyncClient, make_user: UserFactory, path: str, operation: str, params: dict[str, Any], entity: str
) -> None:
    root = await sign_in(api, make_user, "root", Role.ADMIN, "platform_co")
    assert_invalid(await api.get(path, params=params, headers=root.h), operation, entity)


@pytest.mark.parametrize(("path", "operation"), [(STATS, "generate_statistics"), (REPORT, "generate_report")])
async def test_statistics_and_report_periods(
    api: httpx.AsyncClient, make_user: UserFactory, path: str, operation: str
) -> None:
    root = await sign_in(api, make_user, "root", Role.ADMIN, "platform_co")
    for params in (
        {"from": "2024-03-05", "to": "2024-03-03"},  # 'from' two days after 'to'
        {"from": "2000-01-01", "to": "2010-01-01"},  # longer than 3653 days
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"from": "9999-12-31", "to": "0001-01-01"},
    ):
        assert_error(await api.get(path, params=params, headers=root.h), 400, operation)
    for params in ({"from": "9999-12-30", "to": "9999-12-31"}, {"from": "1899-12-31", "to": "1900-01-01"}):
        assert_error(await api.get(path, params=params, headers=root.h), 400, operation)  # outside the range
    for params in ({"from": "2024-03-04", "to": "2024-03-03"}, {"from": "8999-12-31", "to": "8999-12-31"}):
        assert (await api.get(path, params=params, headers=root.h)).status_code == 200, params


def report_summary(content: bytes) -> tuple[list[str], list[tuple[Any, ...]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheets = list(workbook.sheetnames)
    rows = [tuple(r) for r in workbook["Summary"].iter_rows(values_only=True)]
    workbook.close()
    return sheets, rows


async def test_report(api: httpx.AsyncClient, world: World) -> None:
    today = world.today
    day = {"from": today.isoformat(), "to": today.isoformat()}
    stamp = f"{today:%Y%m%d}_{today:%Y%m%d}"

    async def report(caller: Caller, **params: Any) -> tuple[str, list[tuple[Any, ...]]]:
        response = await api.get(REPORT, params={**day, **params}, headers=caller.h)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/octet-stream"
        sheets, rows = report_summary(response.content)
        assert sheets == ["Summary", "Actions", "Totals"]
        assert rows[0] == (
            "Date",
            "User",
            "Service",
            "Process type",
            "Points",
            "Unique points",
            "Elements",
            "Processes",
        )
        return response.headers["content-disposition"], [r[1:6] for r in rows[1:]]

    everyone = [
        ("alan", "ACCOUNT", "NOTRACE", 1, 1),
        ("alice", "ACCOUNT", "NOTRACE", 2, 2),
        ("alice", "ACCOUNT", "TRACE", 1, 1),
        ("bob", "ACCOUNT", "NOTRACE", 1, 1),
        ("bob", "ACCOUNT", "TRACE", 1, 1),
    ]
    disposition, rows = await report(world.root)
    assert disposition == f'attachment; filename="usage_all_{stamp}.xlsx"' and rows == everyone
    assert (await report(world.helper))[1] == everyone
    disposition, rows = await report(world.owner)
    assert disposition == f'attachment; filename="usage_alpha_co_{stamp}.xlsx"'
    assert rows == [r for r in everyone if r[0] != "bob"]
    disposition, rows = await report(world.root, username="bob")
    assert disposition == f'attachment; filename="usage_bob_{stamp}.xlsx"' and rows == everyone[3:]
    assert (await report(world.owner, username="alice"))[1] == everyone[1:3]
    assert_not_found(await api.get(REPORT, params={"username": "bob"}, headers=world.owner.h), "generate_report", "bob")
    assert_not_found(await api.get(REPORT, params={"username": "nobody"}, headers=world.root.h), "generate_report")
    # no period: this month to yesterday; today's usage is not in it
    response = await api.get(REPORT, headers=world.root.h)
    assert response.status_code == 200 and report_summary(response.content)[1][1:] == []


# --------------------------------------------------------------------------------------------------------------
# A15-A17: user quotas


def quota_url(username: str) -> str:
    return f"/admin/quota/{username}"


def ceiling_url(key: str) -> str:
    return f"/admin/companies/{key}/quota"


async def read_quota(api: httpx.AsyncClient, caller: Caller, username: str) -> dict[str, Any]:
    response = await api.get(quota_url(username), headers=caller.h)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


NO_QUOTA = {"base": {"services": []}, "window": None}


async def test_quota_lifecycle(api: httpx.AsyncClient, world: World) -> None:
    h = world.root.h
    assert await read_quota(api, world.root, "alice") == NO_QUOTA
    body = quota_body(
        ("ACCOUNT", "NOTRACE", 10, 2, 100, 5),
        ("ACCOUNT", "TRACE", 10, 100, None, 1),
        ("STUDIO", "PLAN", 15, 1500, 1500, 5),
    )
    window = {"from": "2024-02-01", "to": "2099-12-31"}
    put = await api.put(quota_url("alice"), json=body, params=window, headers=h)
    assert put.status_code == 204 and put.content == b""
    assert await read_quota(api, world.root, "alice") == {"base": body, "window": window}
    assert await read_quota(api, world.owner, "alice") == {"base": body, "window": window}
    assert await read_quota(api, world.helper, "alice") == {"base": body, "window": window}
    assert await read_quota(api, world.root, "bob") == NO_QUOTA

    # the quota is in force: two reads a day for alice's Account API reads
    codes = [(await api.get("/account/info", headers=world.alice.h)).status_code for _ in range(3)]
    assert codes == [200, 200, 402]
    assert (await api.get("/account/info", headers=world.alan.h)).status_code == 200  # alan has no quota

    # a new PUT replaces the whole quota; without from/to there is no window
    smaller = quota_body(("STUDIO", "ROUTE", 1, 1, None, 1))
    assert (await api.put(quota_url("alice"), json=smaller, headers=h)).status_code == 204
    assert await read_quota(api, world.root, "alice") == {"base": smaller, "window": None}
    assert (await api.get("/account/info", headers=world.alice.h)).status_code == 200  # no ACCOUNT limit now
    # an open end
    assert (
        await api.put(quota_url("alice"), json=smaller, params={"from": "2024-01-01"}, headers=h)
    ).status_code == 204
    assert (await read_quota(api, world.root, "alice"))["window"] == {"from": "2024-01-01", "to": None}

    deleted = await api.delete(quota_url("alice"), headers=h)
    assert deleted.status_code == 204 and deleted.content == b""
    assert await read_quota(api, world.root, "alice") == NO_QUOTA
    assert (await api.delete(quota_url("alice"), headers=h)).status_code == 204  # nothing left: still done

    for method, operation in (("PUT", "update_quota"), ("GET", "read_quota"), ("DELETE", "delete_quota")):
        response = await api.request(method, quota_url("nobody"), json=smaller, headers=h)
        assert_not_found(response, operation, "nobody")


async def test_quota_writes_are_audited_with_their_data(
    api: httpx.AsyncClient, world: World, services: Services
) -> None:
    body = quota_body(("STUDIO", "PLAN", 15, 1500, 1500, 5))
    put = await api.put(quota_url("alice"), json=body, params={"from": "2024-02-01"}, headers=world.root.h)
    assert put.status_code == 204
    code = put.headers["x-process-code"]
    await services.audit.flush()
    actions = (await audit(api, world.root, method_group="TRACE", service_name="ADMIN"))["actions"]
    assert [(a["username"], a["tracedata"]["operation"], a["tracedata"]["code"]) for a in actions] == [
        ("root", "update_quota", code)
    ]
    stored = await api.get(data_url(code), headers=world.root.h)
    assert json.loads(stored.content) == body
    # the owner of alpha_co does not see what the platform's ADMIN did
    assert (await audit(api, world.owner, service_name="ADMIN", method_group="TRACE"))["actions"] == []
    assert_not_found(await api.get(data_url(code), headers=world.owner.h), "read_data", code)


def method(**fields: Any) -> dict[str, Any]:
    base = {
        "method_group": "PLAN",
        "points_per_request": 15,
        "points_per_day": 1500,
        "points_per_date_window": 1500,
        "max_concurrent_execution": 5,
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("body", "entity"),
    [
        ({}, "services"),
        ({"services": []}, "services"),
        ({"services": None}, "services"),
        ({"services": [{"service": "STUDIO", "methods": []}]}, "methods"),
        ({"services": [{"service": "NOPE", "methods": [method()]}]}, "service"),
        ({"services": [{"service": "STUDIO", "methods": [method(method_group="NOPE")]}]}, "method_group"),
        ({"services": [{"service": "STUDIO", "methods": [method(points_per_request=-1)]}]}, "points_per_request"),
        (
            {"services": [{"service": "STUDIO", "methods": [method(points_per_request=1_000_001)]}]},
            "points_per_request",
        ),
        ({"services": [{"service": "STUDIO", "methods": [method(points_per_day=100_000_001)]}]}, "points_per_day"),
        ({"services": [{"service": "STUDIO", "methods": [method(points_per_day="5")]}]}, "points_per_day"),
        ({"services": [{"service": "STUDIO", "methods": [method(points_per_day=1.5)]}]}, "points_per_day"),
        (
            {"services": [{"service": "STUDIO", "methods": [method(points_per_date_window=2_147_483_648)]}]},
            "points_per_date_window",
        ),
        (
            {"services": [{"service": "STUDIO", "methods": [method(max_concurrent_execution=1001)]}]},
            "max_concurrent_execution",
        ),
        ({"services": [{"service": "STUDIO", "methods": [{"method_group": "PLAN"}]}]}, "points_per_request"),
        # one (service, method group) twice, in one service or across two entries
        ({"services": [{"service": "STUDIO", "methods": [method(), method()]}]}, "services"),
        (
            {
                "services": [
                    {"service": "STUDIO", "methods": [method()]},
                    {"service": "STUDIO", "methods": [method()]},
                ]
            },
            "services",
        ),
        ({"services": [{"service": "STUDIO", "methods": [method()]}] * 101}, "services"),
    ],
)
async def test_quota_body_bounds(api: httpx.AsyncClient, world: World, body: Any, entity: str) -> None:
    for url, operation in ((quota_url("alice"), "update_quota"), (ceiling_url("alpha_co"), "update_company_quota")):
        assert_invalid(await api.put(url, json=body, headers=world.root.h), operation, entity)
    assert await read_quota(api, world.root, "alice") == NO_QUOTA


async def test_quota_bounds_that_pass_and_window_bounds(api: httpx.AsyncClient, world: World) -> None:
    h = world.root.h
    top = quota_body(("STUDIO", "PLAN", 1_000_000, 100_000_000, 2_147_483_647, 1000))
    zero = quota_body(("STUDIO", "PLAN", 0, 0, 0, 0))
    for body in (top, zero):
        assert (await api.put(quota_url("alice"), json=body, headers=h)).status_code == 204
        assert (await read_quota(api, world.root, "alice"))["base"] == body
    for body in (top, zero):
        assert (await api.put(ceiling_url("alpha_co"), json=body, headers=h)).status_code == 204
    assert_invalid(
        await api.put(quota_url("alice"), json=top, params={"from": "2024-02-02", "to": "2024-02-01"}, headers=h),
        "update_quota",
        "window",
    )
    assert_invalid(
        await api.put(quota_url("alice"), json=top, params={"from": "2024-02-30"}, headers=h), "update_quota", "from"
    )
    assert_invalid(await api.put(quota_url("alice"), content=b"{not json", headers=h), "update_quota", "body")
    assert (await read_quota(api, world.root, "alice"))["base"] == zero  # refused writes changed nothing


# --------------------------------------------------------------------------------------------------------------
# company ceilings and the COMPANYOWNER's quotas within them

CEILING = quota_body(("STUDIO", "PLAN", 15, 1500, 3000, 5))


async def test_ceiling_lifecycle(api: httpx.AsyncClient, world: World) -> None:
    h = world.root.h
    empty = {"base": {"services": []}}
    assert (await api.get(ceiling_url("alpha_co"), headers=h)).json() == empty
    put = await api.put(ceiling_url("alpha_co"), json=CEILING, headers=h)
    assert put.status_code == 204 and put.content == b""
    for caller in (world.root, world.overlord, world.helper, world.owner):
        read = await api.get(ceiling_url("alpha_co"), headers=caller.h)
        assert read.status_code == 200 and read.json() == {"base": CEILING}
    assert (await api.get(ceiling_url("beta_co"), headers=h)).json() == empty
    other = quota_body(("REGISTRY", "ROUTE", 1, 2, None, 3), ("STUDIO", "PLAN", 1, 1, None, 1))
    assert (await api.put(ceiling_url("alpha_co"), json=other, headers=world.overlord.h)).status_code == 204
    assert (await api.get(ceiling_url("alpha_co"), headers=h)).json() == {"base": other}
    deleted = await api.delete(ceiling_url("alpha_co"), headers=h)
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await api.get(ceiling_url("alpha_co"), headers=h)).json() == empty
    for method, operation in (
        ("PUT", "update_company_quota"),
        ("GET", "read_company_quota"),
        ("DELETE", "delete_company_quota"),
    ):
        response = await api.request(method, ceiling_url("no_such_co"), json=CEILING, headers=h)
        assert_not_found(response, operation, "no_such_co")
    assert_invalid(await api.get(ceiling_url("ab"), headers=h), "read_company_quota", "key")


async def test_companyowner_gives_quotas_within_the_ceiling(api: httpx.AsyncClient, world: World) -> None:
    o = world.owner.h
    assert (await api.put(ceiling_url("alpha_co"), json=CEILING, headers=world.root.h)).status_code == 204

    at_ceiling = quota_body(("STUDIO", "PLAN", 15, 1500, 3000, 5))
    assert (await api.put(quota_url("alice"), json=at_ceiling, headers=o)).status_code == 204
    assert (await read_quota(api, world.owner, "alice"))["base"] == at_ceiling
    # pairs the ceiling does not name have no ceiling
    wider = quota_body(("ACCOUNT", "NOTRACE", 1_000_000, 100_000_000, None, 1000), ("STUDIO", "PLAN", 1, 2, 3, 4))
    assert (await api.put(quota_url("alan"), json=wider, params={"from": "2024-01-01"}, headers=o)).status_code == 204
    assert (await read_quota(api, world.owner, "alan"))["base"] == wider

    refusals = [
        (quota_body(("STUDIO", "PLAN", 16, 1500, 3000, 5)), "points_per_request 16 is above the company's ceiling"),
        (quota_body(("STUDIO", "PLAN", 15, 1501, 3000, 5)), "points_per_day 1501 is above"),
        (quota_body(("STUDIO", "PLAN", 15, 1500, 3001, 5)), "points_per_date_window 3001 is above"),
        (quota_body(("STUDIO", "PLAN", 15, 1500, None, 5)), "points_per_date_window must be given"),
        (quota_body(("STUDIO", "PLAN", 15, 1500, 3000, 6)), "max_concurrent_execution 6 is above"),
        (quota_body(("REGISTRY", "ROUTE", 1, 1, 1, 1)), "STUDIO/PLAN has a company ceiling"),
    ]
    for body, message in refusals:
        refused = assert_error(
            await api.put(quota_url("alice"), json=body, headers=o), 403, "update_quota", client=world.owner.client_id
        )
        assert message in refused["message"], refused
        assert (await read_quota(api, world.owner, "alice"))["base"] == at_ceiling  # nothing changed
    # removing the quota would lift alice above the ceiling (no quota, no limit)
    refused = assert_error(await api.delete(quota_url("alice"), headers=o), 403, "delete_quota")
    assert "ceiling" in refused["message"]
    assert (await read_quota(api, world.owner, "alice"))["base"] == at_ceiling

    # the platform's operators are not bound by it
    above = quota_body(("STUDIO", "PLAN", 1_000_000, 100_000_000, None, 1000))
    assert (await api.put(quota_url("alice"), json=above, headers=world.root.h)).status_code == 204
    assert (await api.put(quota_url("owner"), json=above, headers=world.overlord.h)).status_code == 204
    # lowering the ceiling keeps quotas already given
    low = quota_body(("STUDIO", "PLAN", 1, 1, 1, 1))
    assert (await api.put(ceiling_url("alpha_co"), json=low, headers=world.root.h)).status_code == 204
    assert (await read_quota(api, world.owner, "alice"))["base"] == above
    assert (await read_quota(api, world.owner, "alan"))["base"] == wider
    # without a ceiling, the owner gives anything and may remove quotas
    assert (await api.delete(ceiling_url("alpha_co"), headers=world.root.h)).status_code == 204
    assert (await api.put(quota_url("alice"), json=above, headers=o)).status_code == 204
    assert (await api.delete(quota_url("alice"), headers=o)).status_code == 204
    assert await read_quota(api, world.owner, "alice") == NO_QUOTA


async def test_companyowner_scope_for_quotas_and_ceilings(api: httpx.AsyncClient, world: World) -> None:
    o = world.owner.h
    body = quota_body(("STUDIO", "PLAN", 1, 1, 1, 1))
    assert (await api.put(quota_url("bob"), json=body, headers=world.root.h)).status_code == 204
    assert (await api.put(ceiling_url("beta_co"), json=CEILING, headers=world.root.h)).status_code == 204
    # another company's user and company: not found, whatever the operation
    assert_not_found(await api.put(quota_url("bob"), json=body, headers=o), "update_quota", "bob")
    assert_not_found(await api.get(quota_url("bob"), headers=o), "read_quota", "bob")
    assert_not_found(await api.delete(quota_url("bob"), headers=o), "delete_quota", "bob")
    assert_not_found(await api.get(quota_url("root"), headers=o), "read_quota", "root")
    assert_not_found(await api.put(ceiling_url("beta_co"), json=body, headers=o), "update_company_quota", "beta_co")
    assert_not_found(await api.get(ceiling_url("beta_co"), headers=o), "read_company_quota", "beta_co")
    assert_not_found(await api.delete(ceiling_url("beta_co"), headers=o), "delete_company_quota", "beta_co")
    # its own company's ceiling is the platform's to set
    for method, operation in (("PUT", "update_company_quota"), ("DELETE", "delete_company_quota")):
        response = await api.request(method, ceiling_url("alpha_co"), json=body, headers=o)
        assert "ADMIN" in assert_error(response, 403, operation, client=world.owner.client_id)["message"]
    assert (await api.get(ceiling_url("alpha_co"), headers=o)).json() == {"base": {"services": []}}
    # bob's quota and beta_co's ceiling are untouched
    assert (await read_quota(api, world.root, "bob"))["base"] == body
    assert (await api.get(ceiling_url("beta_co"), headers=world.root.h)).json() == {"base": CEILING}


async def test_support_reads_quotas_and_changes_nothing(api: httpx.AsyncClient, world: World) -> None:
    s = world.helper.h
    body = quota_body(("STUDIO", "PLAN", 1, 1, 1, 1))
    assert (await api.put(quota_url("bob"), json=body, headers=world.root.h)).status_code == 204
    assert (await read_quota(api, world.helper, "bob"))["base"] == body
    for method, url, operation in (
        ("PUT", quota_url("bob"), "update_quota"),
        ("DELETE", quota_url("bob"), "delete_quota"),
        ("PUT", quota_url("alice"), "update_quota"),
        ("PUT", ceiling_url("beta_co"), "update_company_quota"),
        ("DELETE", ceiling_url("beta_co"), "delete_company_quota"),
        ("PUT", quota_url("nobody"), "update_quota"),  # refused before anything is looked up
    ):
        response = await api.request(method, url, json=CEILING, headers=s)
        assert "read-only" in assert_error(response, 403, operation, client=world.helper.client_id)["message"]
    assert (await read_quota(api, world.root, "bob"))["base"] == body
    assert await read_quota(api, world.root, "alice") == NO_QUOTA
    assert (await api.get(ceiling_url("beta_co"), headers=s)).json() == {"base": {"services": []}}


# --------------------------------------------------------------------------------------------------------------
# every role, every operation; every operation needs a token

WRITES = {"update_quota", "delete_quota", "update_company_quota", "delete_company_quota"}
OPERATIONS: list[tuple[str, str, str]] = [
    ("read_audit", "GET", AUDIT),
    ("read_data", "GET", "/admin/data/{code}"),
    ("generate_statistics", "GET", STATS),
    ("generate_report", "GET", REPORT),
    ("read_quota", "GET", quota_url("alice")),
    ("update_quota", "PUT", quota_url("alice")),
    ("delete_quota", "DELETE", quota_url("alice")),
    ("read_company_quota", "GET", ceiling_url("alpha_co")),
    ("update_company_quota", "PUT", ceiling_url("alpha_co")),
    ("delete_company_quota", "DELETE", ceiling_url("alpha_co")),
]


def expected_status(role: Role, operation: str) -> int:
    success = 204 if operation in WRITES else 200
    if role in (Role.ADMIN, Role.OVERLORD):
        return success
    if role is Role.SUPPORT:
        return 403 if operation in WRITES else 200
    if role is Role.COMPANYOWNER:
        return 403 if operation in {"update_company_quota", "delete_company_quota"} else success
    return 403


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_on_every_operation(
    api: httpx.AsyncClient, make_user: UserFactory, services: Services, role: Role
) -> None:
    alice = await sign_in(api, make_user, "alice", Role.USER, "alpha_co")
    put = await api.put("/account/info", json=ALICE_BODY, headers=alice.h)
    caller = await sign_in(api, make_user, "caller", role, "alpha_co")
    body = quota_body(("STUDIO", "PLAN", 1, 1, 1, 1))
    for operation, method, path in OPERATIONS:
        url = path.format(code=put.headers["x-process-code"])
        response = await api.request(method, url, json=body, headers=caller.h)
        expected = expected_status(role, operation)
        if expected >= 400:
            assert_error(response, expected, operation, client=caller.client_id)
        else:
            assert response.status_code == expected, (operation, response.text)


@pytest.mark.parametrize(("operation", "method", "path"), OPERATIONS)
@pytest.mark.parametrize("authorization", [None, "Bearer not.a.token", "Basic dXNlcjpwYXNz"])
async def test_every_operation_needs_a_valid_token(
    api: httpx.AsyncClient, operation: str, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    url = path.format(code=uuid.uuid4())
    response = await api.request(method, url, json=CEILING, headers=headers)
    assert_error(response, 401, operation, client="anonymous_|_anonymous")
    assert response.headers["www-authenticate"] == "Bearer"
