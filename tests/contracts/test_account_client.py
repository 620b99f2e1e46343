"""The published Account client (PyPI ``vrt-lss-account`` 7.46.3593) against the real server over HTTP.

Every test drives a live uvicorn server (``live_server``) through the client's own API classes, so what is
checked is what a customer sees: the client parses each success answer (no pydantic ``ValidationError``), and
each error raises the client's exception class for its status with ``e.data`` parsed into the client's error
model and a complete ``tracedata``. Bodies the client's model
layer would refuse are sent with the client's own ``param_serialize``/``call_api``/``response_deserialize``.

Domain set-up (users, disabling) runs on the server's own event loop: its database pool and limiter belong
to that loop (asyncpg connections cannot be used from another one).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from vrt_lss_account import (
    ApiClient,
    Attribute,
    AuthApi,
    CheckResult,
    Configuration,
    General400,
    General403,
    General404,
    General429,
    General500,
    InfoApi,
    InfoChangeRequest,
    PasswordChangeRequest,
    Service,
    SystemApi,
    TokenRequest,
    TokenValidationResult,
    Tracedata,
    User,
    UserRole,
    VersionResult,
)
from vrt_lss_account.api_response import ApiResponse
from vrt_lss_account.exceptions import (
    ApiException,
    BadRequestException,
    ForbiddenException,
    NotFoundException,
    ServiceException,
    UnauthorizedException,
)
from vrt_lss_account.rest import RESTResponse

from cabinet.core.clock import OffsetClock
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserCreate
from tests.helpers import LiveServer

T = TypeVar("T")

PASSWORD = "correct_horse_battery"
COMPANY = "acme_corp"
ATTRIBUTES = [
    {"key": "depot", "value": "north", "strategy": None},
    {"key": "shift_start", "value": "2025-03-01T08:00:00+03:00", "strategy": "LASTMILE_REF_TIME"},
]

# The client's response map for the operations with a body (ops 1-7, 9, 10).
ERROR_TYPES: dict[str, str | None] = {
    "400": "General400",
    "401": None,
    "402": "General402",
    "403": "General403",
    "404": "General404",
    "429": "General429",
    "500": "General500",
}
TRACEDATA_FIELDS = {"process_code", "request_code", "username", "company", "service", "operation", "env", "pod", "time"}


# --- harness ---------------------------------------------------------------------------------------------------
def on_server(server: LiveServer, coro: Coroutine[Any, Any, T]) -> T:
    """Run a domain coroutine on the live server's event loop (the one its DB pool and limiter live on)."""
    loop = server.server.servers[0].get_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)


@dataclass
class Account:
    username: str
    password: str
    company: str
    roles: list[UserRole]


@dataclass
class Env:
    server: LiveServer
    clock: OffsetClock
    clients: list[ApiClient]

    def client(self, token: str | None = None) -> ApiClient:
        api_client = ApiClient(Configuration(host=self.server.url, access_token=token))
        self.clients.append(api_client)
        return api_client

    def auth(self, token: str | None = None) -> AuthApi:
        return AuthApi(self.client(token))

    def info(self, token: str | None = None) -> InfoApi:
        return InfoApi(self.client(token))

    def system(self) -> SystemApi:
        return SystemApi(self.client())

    def make_account(self, *, roles: list[Role] | None = None, **extra: Any) -> Account:
        username = f"client_{uuid.uuid4().hex[:10]}"
        roles = roles if roles is not None else [Role.USER]
        command = UserCreate(
            username=username,
            password=PASSWORD,
            company_key=COMPANY,
            roles=roles,
            create_company=True,
            **extra,
        )
        on_server(self.server, self.server.services.identity.create_user(command))
        return Account(username, PASSWORD, COMPANY, [UserRole(r.value) for r in roles])

    def login(self, account: Account, *, ttl_seconds: int = 86_400, password: str | None = None) -> str:
        request = TokenRequest(
            username=account.username, password=password or account.password, ttl_seconds=ttl_seconds
        )
        token = self.auth().run_token_generation(request)
        assert isinstance(token, str) and token.count(".") == 2
        return token


@pytest.fixture
def env(live_server: LiveServer, clock: OffsetClock) -> Iterator[Env]:
    environment = Env(live_server, clock, [])
    try:
        yield environment
    finally:
        for api_client in environment.clients:
            api_client.rest_client.pool_manager.clear()


def send(
    api_client: ApiClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    auth: bool = False,
    types: dict[str, str | None] | None = None,
) -> ApiResponse[Any]:
    """Send a body the client's models would refuse, through the client's own transport and decoder."""
    headers: dict[str, Any] = {"Accept": "application/json"}
    if method in {"POST", "PUT"}:
        headers["Content-Type"] = "application/json"
    params = api_client.param_serialize(
        method=method,
        resource_path=path,
        header_params=headers,
        body=body,
        auth_settings=["ApiKeyAuth"] if auth else [],
    )
    response = api_client.call_api(*params)
    response.read()
    return api_client.response_deserialize(response_data=response, response_types_map=types or ERROR_TYPES)


def send_raw(
    api_client: ApiClient, method: str, path: str, raw: bytes, content_type: str, *, token: str | None = None
) -> ApiResponse[Any]:
    """Send bytes no model could produce (broken JSON, another media type) over the client's connection pool,
    and decode the answer with the client's own ``response_deserialize``."""
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = api_client.configuration.host + path
    response = RESTResponse(
        api_client.rest_client.pool_manager.request(method, url, body=raw, headers=headers, preload_content=False)
    )
    response.read()
    return api_client.response_deserialize(response_data=response, response_types_map=ERROR_TYPES)


def header(source: ApiException | ApiResponse[Any], name: str) -> str | None:
    """A response header, case-insensitively (``ApiResponse`` keeps them in a plain dict)."""
    headers = source.headers or {}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def check_tracedata(
    trace: Tracedata, error: ApiException, *, operation: str, username: str | None = None, company: str | None = None
) -> None:
    """All nine fields present and right: codes match the response headers, names are the caller's."""
    assert isinstance(trace, Tracedata)
    assert set(trace.model_fields_set) >= TRACEDATA_FIELDS
    assert isinstance(trace.process_code, uuid.UUID) and isinstance(trace.request_code, uuid.UUID)
    assert str(trace.process_code) == header(error, "X-Process-Code")
    assert str(trace.request_code) == header(error, "X-Request-Code")
    assert trace.service == Service.ACCOUNT
    assert trace.operation == operation
    if username is not None:
        assert trace.username == username
    else:
        assert re.fullmatch(r"\w{2,256}", trace.username)
    if company is not None:
        assert trace.company == company
    else:
        assert re.fullmatch(r"\w{3,256}", trace.company)
    assert trace.env == "local"
    assert re.fullmatch(r"\S{2,256}", trace.pod)
    assert trace.time.tzinfo is not None
    assert abs(trace.time - datetime.now(UTC)) < timedelta(minutes=5)


def check_general(
    error: ApiException,
    exc_type: type[ApiException],
    status: int,
    model: type[Any],
    *,
    operation: str,
    username: str | None = None,
    company: str | None = None,
) -> Any:
    """The exception class and status are right, and ``e.data`` is the client's model with a full tracedata."""
    assert type(error) is exc_type, (type(error), error.status, error.body)
    assert error.status == status
    assert isinstance(error.data, model), error.body
    trace = error.data.detail.tracedata if model is General404 else error.data.tracedata
    check_tracedata(trace, error, operation=operation, username=username, company=company)
    if model is not General404:
        assert error.data.message
    return error.data


def check_401(error: ApiException, *, operation: str, username: str | None = None) -> None:
    """401 has no model in the client: it raises ``UnauthorizedException``; the body still has a tracedata."""
    assert type(error) is UnauthorizedException, (type(error), error.status, error.body)
    assert error.status == 401
    assert error.data is None
    body = json.loads(error.body or "")
    assert set(body["tracedata"]) == TRACEDATA_FIELDS
    check_tracedata(Tracedata.from_dict(body["tracedata"]), error, operation=operation, username=username)
    assert body["message"]
    assert header(error, "WWW-Authenticate") == "Bearer"


def check_400(error: ApiException, *, operation: str, entity: str | None = None, username: str | None = None) -> None:
    data: General400 = check_general(
        error, BadRequestException, 400, General400, operation=operation, username=username
    )
    assert data.schema_errors
    if entity is not None:
        assert any(entity in (e.entity or "") for e in data.schema_errors), data.schema_errors


# --- operations that succeed --------------------------------------------------------------------------------------
def test_token_generation_and_validation(env: Env) -> None:
    account = env.make_account(roles=[Role.USER, Role.CREWMANAGER])
    response = env.auth().run_token_generation_with_http_info(
        TokenRequest(username=account.username, password=account.password)
    )
    assert response.status_code == 200
    assert (header(response, "Content-Type") or "").startswith("application/json")
    token = response.data
    assert isinstance(token, str) and token.count(".") == 2
    assert json.loads(response.raw_data) == token

    result = env.auth().run_token_validation(token)
    assert isinstance(result, TokenValidationResult)
    assert result.valid is True
    assert result.roles == [UserRole.USER, UserRole.CREWMANAGER]

    # These two operations carry no auth: a (bad) access token configured on the client changes nothing.
    assert env.auth(token).run_token_validation(token).valid is True
    assert isinstance(env.auth("not.a.token").run_token_generation(TokenRequest(**_creds(account))), str)


def test_validation_of_garbage_is_not_valid(env: Env) -> None:
    result = env.auth().run_token_validation("garbage.token.value")
    assert isinstance(result, TokenValidationResult)
    assert result.valid is False and result.roles == []


def test_read_info(env: Env) -> None:
    account = env.make_account(
        roles=[Role.COMPANYOWNER, Role.USER],
        specification="Jane Doe",
        email="jane@acme.example.com",
        phone="+71112223333",
        timezone=3,
        attributes=ATTRIBUTES,
    )
    token = env.login(account)
    user = env.info(token).read_info()
    assert isinstance(user, User)
    assert user.username == account.username
    assert user.company_key == COMPANY
    assert user.roles == [UserRole.COMPANYOWNER, UserRole.USER]
    assert user.timezone == 3
    assert user.enabled is True
    assert user.specification == "Jane Doe"
    assert user.email == "jane@acme.example.com"
    assert user.phone == "+71112223333"
    assert user.password is None
    assert [(a.key, a.value, a.strategy) for a in user.attributes or []] == [
        (a["key"], a["value"], a["strategy"]) for a in ATTRIBUTES
    ]
    assert user.creation_date is not None and user.edit_date is not None
    assert user.additional_properties == {}


def test_update_info_round_trips(env: Env) -> None:
    account = env.make_account(specification="Jane Doe", timezone=-5)
    token = env.login(account)
    info = env.info(token)
    before = info.read_info()

    attributes = [
        Attribute(key="depot", value="south"),
        Attribute(key="shift_start", value="2025-03-01T09:30:00+03:00", strategy="LASTMILE_REF_TIME"),
        Attribute(key="empty", value=""),
    ]
    updated = info.update_info(
        InfoChangeRequest(
            specification="Jane Q. Doe",
            email="jane.doe@acme.example.com",
            phone="+7 111 222-33-44",
            attributes=attributes,
        )
    )
    assert isinstance(updated, User)
    assert updated.specification == "Jane Q. Doe"
    assert updated.email == "jane.doe@acme.example.com"
    assert updated.phone == "+7 111 222-33-44"
    assert updated.attributes == attributes
    assert updated.timezone == -5
    assert updated.company_key == COMPANY and updated.roles == account.roles == [UserRole.USER]
    assert updated.creation_date == before.creation_date
    assert updated.edit_date is not None and before.edit_date is not None and updated.edit_date >= before.edit_date
    assert info.read_info() == updated

    # A field left out is kept; an explicit null clears it (the client sends null only when set to None).
    cleared = info.update_info(InfoChangeRequest(specification=None))
    assert cleared.specification is None
    assert cleared.email == "jane.doe@acme.example.com" and cleared.attributes == attributes

    emptied = info.update_info(InfoChangeRequest(attributes=[]))
    assert emptied.attributes == []
    assert emptied.phone == "+7 111 222-33-44"
    assert info.read_info().attributes == []

    # Non-ASCII text survives the trip (the client decodes with the answer's charset, else UTF-8).
    name = "Жанна д'Арк 名前 ✓"
    unicode_attribute = Attribute(key="заметка", value="ёлка — 🌲", strategy="")
    changed = info.update_info(InfoChangeRequest(specification=name, attributes=[unicode_attribute]))
    assert changed.specification == name and changed.attributes == [unicode_attribute]
    assert info.read_info().specification == name


def test_change_password_issues_a_new_token_and_kills_the_old(env: Env) -> None:
    account = env.make_account()
    old_token = env.login(account)
    new_password = "another_long_password"

    response = env.auth(old_token).change_password_with_http_info(
        PasswordChangeRequest(current_password=account.password, new_password=new_password)
    )
    assert response.status_code == 200
    assert (header(response, "Content-Type") or "").startswith("application/json")
    new_token = response.data
    assert isinstance(new_token, str) and new_token.count(".") == 2 and new_token != old_token

    assert env.info(new_token).read_info().username == account.username
    with pytest.raises(ApiException) as caught:
        env.info(old_token).read_info()
    check_401(caught.value, operation="read_info")
    assert env.auth().run_token_validation(old_token).valid is False
    assert env.auth().run_token_validation(new_token).valid is True

    with pytest.raises(ApiException) as caught:
        env.login(account)  # the old password is gone
    check_401(caught.value, operation="run_token_generation")
    assert isinstance(env.login(account, password=new_password), str)

    # The dead token cannot change the password again either.
    with pytest.raises(ApiException) as caught:
        env.auth(old_token).change_password(
            PasswordChangeRequest(current_password=new_password, new_password="third_long_password")
        )
    check_401(caught.value, operation="change_password")


def test_system_check_and_version(env: Env) -> None:
    system = env.system()
    check = system.check()
    assert isinstance(check, CheckResult)
    assert check.health == 1.0

    version = system.version()
    assert isinstance(version, VersionResult)
    assert (version.major, version.minor) == (7, 46)
    assert isinstance(version.build, str) and 1 <= len(version.build) <= 64


def test_documentation_file(env: Env) -> None:
    response = env.system().file_with_http_info("account_en.html")
    assert response.status_code == 200
    assert (header(response, "Content-Type") or "").startswith("text/html")
    text = response.data
    assert isinstance(text, str)
    assert "<html" in text.lower() and "</html>" in text.lower()
    assert env.system().file("account_en.html") == text


# --- authentication errors -------------------------------------------------------------------------------------
def test_wrong_password_is_401(env: Env) -> None:
    account = env.make_account()
    with pytest.raises(ApiException) as caught:
        env.login(account, password="wrong_password_1")
    check_401(caught.value, operation="run_token_generation")


def test_unknown_user_is_401(env: Env) -> None:
    with pytest.raises(ApiException) as caught:
        env.auth().run_token_generation(TokenRequest(username="nobody_here_at_all", password=PASSWORD))
    check_401(caught.value, operation="run_token_generation")


def test_missing_and_bad_bearer_are_401(env: Env) -> None:
    with pytest.raises(ApiException) as caught:
        env.info().read_info()
    check_401(caught.value, operation="read_info")
    with pytest.raises(ApiException) as caught:
        env.info("not.a.valid-token").read_info()
    check_401(caught.value, operation="read_info")
    with pytest.raises(ApiException) as caught:
        env.info("not.a.valid-token").update_info(InfoChangeRequest(specification="Nobody"))
    check_401(caught.value, operation="update_info")
    with pytest.raises(ApiException) as caught:
        env.auth().change_password(PasswordChangeRequest(current_password=PASSWORD, new_password="x" * 12))
    check_401(caught.value, operation="change_password")


def test_expired_token(env: Env) -> None:
    account = env.make_account()
    token = env.login(account, ttl_seconds=60)
    assert env.info(token).read_info().username == account.username

    env.clock.advance(seconds=61)
    with pytest.raises(ApiException) as caught:
        env.info(token).read_info()
    check_401(caught.value, operation="read_info")
    with pytest.raises(ApiException) as caught:
        env.info(token).update_info(InfoChangeRequest(specification="Too Late"))
    check_401(caught.value, operation="update_info")
    result = env.auth().run_token_validation(token)
    assert result.valid is False and result.roles == []

    # A fresh token issued at the moved clock works.
    assert env.info(env.login(account)).read_info().username == account.username


def test_token_of_a_disabled_user(env: Env) -> None:
    account = env.make_account()
    token = env.login(account)
    on_server(env.server, env.server.services.identity.set_enabled(account.username, False))

    with pytest.raises(ApiException) as caught:
        env.info(token).read_info()
    check_401(caught.value, operation="read_info")
    result = env.auth().run_token_validation(token)
    assert result.valid is False and result.roles == []

    # A disabled user with the right password is refused: 403 with the client's General403.
    with pytest.raises(ApiException) as caught:
        env.login(account)
    check_general(caught.value, ForbiddenException, 403, General403, operation="run_token_generation")

    # Enabling again does not revive the old token; a new sign-in works.
    on_server(env.server, env.server.services.identity.set_enabled(account.username, True))
    assert env.auth().run_token_validation(token).valid is False
    assert env.info(env.login(account)).read_info().enabled is True


def test_wrong_current_password_is_403(env: Env) -> None:
    account = env.make_account()
    token = env.login(account)
    with pytest.raises(ApiException) as caught:
        env.auth(token).change_password(
            PasswordChangeRequest(current_password="not_my_password", new_password="another_long_password")
        )
    check_general(
        caught.value,
        ForbiddenException,
        403,
        General403,
        operation="change_password",
        username=account.username,
        company=COMPANY,
    )
    assert env.info(token).read_info().username == account.username  # nothing changed


def test_unchanged_password_is_400(env: Env) -> None:
    account = env.make_account()
    token = env.login(account)
    with pytest.raises(ApiException) as caught:
        env.auth(token).change_password(
            PasswordChangeRequest(current_password=account.password, new_password=account.password)
        )
    check_general(
        caught.value, BadRequestException, 400, General400, operation="change_password", username=account.username
    )


def test_login_throttling_is_429(env: Env) -> None:
    account = env.make_account()
    for _ in range(10):
        with pytest.raises(ApiException) as caught:
            env.login(account, password="wrong_password_1")
        check_401(caught.value, operation="run_token_generation")
    with pytest.raises(ApiException) as caught:
        env.login(account)  # even the right password, while throttled
    data = check_general(caught.value, ApiException, 429, General429, operation="run_token_generation")
    assert data.message
    retry_after = header(caught.value, "Retry-After")
    assert retry_after is not None and int(retry_after) > 0


def test_unexpected_failure_is_500_with_tracedata(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    account = env.make_account()
    token = env.login(account)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(env.server.services.identity, "get_account", broken)
    with pytest.raises(ApiException) as caught:
        env.info(token).read_info()
    data = check_general(
        caught.value,
        ServiceException,
        500,
        General500,
        operation="read_info",
        username=account.username,
        company=COMPANY,
    )
    assert "injected" not in (data.message or "")  # no internals leak


# --- malformed bodies (sent through the client's transport, past its model layer) ---------------------------------
def test_token_generation_malformed_bodies(env: Env) -> None:
    account = env.make_account()
    api_client = env.client()
    path = "/account/token/generation"
    cases: list[tuple[Any, str | None]] = [
        ({"username": account.username, "password": "short_pw9"}, "password"),  # 9 < 10 characters
        ({"username": account.username, "password": "p" * 257}, "password"),
        ({"username": account.username}, "password"),
        ({"password": account.password}, "username"),
        ({"username": account.username, "password": None}, "password"),
        ({"username": "x", "password": account.password}, "username"),
        ({"username": account.username, "password": account.password, "ttl_seconds": 59}, "ttl_seconds"),
        ({"username": account.username, "password": account.password, "ttl_seconds": 31_556_927}, "ttl_seconds"),
        ({"username": account.username, "password": account.password, "ttl_seconds": "3600"}, "ttl_seconds"),
        ({"username": account.username, "password": 1234567890123}, "password"),
        ("just a string", None),
        ([account.username, account.password], None),
    ]
    for body, entity in cases:
        with pytest.raises(ApiException) as caught:
            send(api_client, "POST", path, body)
        check_400(caught.value, operation="run_token_generation", entity=entity)

    # Broken JSON, or a body in another media type, is a 400 in the same shape.
    raw_cases = [
        (b'{"username": "abc", "password": ', "application/json"),
        (b"", "application/json"),
        (json.dumps(_creds(account)).encode(), "text/plain"),
        (f"username={account.username}&password={account.password}".encode(), "application/x-www-form-urlencoded"),
    ]
    for raw, content_type in raw_cases:
        with pytest.raises(ApiException) as caught:
            send_raw(api_client, "POST", path, raw, content_type)
        check_400(caught.value, operation="run_token_generation")

    # The client's prefix-only regex lets "a-b c" through; the server holds the full pattern.
    with pytest.raises(ApiException) as caught:
        env.auth().run_token_generation(TokenRequest(username="a-b c", password=account.password))
    check_400(caught.value, operation="run_token_generation", entity="username")


def test_token_validation_malformed_bodies(env: Env) -> None:
    account = env.make_account()
    token = env.login(account)
    api_client = env.client()
    types = {**ERROR_TYPES, "200": "TokenValidationResult"}
    for body in [{"token": token}, [token], "short", "x" * 1001, 12345678901]:
        with pytest.raises(ApiException) as caught:
            send(api_client, "POST", "/account/token/validation", body, types=types)
        check_400(caught.value, operation="run_token_validation")
    # The same transport with a proper JSON string works (so the 400s above are about the bodies).
    ok = send(api_client, "POST", "/account/token/validation", token, types=types)
    assert isinstance(ok.data, TokenValidationResult) and ok.data.valid is True


def test_change_password_malformed_bodies(env: Env) -> None:
    account = env.make_account()
    token = env.login(account)

    # The client allows the body to be omitted (then it posts an empty body) and both fields to be null.
    with pytest.raises(ApiException) as caught:
        env.auth(token).change_password()
    check_400(caught.value, operation="change_password", username=account.username)
    with pytest.raises(ApiException) as caught:
        env.auth(token).change_password(PasswordChangeRequest(current_password=None, new_password=None))
    check_400(caught.value, operation="change_password", entity="password", username=account.username)

    api_client = env.client(token)
    cases: list[tuple[Any, str]] = [
        ({"current_password": account.password, "new_password": "short_pw9"}, "new_password"),
        ({"current_password": account.password, "new_password": "n" * 257}, "new_password"),
        ({"current_password": account.password}, "new_password"),
        ({"new_password": "another_long_password"}, "current_password"),
        ({"current_password": account.password, "new_password": 12345678901}, "new_password"),
    ]
    for body, entity in cases:
        with pytest.raises(ApiException) as caught:
            send(api_client, "POST", "/account/password", body, auth=True)
        check_400(caught.value, operation="change_password", entity=entity, username=account.username)
    # Nothing changed: the old token and password still work.
    assert env.info(token).read_info().username == account.username
    assert isinstance(env.login(account), str)


def test_update_info_invalid_values_are_400(env: Env) -> None:
    account = env.make_account(specification="Jane Doe", email="jane@acme.example.com", phone="+71112223333")
    token = env.login(account)
    api_client = env.client(token)
    cases: list[tuple[Any, str | None]] = [
        ({"email": "not-an-email"}, "email"),
        ({"email": "jane@acme"}, "email"),
        ({"phone": "71112223333"}, "phone"),  # no leading +
        ({"phone": "+7abc"}, "phone"),
        ({"phone": "+7" + "1" * 40}, "phone"),
        ({"specification": "J"}, "specification"),
        ({"specification": 42}, "specification"),
        ({"attributes": [{"key": "depot"}]}, "attributes"),
        ({"attributes": [{"key": "", "value": "x"}]}, "attributes"),
        ({"attributes": [{"key": "k", "value": "v" * 7001}]}, "attributes"),
        ({"attributes": [{"key": f"k{i}", "value": "v"} for i in range(251)]}, "attributes"),
        ({"attributes": [{"key": "same", "value": "1"}, {"key": "same", "value": "2"}]}, "attributes"),
        ({"attributes": "depot=north"}, "attributes"),
        ("a string", None),
    ]
    for body, entity in cases:
        with pytest.raises(ApiException) as caught:
            send(api_client, "PUT", "/account/info", body, auth=True, types={**ERROR_TYPES, "200": "User"})
        check_400(caught.value, operation="update_info", entity=entity, username=account.username)
    # Broken JSON is refused while the body is read, before the caller is resolved: the tracedata is complete
    # but names no user (the contract does not require the caller's name there).
    with pytest.raises(ApiException) as caught:
        send_raw(api_client, "PUT", "/account/info", b'{"email": ', "application/json", token=token)
    check_400(caught.value, operation="update_info")

    # Through the typed call too, with a model built past the client's own validators.
    bad = InfoChangeRequest.model_construct(email="still not an email")
    with pytest.raises(ApiException) as caught:
        env.info(token).update_info(bad)
    check_400(caught.value, operation="update_info", entity="email", username=account.username)

    user = env.info(token).read_info()  # nothing was applied
    assert (user.specification, user.email, user.phone, user.attributes) == (
        "Jane Doe",
        "jane@acme.example.com",
        "+71112223333",
        [],
    )


def test_unknown_documentation_file_is_404(env: Env) -> None:
    with pytest.raises(ApiException) as caught:
        env.system().file("no_such_file.html")
    data = check_general(caught.value, NotFoundException, 404, General404, operation="file")
    assert isinstance(data, General404)
    assert data.detail is not None
    assert data.resource_key


def _creds(account: Account) -> dict[str, Any]:
    return {"username": account.username, "password": account.password}
