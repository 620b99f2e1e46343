"""The published Data API clients, unchanged, against the real server on loopback:
``comagic-data-api-sdk`` 0.0.3.4 (module ``comagic.client``) and ``comagic-wrapper`` 0.0.4.2 (``comagic.comagic``).

Both hard-code ``https://dataapi.comagic.ru/v2.0`` and sign in inside their constructors; the only thing changed is
where that URL goes: ``requests.Session`` is swapped for one that sends it to the live server instead (and the
SDK's documented ``API_URL`` attribute for a token-built client). Domain set-up runs on the server's own loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from comagic.client import Comagic as Sdk
from comagic.comagic import Comagic as Wrapper
from comagic.errors import ComagicException as SdkError
from comagic.exceptions import ComagicException as WrapperError
from comagic.utils import parse_datetime

from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.identity.schemas import UserCreate
from tests.helpers import LiveServer

PRODUCTION = "https://dataapi.comagic.ru"
PASSWORD = "correct_horse_battery"


@dataclass
class World:
    server: LiveServer
    login: str
    key: str
    company_id: int
    staff: list[str]

    @property
    def url(self) -> str:
        return f"{self.server.url}/v2.0"


@pytest.fixture
def world(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    services = live_server.services

    async def setup() -> World:
        def make(name: str, roles: list[Role], **extra: Any) -> UserCreate:
            return UserCreate(name, PASSWORD, "acme_corp", roles, create_company=True, **extra)

        owner = await services.identity.create_user(make("owner_one", [Role.COMPANYOWNER], timezone=3))
        staff = []
        for name, email in (("anna_b", "anna@example.com"), ("boris_c", None), ("carl_d", "carl@example.com")):
            staff.append((await services.identity.create_user(make(name, [Role.USER], email=email))).username)
        await services.credentials.allow_network(PLATFORM_OPERATOR, "acme_corp", "127.0.0.0/8")
        issued = await services.credentials.issue_key(PLATFORM_OPERATOR, owner.username, KeyRequest(name="sdk"))
        return World(live_server, owner.username, issued.key, owner.company_id, staff)

    made: World = live_server.run(setup())
    original = requests.Session

    class Loopback(original):  # type: ignore[misc,valid-type]
        """The clients' hard-coded production URL, sent to the live server instead."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            return super().request(method, url.replace(PRODUCTION, live_server.url), *args, **kwargs)

    monkeypatch.setattr(requests, "Session", Loopback)
    yield made


USERS_QUERY = {
    "filter": {
        "filters": [
            {"field": "login", "operator": "!=", "value": "owner_one"},
            {
                "filters": [
                    {"field": "email", "operator": "is_not_null", "value": None},
                    {"field": "login", "operator": "like", "value": "bor%"},
                ],
                "condition": "or",
            },
        ],
        "condition": "and",
    },
    "sort": [{"field": "login", "order": "desc"}],
    "limit": 2,
    "offset": 1,
    "fields": ["login", "email", "creation_date"],
}


def test_sdk_login_account_get_logout(world: World) -> None:
    client = Sdk(world.login, PASSWORD)  # login.user inside the constructor
    account = client.get_account()
    assert (account.app_id, account.name, account.timezone) == (world.company_id, "acme_corp", "Etc/GMT-3")
    rows = client._send_api_request(client._create_endpoint_params("get", "users", **USERS_QUERY))
    assert [(r["login"], r["email"]) for r in rows] == [("boris_c", None), ("anna_b", "anna@example.com")]
    assert all(parse_datetime(r["creation_date"]) for r in rows)  # the SDK's own date-time parser
    assert set(rows[0]) == {"login", "email", "creation_date"}
    with pytest.raises(SdkError) as refused:
        client._send_api_request(client._create_endpoint_params("get", "users", fields=["shoe"]))
    assert refused.value.error_data["code"] == -32602
    assert refused.value.error_data["data"]["mnemonic"] == "unexpected_parameters"
    assert client._send_api_request(client._create_endpoint_params("logout", "user")) == {}
    with pytest.raises(SdkError) as gone:  # after its five identical retries
        client.get_account()
    assert gone.value.error_data["data"]["mnemonic"] == "access_token_invalid"
    assert "Access token is invalid" in str(gone.value)


def test_sdk_with_an_api_key(world: World) -> None:
    client = Sdk(token=world.key)
    client.API_URL = world.url  # the SDK's documented switch for its server's address
    assert client.get_account().app_id == world.company_id
    companies = client._send_api_request(client._create_endpoint_params("get", "companies", fields=["id", "name"]))
    assert companies == [{"id": world.company_id, "name": "acme_corp"}]
    unknown = Sdk(token=world.key)
    unknown.API_URL = world.url
    with pytest.raises(SdkError) as missing:
        unknown.get_virtual_numbers()  # a telephony method cabinet does not have
    assert missing.value.error_data["data"]["mnemonic"] == "method_not_found"


def test_wrapper_login_account_get_logout(world: World) -> None:
    client = Wrapper(world.login, PASSWORD)
    assert client.comagic_app_id == world.company_id  # it reads app_id from login.user
    [account] = client.account.get()
    assert account["app_id"] == world.company_id and account["name"] == "acme_corp"
    rows = client._session._get_endpoint("get", "users", **USERS_QUERY)
    assert [r["login"] for r in rows] == ["boris_c", "anna_b"]
    everyone = client._session._get_endpoint("get", "users", fields=["login"], limit=10)
    assert sorted(r["login"] for r in everyone) == sorted(["owner_one", *world.staff])
    with pytest.raises(WrapperError) as refused:
        client._session._get_endpoint("get", "users", sort=[{"field": "roles"}])
    assert refused.value.error_data["data"]["mnemonic"] == "sort_prohibited"
    assert client._session._get_endpoint("logout", "user") == {}
    with pytest.raises(WrapperError) as gone:  # its synthetic error after four -32001 answers
        client.account.get()
    assert gone.value.error_data["code"] == -32001


def test_wrapper_with_an_api_key(world: World) -> None:
    client = Wrapper(token=world.key)
    [account] = client.account.get()
    assert account["login"] == "owner_one"
    keys = client._session._get_endpoint("get", "api_keys", fields=["login", "is_permanent"])
    assert keys == [{"login": "owner_one", "is_permanent": True}]
