"""Adversarial tests of the Account API wire (seeds 000/001 and the published 7.x client).

Every field of every request body and parameter at and just past each bound the contract gives; malformed,
empty, non-UTF-8, deeply nested and wrongly typed bodies; unknown paths, wrong methods, bad bearer headers;
and the body-size limit, proven not to read a body it refuses. Every refusal is checked against the error
shape the published 7.46 client parses (``vrt_lss_account`` models) and against our own stricter reading of
``tracedata``. No response may ever be a 5xx: the ``api`` client fails the test on one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from vrt_lss_account.models import General400, General404, General500

from cabinet.settings import Settings
from tests.helpers import MadeUser, UserFactory, bearer, login

GEN = "/account/token/generation"
VAL = "/account/token/validation"
PWD = "/account/password"
INFO = "/account/info"
JSON_CT = {"Content-Type": "application/json"}
ANONYMOUS = "anonymous"
GOOD_PASSWORD = "correct_horse_battery"
TRACEDATA_FIELDS = {"process_code", "request_code", "username", "company", "service", "operation", "env", "pod", "time"}


# --------------------------------------------------------------------------------------------------------------
# harness


@pytest.fixture
async def user(make_user: UserFactory) -> MadeUser:
    return await make_user(password=GOOD_PASSWORD)


@pytest.fixture
async def auth(api: httpx.AsyncClient, user: MadeUser) -> dict[str, str]:
    return bearer(await login(api, user))


async def _auth(api: httpx.AsyncClient, user: MadeUser, needs_auth: bool) -> dict[str, str]:
    """A bearer header only for the endpoints that need one (a sign-in costs an argon2 verify)."""
    return bearer(await login(api, user)) if needs_auth else {}


def assert_tracedata(
    response: httpx.Response,
    tracedata: Any,
    settings: Settings,
    *,
    operation: str,
    username: str = ANONYMOUS,
    company: str = ANONYMOUS,
) -> None:
    assert isinstance(tracedata, dict), response.text
    assert set(tracedata) == TRACEDATA_FIELDS, response.text
    assert str(uuid.UUID(tracedata["process_code"])) == tracedata["process_code"]
    assert str(uuid.UUID(tracedata["request_code"])) == tracedata["request_code"]
    assert response.headers["x-process-code"] == tracedata["process_code"]
    assert response.headers["x-request-code"] == tracedata["request_code"]
    assert tracedata["username"] == username
    assert tracedata["company"] == company
    assert tracedata["service"] == "ACCOUNT"
    assert tracedata["operation"] == operation, response.text
    assert tracedata["env"] == settings.env_name
    assert tracedata["pod"] == settings.pod[:256]
    when = datetime.fromisoformat(tracedata["time"].replace("Z", "+00:00"))
    assert when.tzinfo is not None
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=5)


def assert_400(
    response: httpx.Response,
    settings: Settings,
    *,
    operation: str,
    field: str | None = None,
    username: str = ANONYMOUS,
    company: str = ANONYMOUS,
) -> dict[str, Any]:
    """HTTP 400 with a General400 body; when ``field`` is given, a schema error names it."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    parsed = General400.from_dict(body)  # what the published client makes of it: raises if malformed
    assert parsed is not None and parsed.tracedata is not None
    assert_tracedata(response, body["tracedata"], settings, operation=operation, username=username, company=company)
    assert isinstance(body["message"], str) and 1 <= len(body["message"]) <= 2048
    errors = body.get("schema_errors", [])
    for error in errors:
        assert set(error) == {"entity", "message"}, error
        assert error["message"]
    if field is not None:
        entities = [str(error["entity"]).removeprefix("body.") for error in errors]
        assert any(e == field or e.startswith(field + ".") for e in entities), (field, body)
    return body  # type: ignore[no-any-return]


def assert_error(
    response: httpx.Response, settings: Settings, status: int, *, operation: str, **who: str
) -> dict[str, Any]:
    """A non-400, non-404 error: ``{tracedata, message}`` (General402/403/429/500 shape)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert General500.from_dict(body) is not None
    assert_tracedata(response, body["tracedata"], settings, operation=operation, **who)
    assert isinstance(body["message"], str) and 1 <= len(body["message"]) <= 2048
    return body  # type: ignore[no-any-return]


def assert_404(response: httpx.Response, settings: Settings, *, operation: str = "unknown") -> dict[str, Any]:
    assert response.status_code == 404, response.text
    body = response.json()
    assert General404.from_dict(body) is not None
    assert isinstance(body["resource_key"], str) and 1 <= len(body["resource_key"]) <= 1024
    assert set(body["detail"]) == {"tracedata"}
    assert_tracedata(response, body["detail"]["tracedata"], settings, operation=operation)
    return body  # type: ignore[no-any-return]


def token_request(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"username": "someone", "password": GOOD_PASSWORD, "ttl_seconds": 86_400}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not ...}


# --------------------------------------------------------------------------------------------------------------
# TokenRequest: username 2..256 \w+, password 10..256, ttl_seconds 60..31556926 (strict integer)


@pytest.mark.parametrize("name", ["ab", "u" * 256, "ж" * 256, "é_1"])
async def test_username_at_bounds_signs_in(api: httpx.AsyncClient, make_user: UserFactory, name: str) -> None:
    made = await make_user(name, password=GOOD_PASSWORD)
    response = await api.post(GEN, json=token_request(username=made.username))
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), str)


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "",
        "u" * 257,
        "ж" * 257,
        "ж" * 100_000,
        "bob-1",
        "bob 1",
        " bob",
        "bob_1\n",
        "\nbob_1",
        "bob\x00x",
        "\x00\x00",
        "😀😀",
        "bob\u200b1",
    ],
    ids=lambda v: repr(v)[:24],
)
async def test_username_out_of_bounds_is_400(api: httpx.AsyncClient, settings: Settings, name: str) -> None:
    response = await api.post(GEN, json=token_request(username=name))
    assert_400(response, settings, operation="run_token_generation", field="username")


@pytest.mark.parametrize("value", [None, 12345, ["ab"], {"a": "b"}, True, ...], ids=repr)
async def test_username_wrong_type_or_missing_is_400(api: httpx.AsyncClient, settings: Settings, value: Any) -> None:
    response = await api.post(GEN, json=token_request(username=value))
    assert_400(response, settings, operation="run_token_generation", field="username")


@pytest.mark.parametrize("length", [10, 256])
async def test_password_at_bounds_signs_in(api: httpx.AsyncClient, make_user: UserFactory, length: int) -> None:
    made = await make_user(password="p" * length)
    response = await api.post(GEN, json=token_request(username=made.username, password=made.password))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "value", ["p" * 9, "p" * 257, "", None, 1234567890, ["p" * 10], ...], ids=lambda v: repr(v)[:20]
)
async def test_password_out_of_bounds_is_400(api: httpx.AsyncClient, settings: Settings, value: Any) -> None:
    response = await api.post(GEN, json=token_request(password=value))
    assert_400(response, settings, operation="run_token_generation", field="password")


async def test_password_with_nul_and_unicode_is_a_clean_401(api: httpx.AsyncClient, user: MadeUser) -> None:
    for password in ["pass\x00word_12", "ж" * 256, "\U0001f600" * 10]:
        response = await api.post(GEN, json=token_request(username=user.username, password=password))
        assert response.status_code == 401, response.text


@pytest.mark.parametrize("ttl", [60, 31_556_926])
async def test_ttl_at_bounds_is_accepted(api: httpx.AsyncClient, user: MadeUser, ttl: int) -> None:
    response = await api.post(GEN, json=token_request(username=user.username, ttl_seconds=ttl))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "ttl",
    [59, 0, -1, 31_556_927, 10**30, "86400", 86400.5, 86400.0, True, False, None, [86400], {"s": 86400}],
    ids=repr,
)
async def test_ttl_out_of_bounds_or_not_an_integer_is_400(
    api: httpx.AsyncClient, settings: Settings, user: MadeUser, ttl: Any
) -> None:
    response = await api.post(GEN, json=token_request(username=user.username, ttl_seconds=ttl))
    assert_400(response, settings, operation="run_token_generation", field="ttl_seconds")


async def test_unknown_extra_fields_are_ignored(api: httpx.AsyncClient, user: MadeUser) -> None:
    body = token_request(username=user.username, extra={"nested": [1, 2, 3]}, company_key="x")
    assert (await api.post(GEN, json=body)).status_code == 200


# --------------------------------------------------------------------------------------------------------------
# PasswordChangeRequest: current_password and new_password 10..256, both required, null refused


async def test_password_change_at_bounds(api: httpx.AsyncClient, settings: Settings, make_user: UserFactory) -> None:
    made = await make_user(password="p" * 10)
    token = await login(api, made)
    longest = "q" * 256
    response = await api.post(PWD, headers=bearer(token), json={"current_password": "p" * 10, "new_password": longest})
    assert response.status_code == 200, response.text
    token = response.json()
    response = await api.post(PWD, headers=bearer(token), json={"current_password": longest, "new_password": "r" * 10})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", ["current_password", "new_password"])
@pytest.mark.parametrize("value", ["p" * 9, "p" * 257, "", None, 1234567890, ...], ids=lambda v: repr(v)[:20])
async def test_password_change_field_out_of_bounds_is_400(
    api: httpx.AsyncClient, settings: Settings, user: MadeUser, auth: dict[str, str], field: str, value: Any
) -> None:
    body: dict[str, Any] = {"current_password": GOOD_PASSWORD, "new_password": "a_new_password_1"}
    if value is ...:
        del body[field]
    else:
        body[field] = value
    response = await api.post(PWD, headers=auth, json=body)
    assert_400(
        response, settings, operation="change_password", field=field, username=user.username, company=user.company
    )
    # nothing changed: the old password still signs in
    assert (await api.post(GEN, json=token_request(username=user.username))).status_code == 200


async def test_password_change_without_body_is_400(
    api: httpx.AsyncClient, settings: Settings, user: MadeUser, auth: dict[str, str]
) -> None:
    # what the client sends when the optional body is omitted: Content-Type json, Content-Length 0
    response = await api.post(PWD, headers={**auth, **JSON_CT}, content=b"")
    assert_400(response, settings, operation="change_password", username=user.username, company=user.company)


# --------------------------------------------------------------------------------------------------------------
# token validation: the body is a JSON string of 10..1000 characters


@pytest.mark.parametrize("length", [10, 1000])
async def test_validation_token_at_bounds_is_200(api: httpx.AsyncClient, length: int) -> None:
    response = await api.post(VAL, json="t" * length)
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": False, "roles": []}


@pytest.mark.parametrize(
    "body",
    ["t" * 9, "t" * 1001, "", {"token": "t" * 20}, ["t" * 20], 12345678901, 1.5, True, None],
    ids=lambda v: repr(v)[:20],
)
async def test_validation_body_not_a_bounded_string_is_400(
    api: httpx.AsyncClient, settings: Settings, body: Any
) -> None:
    response = await api.post(VAL, content=json.dumps(body).encode(), headers=JSON_CT)
    assert_400(response, settings, operation="run_token_validation", field="body")


@pytest.mark.parametrize(
    "token", ["t" * 9 + "\x00", "\x00" * 20, "ж" * 1000, "\U0001f600" * 10, "a.b.c" * 3], ids=lambda v: repr(v)[:20]
)
async def test_validation_of_odd_strings_is_a_clean_answer(api: httpx.AsyncClient, token: str) -> None:
    response = await api.post(VAL, json=token)
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": False, "roles": []}


# --------------------------------------------------------------------------------------------------------------
# InfoChangeRequest: specification 2..256, email 5..256 + regex, phone 5..32 + regex, attributes 0..250 items
# (key 1..100, value 0..7000, strategy 0..100, keys unique)

EMAIL_MAX = "e" * 64 + "@" + ("d" * 63 + ".") * 2 + "c" * 59 + ".org"  # 256 characters
PHONE_MAX = "+" + "1 " * 15 + "2"  # 32 characters: 15 separated digits and a final one
PHONE_MIN = "+1234567"  # the shortest the pattern admits (8 characters; 5..7 cannot match it)
EMAIL_MIN = "a@b.cd"  # the shortest the pattern admits (6 characters; 5 cannot match it)
assert len(EMAIL_MAX) == 256 and len(PHONE_MAX) == 32


def attrs(count: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"key": f"k{i}", "value": "v", **fields} for i in range(count)]


async def put_info(api: httpx.AsyncClient, auth: dict[str, str], body: Any) -> httpx.Response:
    return await api.put(INFO, headers=auth, json=body)


@pytest.mark.parametrize(
    "body",
    [
        {"specification": "ab"},
        {"specification": "s" * 256},
        {"specification": "ж" * 256},
        {"specification": None},
        {"email": EMAIL_MIN},
        {"email": EMAIL_MAX},
        {"email": None},
        {"phone": PHONE_MIN},
        {"phone": PHONE_MAX},
        {"phone": "+7-111-222-33.33"},
        {"phone": None},
        {"attributes": []},
        {"attributes": attrs(250)},
        {"attributes": None},
        {"attributes": [{"key": "k", "value": ""}]},
        {"attributes": [{"key": "k" * 100, "value": "v" * 7000, "strategy": "s" * 100}]},
        {"attributes": [{"key": "k", "value": "2025-01-01T00:00:00Z", "strategy": "LASTMILE_REF_TIME"}]},
        {"attributes": [{"key": "k", "value": "v", "strategy": ""}]},
        {"attributes": [{"key": "k", "value": "v", "strategy": None}]},
        {"attributes": [{"key": "ж", "value": "\U0001f600" * 7000}]},
        {},
    ],
    ids=lambda b: json.dumps(b)[:40],
)
async def test_info_change_at_bounds_is_accepted(
    api: httpx.AsyncClient, auth: dict[str, str], user: MadeUser, body: dict[str, Any]
) -> None:
    response = await put_info(api, auth, body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["username"] == user.username
    for name, value in body.items():
        if name == "attributes":
            if value is not None:
                assert [(a["key"], a["value"]) for a in out["attributes"]] == [(a["key"], a["value"]) for a in value]
        else:
            assert out[name] == value


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("specification", {"specification": "s"}),
        ("specification", {"specification": ""}),
        ("specification", {"specification": "s" * 257}),
        ("specification", {"specification": 42}),
        ("specification", {"specification": "a\x00b"}),
        ("email", {"email": "a@b."}),
        ("email", {"email": "x" * 4}),
        ("email", {"email": "e" + EMAIL_MAX}),
        ("email", {"email": "not-an-email"}),
        ("email", {"email": "a b@c.de"}),
        ("email", {"email": "a@b.cd\n"}),
        ("email", {"email": "a@b.c"}),
        ("email", {"email": 12345}),
        ("phone", {"phone": "+123"}),
        ("phone", {"phone": "+1234"}),
        ("phone", {"phone": "+1234567 "}),
        ("phone", {"phone": PHONE_MAX + "3"}),
        ("phone", {"phone": "71112223333"}),
        ("phone", {"phone": "+7111222333a"}),
        ("phone", {"phone": "+71112223333\n"}),
        ("phone", {"phone": 71112223333}),
        ("attributes", {"attributes": attrs(251)}),
        ("attributes", {"attributes": {"key": "k", "value": "v"}}),
        ("attributes", {"attributes": "k=v"}),
        ("attributes", {"attributes": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}),
        ("attributes.0.key", {"attributes": [{"key": "", "value": "v"}]}),
        ("attributes.0.key", {"attributes": [{"key": "k" * 101, "value": "v"}]}),
        ("attributes.0.key", {"attributes": [{"value": "v"}]}),
        ("attributes.0.key", {"attributes": [{"key": None, "value": "v"}]}),
        ("attributes.0.key", {"attributes": [{"key": 1, "value": "v"}]}),
        ("attributes.0.value", {"attributes": [{"key": "k", "value": "v" * 7001}]}),
        ("attributes.0.value", {"attributes": [{"key": "k"}]}),
        ("attributes.0.value", {"attributes": [{"key": "k", "value": None}]}),
        ("attributes.0.value", {"attributes": [{"key": "k", "value": 7}]}),
        ("attributes.0.strategy", {"attributes": [{"key": "k", "value": "v", "strategy": "s" * 101}]}),
        ("attributes.0.strategy", {"attributes": [{"key": "k", "value": "v", "strategy": 1}]}),
        ("attributes", {"attributes": [{"key": "k\x00", "value": "v"}]}),
        ("attributes", {"attributes": [{"key": "k", "value": "\x00"}]}),
        ("attributes", {"attributes": [{"key": "k", "value": "v", "strategy": "\x00"}]}),
        ("attributes.1", {"attributes": [{"key": "k", "value": "v"}, "k=v"]}),
    ],
    ids=lambda v: v if isinstance(v, str) else json.dumps(v)[:40],
)
async def test_info_change_out_of_bounds_is_400(
    api: httpx.AsyncClient, settings: Settings, user: MadeUser, auth: dict[str, str], field: str, body: Any
) -> None:
    response = await put_info(api, auth, body)
    assert_400(response, settings, operation="update_info", field=field, username=user.username, company=user.company)
    # nothing was stored
    info = (await api.get(INFO, headers=auth)).json()
    assert info["specification"] is None and info["email"] is None and info["phone"] is None
    assert info["attributes"] == []


# --------------------------------------------------------------------------------------------------------------
# file name 6..128


@pytest.mark.parametrize("name", ["abcdef", "f" * 128, "account_xx.html"])
async def test_file_name_in_bounds_but_unknown_is_404(api: httpx.AsyncClient, settings: Settings, name: str) -> None:
    assert_404(await api.get(f"/account/file/{name}"), settings, operation="file")


@pytest.mark.parametrize("name", ["account_en.html", "account_ru.html"])
async def test_file_known_is_html(api: httpx.AsyncClient, name: str) -> None:
    response = await api.get(f"/account/file/{name}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("name", ["abcde", "a", "f" * 129, "ж" * 129])
async def test_file_name_out_of_bounds_is_400(api: httpx.AsyncClient, settings: Settings, name: str) -> None:
    assert_400(await api.get(f"/account/file/{name}"), settings, operation="file", field="path.filename")


# --------------------------------------------------------------------------------------------------------------
# query and path parameters of the metering half: audit (offset 0..10,000,000, limit 1..2001, operation 3..256
# \w+, sort_field 1..64, sort_direction ASC|DESC, enums, date-times), statistics/report (dates, enums), data
# (process_code UUID, data_flow_type INPUT|OUTPUT, data_flow_stage RAW)

AUDIT_OK = [
    "offset=0",
    "offset=10000000",
    "limit=1",
    "limit=2001",
    "operation=abc",
    "operation=" + "o" * 256,
    "sort_field=time",
    "sort_direction=ASC",
    "sort_direction=DESC",
    "service=ACCOUNT",
    "process_type=TRACE",
    "status=FAILED",
    "from=2025-03-21T09%3A30%3A00.000000%2B0300",  # the client's wire form
    "from=2025-03-21T18%3A00%3A00.000000",
    "from=2025-03-21T09%3A30%3A00Z&to=2025-03-22T09%3A30%3A00%2B03%3A00",
]
AUDIT_BAD = [
    ("offset", "offset=-1"),
    ("offset", "offset=10000001"),
    ("offset", "offset=1.5"),
    ("offset", "offset=abc"),
    ("limit", "limit=0"),
    ("limit", "limit=2002"),
    ("limit", "limit="),
    ("limit", "limit=99999999999999999999999999"),
    ("operation", "operation=ab"),
    ("operation", "operation=" + "o" * 257),
    ("operation", "operation=ab-c"),
    ("operation", "operation=abc%0A"),
    ("sort_field", "sort_field="),
    ("sort_field", "sort_field=" + "s" * 65),
    ("sort_direction", "sort_direction=UP"),
    ("service", "service=NOPE"),
    ("process_type", "process_type=NOPE"),
    ("status", "status=NOPE"),
    ("from", "from=garbage"),
    ("from", "from=%00"),
    ("to", "to=2025-13-01T00%3A00%3A00Z"),
]


@pytest.mark.parametrize("query", AUDIT_OK)
async def test_audit_parameters_at_bounds_are_accepted(
    api: httpx.AsyncClient, auth: dict[str, str], query: str
) -> None:
    response = await api.get(f"/account/audit?{query}", headers=auth)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("field", "query"), AUDIT_BAD, ids=lambda v: v[:40])
async def test_audit_parameters_out_of_bounds_are_400(
    api: httpx.AsyncClient, settings: Settings, user: MadeUser, auth: dict[str, str], field: str, query: str
) -> None:
    response = await api.get(f"/account/audit?{query}", headers=auth)
    assert_400(
        response, settings, operation="read_audit", field=f"query.{field}", username=user.username, company=user.company
    )


@pytest.mark.parametrize(
    ("path", "operation"), [("/account/statistics", "generate_statistics"), ("/account/report", "generate_report")]
)
@pytest.mark.parametrize(
    ("field", "query"),
    [
        ("from", "from=garbage"),
        ("from", "from=2025-02-30"),
        ("to", "to=2025-00-01"),
        ("service", "service=NOPE"),
        ("process_type", "process_type=NOPE"),
        (None, "from=2025-02-01&to=2025-01-01"),
        (None, "from=1900-01-01&to=2025-01-01"),
    ],
    ids=lambda v: str(v)[:40],
)
async def test_period_parameters_out_of_bounds_are_400(
    api: httpx.AsyncClient,
    settings: Settings,
    user: MadeUser,
    auth: dict[str, str],
    path: str,
    operation: str,
    field: str | None,
    query: str,
) -> None:
    response = await api.get(f"{path}?{query}", headers=auth)
    assert_400(
        response,
        settings,
        operation=operation,
        field=f"query.{field}" if field else None,
        username=user.username,
        company=user.company,
    )


@pytest.mark.parametrize(
    ("field", "suffix"),
    [
        ("process_code", "not-a-uuid"),
        ("process_code", "1" * 37),
        ("data_flow_type", "{uuid}?data_flow_type=SIDEWAYS"),
        ("data_flow_stage", "{uuid}?data_flow_stage=COOKED"),
    ],
    ids=lambda v: v[:30],
)
async def test_data_parameters_out_of_bounds_are_400(
    api: httpx.AsyncClient, settings: Settings, user: MadeUser, auth: dict[str, str], field: str, suffix: str
) -> None:
    response = await api.get("/account/data/" + suffix.format(uuid=uuid.uuid4()), headers=auth)
    location = "path" if field == "process_code" else "query"
    assert_400(
        response,
        settings,
        operation="read_data",
        field=f"{location}.{field}",
        username=user.username,
        company=user.company,
    )


@pytest.mark.parametrize("query", ["", "?data_flow_type=INPUT&data_flow_stage=RAW", "?data_flow_type=OUTPUT"])
async def test_data_of_an_unknown_process_is_404(
    api: httpx.AsyncClient, settings: Settings, auth: dict[str, str], query: str
) -> None:
    code = uuid.uuid4()
    response = await api.get(f"/account/data/{code}{query}", headers=auth)
    assert response.status_code == 404, response.text
    body = response.json()
    assert General404.from_dict(body) is not None
    assert body["detail"]["tracedata"]["operation"] == "read_data"


# --------------------------------------------------------------------------------------------------------------
# malformed bodies on every JSON endpoint

JSON_ENDPOINTS = [
    ("POST", GEN, "run_token_generation", False),
    ("POST", VAL, "run_token_validation", False),
    ("POST", PWD, "change_password", True),
    ("PUT", INFO, "update_info", True),
]
DEPTH = 100_000
MALFORMED = {
    "garbage": b"{garbage",
    "truncated": b'{"username": "abc',
    "trailing": b'{"username": "abc"} x',
    "empty": b"",
    "whitespace": b"   \n\t ",
    "nul": b"\x00",
    "non-utf8": b"\xff\xfe\xfd",
    "non-utf8-in-string": b'{"username": "\xc3\x28", "password": "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"}',
    "latin1": '{"specification": "caf\xe9"}'.encode("latin-1"),
    "bom-garbage": b"\xef\xbb\xbf{garbage",
    "deep-array": b"[" * DEPTH + b"]" * DEPTH,
    "deep-object": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    "deep-in-field": b'{"username": "ab", "password": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
    "huge-int": b'{"ttl_seconds": ' + b"9" * 5000 + b"}",
    "nan": b"NaN",
    "infinity": b"-Infinity",
    "array-of-object": json.dumps([{"username": "abc", "password": GOOD_PASSWORD}]).encode(),
    "array": b"[]",
    "number": b"42",
    "null": b"null",
    "true": b"true",
}


@pytest.mark.parametrize("kind", list(MALFORMED))
@pytest.mark.parametrize(("method", "path", "operation", "needs_auth"), JSON_ENDPOINTS, ids=lambda v: str(v))
async def test_malformed_json_body_is_400(
    api: httpx.AsyncClient,
    settings: Settings,
    user: MadeUser,
    method: str,
    path: str,
    operation: str,
    needs_auth: bool,
    kind: str,
) -> None:
    headers = {**JSON_CT, **(await _auth(api, user, needs_auth))}
    response = await api.request(method, path, content=MALFORMED[kind], headers=headers)
    who = {"username": user.username, "company": user.company} if needs_auth else {}
    # a body that is not JSON fails while it is read, before the caller is resolved: the trace is anonymous
    if response.json()["tracedata"]["username"] == ANONYMOUS:
        who = {}
    assert_400(response, settings, operation=operation, **who)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/xml",
        "text/xml",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "image/png",
        "application/jsonx",
        "garbage",
        ";;;",
    ],
)
@pytest.mark.parametrize(("method", "path", "operation", "needs_auth"), JSON_ENDPOINTS, ids=lambda v: str(v))
async def test_wrong_content_type_is_a_clean_4xx(
    api: httpx.AsyncClient,
    settings: Settings,
    user: MadeUser,
    method: str,
    path: str,
    operation: str,
    needs_auth: bool,
    content_type: str,
) -> None:
    # a body that would be valid as JSON, so only the content type is wrong
    valid = {
        GEN: {"username": user.username, "password": GOOD_PASSWORD},
        VAL: "t" * 20,
        PWD: {"current_password": GOOD_PASSWORD, "new_password": "another_password"},
        INFO: {"specification": "Jane"},
    }[path]
    content = {
        "application/xml": b"<TokenRequest><username>abc</username></TokenRequest>",
        "text/xml": b"<token>tttttttttttttttttttt</token>",
        "application/x-www-form-urlencoded": b"username=abc&password=correct_horse_battery",
    }.get(content_type, json.dumps(valid).encode())
    headers = {"Content-Type": content_type, **(await _auth(api, user, needs_auth))}
    response = await api.request(method, path, content=content, headers=headers)
    _assert_clean_refusal(response, settings, operation, user if needs_auth else None)


@pytest.mark.parametrize(("method", "path", "operation", "needs_auth"), JSON_ENDPOINTS, ids=lambda v: str(v))
async def test_multipart_body_is_a_clean_4xx(
    api: httpx.AsyncClient,
    settings: Settings,
    user: MadeUser,
    method: str,
    path: str,
    operation: str,
    needs_auth: bool,
) -> None:
    response = await api.request(
        method,
        path,
        data={"username": user.username, "password": GOOD_PASSWORD, "token": "t" * 20},
        files={"file": ("a.json", b'{"username": "abc"}', "application/json")},
        headers=(await _auth(api, user, needs_auth)),
    )
    _assert_clean_refusal(response, settings, operation, user if needs_auth else None)


def _assert_clean_refusal(response: httpx.Response, settings: Settings, operation: str, who: MadeUser | None) -> None:
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    names = {"username": who.username, "company": who.company} if who else {}
    if body["tracedata"]["username"] == ANONYMOUS:
        names = {}
    if response.status_code == 400:
        assert_400(response, settings, operation=operation, **names)
    else:
        assert response.status_code == 415, response.text
        assert_error(response, settings, 415, operation=operation, **names)


# --------------------------------------------------------------------------------------------------------------
# unknown paths, wrong methods, bad bearer headers


@pytest.mark.parametrize(
    "path",
    [
        "/account/nope",
        "/account/",
        "/account/info/extra",
        "/account/token",
        "/account/token/generation/x",
        "/account/system",
        "/account/file",
        "/account/file/",
        "/account/file/account_en.html/x",
        "/account/%00",
        "/account/%D0%B6" * 50,
        "/account/" + "x" * 5000,
        "/account/..%2f..%2fetc%2fpasswd",
        "/account/v7/info",
    ],
    ids=lambda p: p[:40],
)
async def test_unknown_path_is_404_with_tracedata(api: httpx.AsyncClient, settings: Settings, path: str) -> None:
    for method in ("GET", "POST"):
        body = assert_404(await api.request(method, path), settings)
        assert body["resource_key"].startswith("/account")


@pytest.mark.parametrize("path", ["/account/file/a%0Ab.html", "/account/x%0Ay"])
async def test_newline_in_path_is_account_404(api: httpx.AsyncClient, settings: Settings, path: str) -> None:
    # Starlette's Mount regex does not match a newline: the root app must still answer in the Account format
    for method in ("GET", "POST"):
        assert_404(await api.request(method, path), settings)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", GEN, "POST"),
        ("PUT", GEN, "POST"),
        ("DELETE", VAL, "POST"),
        ("GET", PWD, "POST"),
        ("DELETE", INFO, "GET"),
        ("DELETE", INFO, "PUT"),
        ("PATCH", INFO, "PUT"),
        ("POST", INFO, "GET"),
        ("POST", INFO, "PUT"),
        ("POST", "/account/system/check", "GET"),
        ("PUT", "/account/system/version", "GET"),
        ("DELETE", "/account/file/account_en.html", "GET"),
        ("TRACE", INFO, "GET"),
        ("FOO", INFO, "GET"),
    ],
)
async def test_wrong_method_is_405_with_tracedata(
    api: httpx.AsyncClient, settings: Settings, auth: dict[str, str], method: str, path: str, allowed: str
) -> None:
    response = await api.request(method, path, headers=auth, json={"a": 1})
    body = assert_error(response, settings, 405, operation="unknown")
    assert body["message"]
    assert allowed in response.headers["allow"].split(", ")


BAD_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer    ",
    "Bearer garbage",
    "Bearer a.b.c",
    "Bearer a b c",
    "Bearer " + "x" * 8000,
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    "Basic xxx",
    "Basic dXNlcjpwYXNz",
    "Token abc",
    "garbage",
    "Bearer\x00abc",
]


@pytest.mark.parametrize("header", BAD_AUTHORIZATION, ids=lambda h: repr(h)[:30])
@pytest.mark.parametrize(
    ("method", "path", "operation", "body"),
    [
        ("GET", INFO, "read_info", None),
        ("PUT", INFO, "update_info", {"specification": "Jane"}),
        ("POST", PWD, "change_password", {"current_password": GOOD_PASSWORD, "new_password": "another_password"}),
    ],
    ids=lambda v: str(v)[:20],
)
async def test_bad_bearer_header_is_401_with_tracedata(
    api: httpx.AsyncClient,
    settings: Settings,
    user: MadeUser,
    method: str,
    path: str,
    operation: str,
    body: Any,
    header: str | None,
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await api.request(method, path, headers=headers, json=body)
    assert_error(response, settings, 401, operation=operation)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_non_latin1_authorization_header_is_401(api: httpx.AsyncClient, settings: Settings) -> None:
    response = await api.get(INFO, headers=[(b"Authorization", b"Bearer \xff\xfe\x00\x80")])
    assert_error(response, settings, 401, operation="read_info")


async def test_valid_token_with_a_wrong_scheme_is_401(
    api: httpx.AsyncClient, settings: Settings, auth: dict[str, str]
) -> None:
    token = auth["Authorization"].removeprefix("Bearer ")
    for header in (f"Basic {token}", f"Token {token}", token, f"Bearer  {token}x", f"Bearer {token[:-2]}"):
        response = await api.get(INFO, headers={"Authorization": header})
        assert_error(response, settings, 401, operation="read_info")


# --------------------------------------------------------------------------------------------------------------
# body-size limit


class CountingBody:
    """An async request body that records how many chunks the server pulled."""

    def __init__(self, chunks: int, chunk_size: int = 64 * 1024) -> None:
        self.chunks = chunks
        self.chunk = b" " * chunk_size
        self.pulled = 0

    @property
    def total(self) -> int:
        return self.chunks * len(self.chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.chunk


@pytest.mark.parametrize(("method", "path", "operation", "needs_auth"), JSON_ENDPOINTS, ids=lambda v: str(v))
async def test_declared_length_over_limit_is_413_without_reading(
    api: httpx.AsyncClient,
    settings: Settings,
    user: MadeUser,
    method: str,
    path: str,
    operation: str,
    needs_auth: bool,
) -> None:
    body = CountingBody(chunks=64)  # 4 MiB
    assert body.total > settings.max_body_bytes
    headers = {**JSON_CT, "Content-Length": str(body.total), **(await _auth(api, user, needs_auth))}
    response = await api.request(method, path, content=body, headers=headers)
    assert "transfer-encoding" not in response.request.headers
    assert_error(response, settings, 413, operation=operation)
    assert body.pulled <= 1, f"the server pulled {body.pulled} of {body.chunks} chunks"


@pytest.mark.parametrize(("method", "path", "operation", "needs_auth"), JSON_ENDPOINTS, ids=lambda v: str(v))
async def test_chunked_body_growing_past_limit_is_cut_off_with_413(
    api: httpx.AsyncClient,
    settings: Settings,
    user: MadeUser,
    method: str,
    path: str,
    operation: str,
    needs_auth: bool,
) -> None:
    body = CountingBody(chunks=256)  # 16 MiB, no Content-Length
    response = await api.request(
        method, path, content=body, headers={**JSON_CT, **(await _auth(api, user, needs_auth))}
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert_error(response, settings, 413, operation=operation)
    enough = settings.max_body_bytes // len(body.chunk) + 1  # the chunk that crosses the limit
    assert body.pulled <= enough + 1 < body.chunks, f"the server pulled {body.pulled} of {body.chunks} chunks"


async def test_understated_content_length_is_still_cut_off(api: httpx.AsyncClient, settings: Settings) -> None:
    body = CountingBody(chunks=256)
    response = await api.post(VAL, content=body, headers={**JSON_CT, "Content-Length": "20"})
    assert_error(response, settings, 413, operation="run_token_validation")
    assert body.pulled < body.chunks


async def test_body_exactly_at_limit_is_read_and_one_byte_more_is_413(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    limit = settings.max_body_bytes
    at_limit = b'"' + b"t" * (limit - 2) + b'"'
    assert len(at_limit) == limit
    response = await api.post(VAL, content=at_limit, headers=JSON_CT)
    assert_400(response, settings, operation="run_token_validation", field="body")  # read, then refused as too long
    over = b'"' + b"t" * (limit - 1) + b'"'
    response = await api.post(VAL, content=over, headers=JSON_CT)
    assert_error(response, settings, 413, operation="run_token_validation")


async def test_large_but_allowed_info_body_is_accepted(api: httpx.AsyncClient, auth: dict[str, str]) -> None:
    # 250 attributes with long values, just under the 1 MiB default limit
    body = {"attributes": [{"key": f"k{i}", "value": "v" * 4000} for i in range(250)]}
    response = await put_info(api, auth, body)
    assert response.status_code == 200, response.text
    assert len(response.json()["attributes"]) == 250


# --------------------------------------------------------------------------------------------------------------
# the error shapes the client parses: General400 for every validation refusal, also with many errors at once


async def test_many_schema_errors_at_once(
    api: httpx.AsyncClient, settings: Settings, user: MadeUser, auth: dict[str, str]
) -> None:
    body = {
        "specification": "s",
        "email": "bad",
        "phone": "bad",
        "attributes": [{"key": "", "value": 1, "strategy": "s" * 101}] * 200,
    }
    response = await put_info(api, auth, body)
    data = assert_400(response, settings, operation="update_info", username=user.username, company=user.company)
    entities = {str(e["entity"]).removeprefix("body.") for e in data["schema_errors"]}
    assert {"specification", "email", "phone"} <= entities
    assert len(data["schema_errors"]) <= 15001
