"""Sign-in throttles hold under a burst: a slot is reserved before the password is checked, at every door (the
Account API's token, the web login, the Data API's ``login.user``, the contractor API's ``/user/signin``).

59 wrong passwords and the right one sent at once get at most the limit's number of password checks (the old
check-then-act code checked all 60 and handed out a token)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from cabinet.app import create_app
from cabinet.core.clock import OffsetClock
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR
from cabinet.domains.registry import Services
from cabinet.settings import Settings
from tests.apis.contractor.support import PASSWORD, make_tenant, signin_body
from tests.apis.web.support import csrf_of
from tests.helpers import UserFactory, clean

PER_NAME = 3
PER_CLIENT = 5
BURST = 60


@pytest.fixture
async def strict(settings: Settings, clock: OffsetClock) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    tight = settings.model_copy(
        update={
            "login_failures_per_username": f"{PER_NAME}/15 minutes",
            "login_failures_per_ip": f"{PER_CLIENT}/15 minutes",
        }
    )
    application = create_app(tight, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False, client=("127.0.0.1", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            yield c, application.state.runtime.services
        await clean(application)


def _count_password_checks(services: Services) -> Callable[[], int]:
    """How many password checks ran (argon2 verifies, contractor verifier comparisons) from now on."""
    hasher = services.identity.hasher
    start = hasher.verify_calls
    contractor_checks = [0]
    check = services.contractors._check

    def counted(*args: Any) -> bool:
        contractor_checks[0] += 1
        return check(*args)

    services.contractors._check = counted  # type: ignore[method-assign]
    return lambda: hasher.verify_calls - start + contractor_checks[0]


Attempt = Callable[[str, str], Awaitable[tuple[int, bool]]]  # (username, password) -> (status, signed in)


async def _door(name: str, client: httpx.AsyncClient, services: Services) -> tuple[str, str, Attempt]:
    """A user who can sign in at this door, their password, and one sign-in attempt there."""
    if name == "contractor":
        tenant = await make_tenant(services)
        username, _ = await tenant.register(client)

        async def contractor(user: str, password: str) -> tuple[int, bool]:
            r = await client.post("/user/signin", json=signin_body(user, password))
            return r.status_code, r.status_code == 200

        return username, PASSWORD, contractor
    user = await UserFactory(services)()
    if name == "account":

        async def account(user: str, password: str) -> tuple[int, bool]:
            r = await client.post("/account/token/generation", json={"username": user, "password": password})
            return r.status_code, r.status_code == 200

        return user.username, user.password, account
    if name == "data":
        await services.credentials.allow_network(PLATFORM_OPERATOR, user.company, "127.0.0.0/8")

        async def data(user: str, password: str) -> tuple[int, bool]:
            body = {"jsonrpc": "2.0", "id": 1, "method": "login.user", "params": {"login": user, "password": password}}
            r = await client.post("/v2.0", json=body)
            return r.status_code, "result" in r.json()

        return user.username, user.password, data

    async def web(user: str, password: str) -> tuple[int, bool]:
        async with httpx.AsyncClient(transport=client._transport, base_url="https://testserver") as browser:
            form = await browser.get("/ui/login")
            data = {"username": user, "password": password, "csrf_token": csrf_of(form.text)}
            r = await browser.post("/ui/login", data=data)
            return r.status_code, r.status_code in (302, 303)

    return user.username, user.password, web


DOORS = ["account", "web", "data", "contractor"]


@pytest.mark.parametrize("door", DOORS)
async def test_a_burst_on_one_name_gets_the_limit_of_checks(
    door: str, strict: tuple[httpx.AsyncClient, Services]
) -> None:
    client, services = strict
    username, password, attempt = await _door(door, client, services)
    checks = _count_password_checks(services)
    tries = [attempt(username, f"wrong_password_{i}") for i in range(BURST - 1)] + [attempt(username, password)]
    answers = await asyncio.gather(*tries)
    assert 1 <= checks() <= PER_NAME, f"{checks()} password checks for a limit of {PER_NAME}"
    assert sum(1 for _, signed_in in answers if signed_in) <= 1
    assert all(status < 500 for status, _ in answers)


@pytest.mark.parametrize("door", DOORS)
async def test_a_burst_over_many_names_gets_the_client_limit(
    door: str, strict: tuple[httpx.AsyncClient, Services]
) -> None:
    client, services = strict
    _, _, attempt = await _door(door, client, services)
    checks = _count_password_checks(services)
    names = [f"guess_{uuid.uuid4().hex[:8]}" for _ in range(BURST)]
    await asyncio.gather(*(attempt(name, "wrong_password_1") for name in names))
    assert 1 <= checks() <= PER_CLIENT, f"{checks()} password checks for a per-client limit of {PER_CLIENT}"


@pytest.mark.parametrize("door", DOORS)
async def test_success_gives_the_slots_back(door: str, strict: tuple[httpx.AsyncClient, Services]) -> None:
    """A right password does not use up the client's slots: many good sign-ins in a row all pass."""
    client, services = strict
    username, password, attempt = await _door(door, client, services)
    for _ in range(PER_CLIENT + 2):
        status, signed_in = await attempt(username, password)
        assert signed_in, status
