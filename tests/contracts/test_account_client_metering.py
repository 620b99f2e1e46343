"""The published Account client (``vrt-lss-account`` 7.46) against the live server: the metering half.

A user makes calls through the client's own API classes; the test keeps a ledger of every metered call it made
(operation, process type, outcome, the process/request codes from the response headers, the bytes sent and
received, the result elements) and asserts that what the client parses from ``read_audit``,
``generate_statistics``, ``generate_report``, ``read_data`` and ``read_quota`` matches that ledger exactly
(seed 001; docs/architecture.md, metering). Every answer goes through the client's typed calls, so a body
the client's models refuse would fail the test with a pydantic ``ValidationError``.

The audit of a request is written after its answer has been sent, and reads are audited in batches (flushed
every 0.5 s). Before each read of the audit trail, statistics or report, the test therefore waits ("settles")
on the server's own event loop until the server holds exactly as many records as the ledger has calls, never
more, with every payload they announce on disk.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from vrt_lss_account import (
    AccountAuditResult,
    ApiClient,
    AuditAction,
    AuditApi,
    CalculationStatus,
    DataApi,
    FlowStage,
    FlowType,
    General402,
    General404,
    InfoApi,
    InfoChangeRequest,
    ProcessType,
    QuotaApi,
    QuotasResult,
    Service,
    StatisticsApi,
    TokenRequest,
    User,
    UserStatistics,
)
from vrt_lss_account.api_response import ApiResponse
from vrt_lss_account.exceptions import ApiException, BadRequestException, NotFoundException

from cabinet.core.clock import OffsetClock
from cabinet.core.metering import ProcessType as InternalProcessType
from cabinet.core.metering import Service as InternalService
from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.quotas.schemas import MAX_CONCURRENT, MAX_POINTS_PER_DAY, MAX_POINTS_PER_REQUEST, QuotaSpec
from tests.contracts.test_account_client import Env, check_general, header, on_server
from tests.helpers import LiveServer

PASSWORD = "correct_horse_battery"
COMPANY = "acme_corp"
NOTRACE, TRACE = ProcessType.NOTRACE, ProcessType.TRACE
FINISHED, FAILED, BY_QUOTA = (
    CalculationStatus.FINISHED_IN_TIME,
    CalculationStatus.FAILED,
    CalculationStatus.CANCELED_BY_QUOTA,
)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR = datetime(2200, 1, 1, tzinfo=UTC)
# Operations whose payloads the server keeps (TRACE, payloads not excluded): docs/architecture.md.
KEEPS_PAYLOADS = {"update_info"}


# --- harness ---------------------------------------------------------------------------------------------------
@pytest.fixture
def env(live_server: LiveServer, clock: OffsetClock) -> Iterator[Env]:
    environment = Env(live_server, clock, [])
    try:
        yield environment
    finally:
        for api_client in environment.clients:
            api_client.rest_client.pool_manager.clear()


@dataclass
class Call:
    """One metered call the test made, as the test saw it."""

    operation: str
    process_type: ProcessType
    status: CalculationStatus
    process_code: uuid.UUID
    request_code: uuid.UUID
    sent_at: datetime
    received_at: datetime
    elements: int = 0
    sent: bytes | None = None  # the request body, as the client put it on the wire
    received: bytes | None = None  # the response body

    @property
    def points(self) -> int:
        return 1 if self.status is FINISHED else 0

    @property
    def charged(self) -> bool:
        return self.status is FINISHED


async def _settle(server: LiveServer, user_id: int, expected: int, patience: float = 15.0) -> int:
    """Wait until the server has recorded exactly ``expected`` actions of the user with their payloads on disk."""
    services = server.services
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        await services.audit.flush()
        rows, overall, _ = await services.audit.search(
            AuditQuery(date_from=EPOCH, date_to=FAR, user_id=user_id, limit=2001)
        )
        missing = [
            key
            for row in rows
            for key in (row.input_blob, row.output_blob)
            if key and not await services.audit.blobs.exists(key)
        ]
        if overall > expected or (overall == expected and not missing) or loop.time() > deadline:
            return overall
        await asyncio.sleep(0.02)


@dataclass
class Caller:
    """A signed-in user driving the client, with the ledger of its metered calls."""

    env: Env
    username: str
    company: str
    user_id: int
    company_id: int
    timezone: int
    token: str
    calls: list[Call] = field(default_factory=list)

    @property
    def api_client(self) -> ApiClient:
        return self.env.client(self.token)

    def today(self) -> date:
        return (datetime.now(UTC) + timedelta(hours=self.timezone)).date()

    def local_naive(self, moment: datetime) -> datetime:
        """The same instant as a naive date-time on the user's wall clock (how the server reads no offset)."""
        return (moment.astimezone(UTC) + timedelta(hours=self.timezone)).replace(tzinfo=None)

    # --- calls ---------------------------------------------------------------------------------------------
    def call(
        self,
        operation: str,
        process_type: ProcessType,
        method: Callable[..., ApiResponse[Any]],
        /,
        *args: Any,
        elements: Callable[[Any], int] = lambda data: 0,
        sent: bytes | None = None,
        **kwargs: Any,
    ) -> ApiResponse[Any]:
        sent_at = datetime.now(UTC)
        response = method(*args, **kwargs)
        received_at = datetime.now(UTC)
        assert response.status_code == 200
        self.calls.append(
            Call(
                operation,
                process_type,
                FINISHED,
                uuid.UUID(header(response, "X-Process-Code")),
                uuid.UUID(header(response, "X-Request-Code")),
                sent_at,
                received_at,
                elements(response.data),
                sent,
                bytes(response.raw_data),
            )
        )
        return response

    def refused(
        self,
        operation: str,
        process_type: ProcessType,
        method: Callable[..., Any],
        /,
        *args: Any,
        exc_type: type[ApiException],
        status: int,
        sent: bytes | None = None,
        **kwargs: Any,
    ) -> ApiException:
        sent_at = datetime.now(UTC)
        with pytest.raises(ApiException) as caught:
            method(*args, **kwargs)
        received_at = datetime.now(UTC)
        error = caught.value
        assert type(error) is exc_type, (type(error), error.status, error.body)
        assert error.status == status, error.body
        self.calls.append(
            Call(
                operation,
                process_type,
                BY_QUOTA if status == 402 else FAILED,
                uuid.UUID(header(error, "X-Process-Code")),
                uuid.UUID(header(error, "X-Request-Code")),
                sent_at,
                received_at,
                0,
                sent,
                (error.body or "").encode(),
            )
        )
        return error

    def settle(self) -> list[Call]:
        """Wait for the server to record every call so far; return the ledger as of now."""
        recorded = on_server(self.env.server, _settle(self.env.server, self.user_id, len(self.calls)))
        assert recorded == len(self.calls), (recorded, [c.operation for c in self.calls])
        return list(self.calls)

    def body_of(self, request: InfoChangeRequest) -> bytes:
        """The exact bytes the client puts on the wire for this body (``json.dumps`` of the sanitized model)."""
        return json.dumps(self.api_client.sanitize_for_serialization(request)).encode()

    def read_info(self) -> User:
        response = self.call("read_info", NOTRACE, InfoApi(self.api_client).read_info_with_http_info)
        assert isinstance(response.data, User) and response.data.username == self.username
        return response.data

    def update_info(self, request: InfoChangeRequest) -> Call:
        response = self.call(
            "update_info",
            TRACE,
            InfoApi(self.api_client).update_info_with_http_info,
            request,
            sent=self.body_of(request),
        )
        assert isinstance(response.data, User)
        return self.calls[-1]

    def read_audit(self, **query: Any) -> tuple[AccountAuditResult, list[Call]]:
        """The audit as the client parses it, and the ledger as it stood when the audit was read."""
        before = self.settle()
        response = self.call(
            "read_audit",
            NOTRACE,
            AuditApi(self.api_client).read_audit_with_http_info,
            elements=lambda data: len(data.actions),
            **query,
        )
        assert isinstance(response.data, AccountAuditResult)
        return response.data, before

    def statistics(self, **query: Any) -> tuple[UserStatistics, list[Call]]:
        before = self.settle()
        response = self.call(
            "generate_statistics",
            NOTRACE,
            StatisticsApi(self.api_client).generate_statistics_with_http_info,
            elements=lambda data: len(data.dates),
            **query,
        )
        assert isinstance(response.data, UserStatistics)
        assert response.data.username == self.username
        return response.data, before

    def report(self, **query: Any) -> tuple[bytes, list[Call]]:
        before = self.settle()
        response = self.call(
            "generate_report", NOTRACE, StatisticsApi(self.api_client).generate_report_with_http_info, **query
        )
        assert isinstance(response.data, bytes | bytearray)
        return bytes(response.data), before

    def read_data(self, process_code: uuid.UUID, **query: Any) -> bytes:
        response = self.call(
            "read_data", NOTRACE, DataApi(self.api_client).read_data_with_http_info, process_code, **query
        )
        assert isinstance(response.data, bytes | bytearray)
        return bytes(response.data)

    def read_data_missing(self, process_code: uuid.UUID, **query: Any) -> General404:
        error = self.refused(
            "read_data",
            NOTRACE,
            DataApi(self.api_client).read_data,
            process_code,
            exc_type=NotFoundException,
            status=404,
            **query,
        )
        data: General404 = check_general(
            error, NotFoundException, 404, General404, operation="read_data", username=self.username
        )
        assert data.resource_key == str(process_code)
        return data

    def read_quota(self) -> QuotasResult:
        response = self.call("read_quota", NOTRACE, QuotaApi(self.api_client).read_quota_with_http_info)
        assert isinstance(response.data, QuotasResult)
        return response.data


def make_caller(env: Env, *, company: str = COMPANY, timezone_hours: int = 0, **extra: Any) -> Caller:
    username = f"meter_{uuid.uuid4().hex[:10]}"
    command = UserCreate(
        username=username,
        password=PASSWORD,
        company_key=company,
        roles=[Role.USER],
        create_company=True,
        timezone=timezone_hours,
        **extra,
    )
    user = on_server(env.server, env.server.services.identity.create_user(command))
    token = env.auth().run_token_generation(TokenRequest(username=username, password=PASSWORD))
    return Caller(env, username, company, user.id, user.company_id, timezone_hours, token)


# --- expectations from the ledger --------------------------------------------------------------------------------
def within(calls: list[Call], start: datetime, end: datetime) -> list[Call]:
    """The calls of a period whose bounds were taken between calls (none of them may straddle a bound)."""
    for c in calls:
        for bound in (start, end):
            assert not c.sent_at < bound < c.received_at, "a period bound was taken during a call"
    return [c for c in calls if c.sent_at >= start and c.received_at <= end]


def check_actions(actions: list[AuditAction], expected: list[Call], caller: Caller) -> None:
    """The audit actions are exactly the expected calls, in that order, with the right figures."""
    assert [a.process_code for a in actions] == [c.process_code for c in expected], (
        [(a.requests[0].operation if a.requests else None) for a in actions],
        [c.operation for c in expected],
    )
    for action, c in zip(actions, expected, strict=True):
        assert isinstance(action, AuditAction)
        assert action.process_type == c.process_type
        assert action.service == Service.ACCOUNT
        assert (action.username, action.company) == (caller.username, caller.company)
        assert action.time.tzinfo is not None
        assert c.sent_at - timedelta(seconds=1) <= action.time <= c.received_at + timedelta(seconds=1)
        [request] = action.requests
        assert (request.process_code, request.request_code) == (c.process_code, c.request_code)
        assert (request.operation, request.service) == (c.operation, Service.ACCOUNT)
        assert (request.username, request.company) == (caller.username, caller.company)
        assert request.time == action.time
        stats = action.statistics
        assert stats.calculation_info.status == c.status, (c.operation, stats.calculation_info)
        assert stats.request_points_count == c.points
        assert stats.result_elements_count == c.elements
        if c.charged:
            assert stats.calculation_info.message is None
        else:
            assert stats.calculation_info.message
        keeps = c.operation in KEEPS_PAYLOADS
        assert (action.input_file_exists, action.output_file_exists) == (keeps, keeps), c.operation


def check_counters(result: AccountAuditResult, *, overall: int, filtered: int) -> None:
    assert (result.counters.overall.total, result.counters.filter.total) == (overall, filtered)


def unique_points(calls: list[Call]) -> int:
    """Identical inputs count once; a call without a body is its own point."""
    return len({c.sent if c.sent else c.process_code for c in calls})


def expected_usage(calls: list[Call]) -> dict[ProcessType, tuple[int, int, int, int]]:
    """(points, unique points, elements, processes) per process type, from the charged calls."""
    out: dict[ProcessType, tuple[int, int, int, int]] = {}
    for ptype in (NOTRACE, TRACE):
        charged = [c for c in calls if c.charged and c.process_type == ptype]
        if charged:
            out[ptype] = (
                sum(c.points for c in charged),
                unique_points(charged),
                sum(c.elements for c in charged),
                len(charged),
            )
    return out


def usage_of(statistics: UserStatistics, day: date) -> dict[ProcessType, tuple[int, int, int, int]]:
    [one_day] = statistics.dates
    assert one_day.var_date == day
    [service] = one_day.services
    assert service.service == Service.ACCOUNT
    return {
        p.process_type: (p.points_per_day, p.unique_points_per_day, p.elements_per_day, p.processes_per_day)
        for p in service.processes
    }


# --- XLSX (zip + XML only: no spreadsheet library is a dependency) ----------------------------------------------
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _column(ref: str) -> int:
    index = 0
    for ch in ref:
        if not ch.isalpha():
            break
        index = index * 26 + ord(ch.upper()) - ord("A") + 1
    return index - 1


def read_xlsx(data: bytes) -> dict[str, list[list[str]]]:
    """Every sheet of a workbook as rows of cell texts, keyed by sheet name, in the workbook's order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = ET.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root.findall("m:si", NS)]
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.findall("p:Relationship", NS)}
        workbook = ET.fromstring(archive.read("xl/workbook.xml"))
        sheets: dict[str, list[list[str]]] = {}
        for sheet in workbook.findall("m:sheets/m:sheet", NS):
            target = targets[sheet.get(f"{{{NS['r']}}}id")].lstrip("/")
            path = target if target.startswith("xl/") else f"xl/{target}"
            root = ET.fromstring(archive.read(path))
            rows: list[list[str]] = []
            for row in root.findall("m:sheetData/m:row", NS):
                cells: list[str] = []
                for cell in row.findall("m:c", NS):
                    col = _column(cell.get("r", "A"))
                    kind = cell.get("t")
                    if kind == "inlineStr":
                        text = "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t"))
                    else:
                        value = cell.find("m:v", NS)
                        text = value.text or "" if value is not None else ""
                        if kind == "s":
                            text = shared[int(text)]
                    cells.extend([""] * (col + 1 - len(cells)))
                    cells[col] = text
                number_of_row = int(row.get("r", len(rows) + 1))
                rows.extend([] for _ in range(number_of_row - 1 - len(rows)))  # rows with no cells are left out
                rows.append(cells)
            sheets[sheet.get("name", "")] = rows
        return sheets


def number(text: str) -> int:
    value = float(text)
    assert value.is_integer(), text
    return int(value)


# --- the tests ---------------------------------------------------------------------------------------------------
def test_audit_statistics_report_and_data_match_what_the_user_did(env: Env) -> None:
    caller = make_caller(env, timezone_hours=3)  # naive date-times are then read on a +03:00 wall clock
    other = make_caller(env, company="other_corp")
    foreign = other.update_info(InfoChangeRequest(specification="Someone Else"))

    start = datetime.now(UTC)
    k = 3
    for _ in range(k):
        caller.read_info()
    middle = datetime.now(UTC)
    bodies = [
        InfoChangeRequest(specification="Traced A"),
        InfoChangeRequest(specification="Traced B", attributes=[{"key": "depot", "value": "north"}]),
        InfoChangeRequest(specification="Traced A"),
        InfoChangeRequest(email="traced@acme.example.com"),
        InfoChangeRequest(specification="Traced A"),
    ]
    updates = [caller.update_info(body) for body in bodies]
    assert len({u.sent for u in updates}) == 3  # five updates, three distinct bodies
    bad = InfoChangeRequest.model_construct(email="not an email")  # past the client's own validators
    error = caller.refused(
        "update_info",
        TRACE,
        InfoApi(caller.api_client).update_info,
        bad,
        exc_type=BadRequestException,
        status=400,
        sent=caller.body_of(bad),
    )
    assert error.data is not None and error.data.schema_errors
    end = datetime.now(UTC)
    traced = within(caller.calls, start, end)
    assert [c.operation for c in traced] == ["read_info"] * k + ["update_info"] * (len(bodies) + 1)

    # --- audit: the default period (today), all of it, in time order
    result, before = caller.read_audit()
    assert before == traced
    check_actions(result.actions, before, caller)
    check_counters(result, overall=len(before), filtered=len(before))

    # explicit periods: tz-aware UTC, naive (the user's +03:00 wall clock), and other offsets
    result, before = caller.read_audit(var_from=start, to=end)
    check_actions(result.actions, traced, caller)
    check_counters(result, overall=len(before), filtered=len(traced))

    result, before = caller.read_audit(var_from=caller.local_naive(start), to=caller.local_naive(middle))
    check_actions(result.actions, traced[:k], caller)
    check_counters(result, overall=len(before), filtered=k)

    minus5, plus530 = timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))
    result, before = caller.read_audit(var_from=middle.astimezone(minus5), to=end.astimezone(plus530))
    check_actions(result.actions, traced[k:], caller)
    check_counters(result, overall=len(before), filtered=len(traced) - k)

    result, before = caller.read_audit(var_from=caller.local_naive(middle))  # to: now
    check_actions(result.actions, within(before, middle, FAR), caller)
    check_counters(result, overall=len(before), filtered=len(before) - k)

    later = datetime.now(UTC) + timedelta(hours=1)
    result, before = caller.read_audit(var_from=later, to=later + timedelta(hours=1))
    assert result.actions == []
    check_counters(result, overall=len(before), filtered=0)

    # --- audit filters
    result, before = caller.read_audit(process_type=TRACE)
    expected = [c for c in before if c.process_type == TRACE]
    check_actions(result.actions, expected, caller)
    check_counters(result, overall=len(before), filtered=len(bodies) + 1)

    result, before = caller.read_audit(operation="update_info", status=FAILED)
    check_actions(result.actions, [traced[-1]], caller)
    check_counters(result, overall=len(before), filtered=1)

    result, before = caller.read_audit(process_type=NOTRACE, status=FINISHED)
    expected = [c for c in before if c.process_type == NOTRACE and c.status == FINISHED]
    assert {c.operation for c in expected} == {"read_info", "read_audit"}
    check_actions(result.actions, expected, caller)
    check_counters(result, overall=len(before), filtered=len(expected))

    result, before = caller.read_audit(operation="read_audit")
    expected = [c for c in before if c.operation == "read_audit"]
    check_actions(result.actions, expected, caller)
    assert [a.statistics.result_elements_count for a in result.actions] == [c.elements for c in expected]

    result, before = caller.read_audit(service=Service.ACCOUNT)
    check_actions(result.actions, before, caller)
    check_counters(result, overall=len(before), filtered=len(before))

    result, before = caller.read_audit(service=Service.ROUTING)
    assert result.actions == []
    check_counters(result, overall=len(before), filtered=0)

    # --- paging and sorting
    result, before = caller.read_audit(var_from=start, to=end, offset=2, limit=3, sort_direction="DESC")
    check_actions(result.actions, traced[::-1][2:5], caller)
    check_counters(result, overall=len(before), filtered=len(traced))

    result, before = caller.read_audit(var_from=start, to=end, offset=len(traced) - 1, limit=2001)
    check_actions(result.actions, traced[-1:], caller)
    check_counters(result, overall=len(before), filtered=len(traced))

    result, before = caller.read_audit(offset=len(before) + 5)
    assert result.actions == []
    check_counters(result, overall=len(before), filtered=len(before))

    result, before = caller.read_audit(sort_field="time", sort_direction="DESC", limit=4)
    check_actions(result.actions, before[::-1][:4], caller)

    result, before = caller.read_audit(var_from=start, to=end, sort_field="status")
    statuses = [a.statistics.calculation_info.status.value for a in result.actions]
    assert statuses == sorted(statuses) and statuses[0] == FAILED.value
    assert {a.process_code for a in result.actions} == {c.process_code for c in traced}

    result, before = caller.read_audit(var_from=start, to=end, sort_field="operation", sort_direction="DESC")
    operations = [a.requests[0].operation for a in result.actions]
    assert operations == ["update_info"] * (len(bodies) + 1) + ["read_info"] * k

    # --- statistics for today, explicit from/to = today
    today = caller.today()
    statistics, before = caller.statistics(var_from=today, to=today)
    usage = usage_of(statistics, today)
    assert usage == expected_usage(before)
    assert usage[TRACE] == (len(bodies), 3, 0, len(bodies))  # the refused update is not charged
    assert usage[NOTRACE][0] == len([c for c in before if c.process_type == NOTRACE])

    statistics, before = caller.statistics(var_from=today, to=today, process_type=TRACE)
    assert usage_of(statistics, today) == {TRACE: expected_usage(before)[TRACE]}

    statistics, before = caller.statistics(var_from=today, to=today, service=Service.ACCOUNT)
    assert usage_of(statistics, today) == expected_usage(before)

    statistics, before = caller.statistics(var_from=today, to=today, service=Service.ROUTING)
    assert statistics.dates == []

    statistics, before = caller.statistics(to=today)  # from: the first day of the month; a given `to` is inclusive
    assert usage_of(statistics, today) == expected_usage(before)

    statistics, before = caller.statistics()  # default: up to yesterday, so today is not in it
    assert statistics.dates == []

    statistics, before = caller.statistics(var_from=today + timedelta(days=1), to=today + timedelta(days=1))
    assert statistics.dates == []

    # --- the XLSX report of today: Summary, Actions (one row per action), Totals
    report, before = caller.report(var_from=today, to=today)
    sheets = read_xlsx(report)
    assert list(sheets) == ["Summary", "Actions", "Totals"]
    header_row, *rows = sheets["Actions"]
    assert header_row[4:6] == ["Operation", "Status"] and header_row[9] == "Process code"
    assert len(rows) == len(before)
    by_code = {row[9]: row for row in rows}
    assert set(by_code) == {str(c.process_code) for c in before}
    for c in before:
        row = by_code[str(c.process_code)]
        assert row[1:6] == [caller.username, "ACCOUNT", c.process_type.value, c.operation, c.status.value]
        assert (number(row[6]), number(row[7])) == (c.points, c.elements)

    expected = expected_usage(before)
    summary_header, *summary = sheets["Summary"]
    assert summary_header[4:8] == ["Points", "Unique points", "Elements", "Processes"]
    assert {
        ProcessType(row[3]): tuple(number(v) for v in row[4:8]) for row in summary if row[1] == caller.username
    } == expected
    assert all(row[2] == "ACCOUNT" for row in summary) and len(summary) == len(expected)
    totals = {ProcessType(row[1]): tuple(number(v) for v in row[2:6]) for row in sheets["Totals"][3:]}
    assert totals == expected
    assert today.isoformat() in sheets["Totals"][0][1]

    # The report of another period holds no action of today.
    report, before = caller.report(var_from=today - timedelta(days=3), to=today - timedelta(days=1))
    sheets = read_xlsx(report)
    assert list(sheets) == ["Summary", "Actions", "Totals"]
    assert len(sheets["Actions"]) == 1 and len(sheets["Summary"]) == 1

    # --- stored data: what was sent and what was received, byte for byte
    caller.settle()
    for update in updates:
        assert caller.read_data(update.process_code) == update.sent
        assert caller.read_data(update.process_code, data_flow_type=FlowType.INPUT, data_flow_stage=FlowStage.RAW) == (
            update.sent
        )
        assert caller.read_data(update.process_code, data_flow_type=FlowType.OUTPUT) == update.received
        stored_user = User.from_json(update.received.decode())
        assert stored_user is not None and stored_user.username == caller.username
    refused = traced[-1]
    assert caller.read_data(refused.process_code) == refused.sent
    assert caller.read_data(refused.process_code, data_flow_type=FlowType.OUTPUT) == refused.received

    # no data for reads, for another company's process, or for an unknown process
    caller.read_data_missing(traced[0].process_code)
    caller.read_data_missing(traced[0].process_code, data_flow_type=FlowType.OUTPUT)
    caller.read_data_missing(foreign.process_code)
    caller.read_data_missing(foreign.process_code, data_flow_type=FlowType.OUTPUT)
    caller.read_data_missing(uuid.uuid4())
    assert other.read_data(foreign.process_code) == foreign.sent  # the owner still reads it

    result, before = caller.read_audit(operation="read_data")
    expected = [c for c in before if c.operation == "read_data"]
    assert sum(c.status is FAILED for c in expected) == 5
    check_actions(result.actions, expected, caller)

    # The other company's user sees only its own actions.
    result, before = other.read_audit()
    check_actions(result.actions, before, other)
    check_counters(result, overall=len(before), filtered=len(before))
    caller.settle()  # every call recorded before the server stops
    other.settle()


def test_quota_without_and_with_a_quota_and_402(env: Env) -> None:
    caller = make_caller(env)

    # Without a quota of its own the user is bounded only by the largest values the API can express.
    quota = caller.read_quota()
    [service] = quota.base.services
    assert service.service == Service.ACCOUNT
    assert {p.process_type: p for p in service.processes}.keys() == {NOTRACE, TRACE}
    for p in service.processes:
        assert (p.points_per_request, p.points_per_day, p.max_concurrent_execution) == (
            MAX_POINTS_PER_REQUEST,
            MAX_POINTS_PER_DAY,
            MAX_CONCURRENT,
        )

    day_reads, day_writes = 4, 2
    specs = [
        QuotaSpec(
            InternalService.ACCOUNT,
            InternalProcessType.NOTRACE,
            points_per_request=5,
            points_per_day=day_reads,
            max_concurrent_execution=3,
        ),
        QuotaSpec(
            InternalService.ACCOUNT,
            InternalProcessType.TRACE,
            points_per_request=1,
            points_per_day=day_writes,
            max_concurrent_execution=1,
        ),
    ]
    on_server(env.server, env.server.services.quotas.replace_for_user(caller.user_id, caller.company_id, specs))

    quota = caller.read_quota()  # the first point of the day's NOTRACE budget
    [service] = quota.base.services
    assert service.service == Service.ACCOUNT
    assert {
        p.process_type: (p.points_per_request, p.points_per_day, p.max_concurrent_execution) for p in service.processes
    } == {NOTRACE: (5, day_reads, 3), TRACE: (1, day_writes, 1)}
    for _ in range(day_reads - 1):
        caller.read_info()

    # The day quota is exhausted: a 402 (plain ApiException in this client) with General402 in e.data.
    for operation, method in (
        ("read_info", InfoApi(caller.api_client).read_info),
        ("read_quota", QuotaApi(caller.api_client).read_quota),
        ("read_audit", AuditApi(caller.api_client).read_audit),
    ):
        error = caller.refused(operation, NOTRACE, method, exc_type=ApiException, status=402)
        data = check_general(
            error, ApiException, 402, General402, operation=operation, username=caller.username, company=COMPANY
        )
        assert "quota" in (data.message or "")

    for i in range(day_writes):
        caller.update_info(InfoChangeRequest(specification=f"Within quota {i}"))
    over = InfoChangeRequest(specification="Over the quota")
    error = caller.refused(
        "update_info",
        TRACE,
        InfoApi(caller.api_client).update_info,
        over,
        exc_type=ApiException,
        status=402,
        sent=caller.body_of(over),
    )
    check_general(error, ApiException, 402, General402, operation="update_info", username=caller.username)

    # Lift the quota: the refusals are in the audit as CANCELED_BY_QUOTA, and are not charged.
    on_server(env.server, env.server.services.quotas.delete_for_user(caller.user_id))
    result, before = caller.read_audit(status=BY_QUOTA)
    refusals = [c for c in before if c.status is BY_QUOTA]
    assert len(refusals) == 4
    check_actions(result.actions, refusals, caller)
    check_counters(result, overall=len(before), filtered=4)
    assert all("quota" in (a.statistics.calculation_info.message or "") for a in result.actions)

    today = caller.today()
    statistics, before = caller.statistics(var_from=today, to=today)
    usage = usage_of(statistics, today)
    assert usage == expected_usage(before)
    assert usage[TRACE] == (day_writes, day_writes, 0, day_writes)

    quota = caller.read_quota()  # back to no quota of its own
    [service] = quota.base.services
    assert {p.points_per_day for p in service.processes} == {MAX_POINTS_PER_DAY}
    caller.settle()


def test_payload_past_retention_is_404(env: Env) -> None:
    caller = make_caller(env)
    update = caller.update_info(InfoChangeRequest(specification="Short Lived"))
    caller.settle()
    assert caller.read_data(update.process_code) == update.sent
    assert caller.read_data(update.process_code, data_flow_type=FlowType.OUTPUT) == update.received

    services = env.server.services
    assert services.audit.retention_days == 90
    # Not yet expired one day before the end of the retention period.
    kept = on_server(env.server, services.audit.purge_expired_payloads(now=env.clock.now() + timedelta(days=89)))
    assert kept == 0
    assert caller.read_data(update.process_code) == update.sent

    removed = on_server(env.server, services.audit.purge_expired_payloads(now=env.clock.now() + timedelta(days=91)))
    assert removed == 1
    caller.read_data_missing(update.process_code)
    caller.read_data_missing(update.process_code, data_flow_type=FlowType.OUTPUT)

    result, before = caller.read_audit(process_type=TRACE)
    [action] = result.actions
    assert action.process_code == update.process_code
    assert (action.input_file_exists, action.output_file_exists) == (False, False)
    assert action.statistics.calculation_info.status == FINISHED
    check_counters(result, overall=len(before), filtered=1)
    caller.settle()
