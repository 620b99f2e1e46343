"""Security of the sign-in half: dead tokens are refused, revocation works, sign-in leaks nothing, throttles."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from cabinet.app import create_app
from cabinet.core.clock import OffsetClock
from cabinet.settings import Settings
from tests.helpers import TEST_SECRET, UserFactory, bearer, clean, login


async def assert_refused(client: httpx.AsyncClient, token: str) -> None:
    info = await client.get("/account/info", headers=bearer(token))
    assert info.status_code == 401, info.text
    assert info.headers["www-authenticate"] == "Bearer"
    assert info.json()["tracedata"]["operation"] == "read_info"
    validation = await client.post("/account/token/validation", json=token)
    assert validation.status_code == 200
    assert validation.json() == {"valid": False, "roles": []}


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_expired_token_is_refused(client: httpx.AsyncClient, make_user: UserFactory, clock: OffsetClock) -> None:
    user = await make_user()
    token = await login(client, user, ttl_seconds=60)
    assert (await client.get("/account/info", headers=bearer(token))).status_code == 200
    clock.advance(seconds=61)
    await assert_refused(client, token)


async def test_ttl_is_honoured(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    claims = _claims(await login(client, user, ttl_seconds=120))
    assert claims["exp"] - claims["iat"] == 120
    claims = _claims(await login(client, user))
    assert claims["exp"] - claims["iat"] == 86_400


async def test_tampered_token_is_refused(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user(roles=[])
    token = await login(client, user)
    header, payload, signature = token.split(".")
    claims = _claims(token)
    claims["roles"] = ["OVERLORD"]
    await assert_refused(client, f"{header}.{_b64(claims)}.{signature}")
    await assert_refused(client, f"{header}.{payload}.{signature[:-4]}AAAA")


async def test_alg_none_and_wrong_algorithms_are_refused(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    claims = _claims(await login(client, user))
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    await assert_refused(client, unsigned)
    await assert_refused(client, jwt.encode(claims, TEST_SECRET, algorithm="HS512"))
    await assert_refused(client, jwt.encode(claims, "another-secret-of-sufficient-length-0123456789"))


async def test_token_of_another_kind_is_refused(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    claims = _claims(await login(client, user))
    claims["typ"] = "service"
    await assert_refused(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_password_change_kills_older_tokens(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    old_a = await login(client, user)
    old_b = await login(client, user)
    response = await client.post(
        "/account/password",
        headers=bearer(old_a),
        json={"current_password": user.password, "new_password": "brand_new_password_2"},
    )
    assert response.status_code == 200, response.text
    new = response.json()
    assert isinstance(new, str)
    await assert_refused(client, old_a)
    await assert_refused(client, old_b)
    assert (await client.get("/account/info", headers=bearer(new))).status_code == 200
    # the old password no longer signs in; the new one does
    refused = await client.post(
        "/account/token/generation", json={"username": user.username, "password": user.password}
    )
    assert refused.status_code == 401
    user.password = "brand_new_password_2"
    await login(client, user)


async def test_password_change_requires_current_password(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    token = await login(client, user)
    response = await client.post(
        "/account/password",
        headers=bearer(token),
        json={"current_password": "not_the_password", "new_password": "brand_new_password_2"},
    )
    assert response.status_code == 403
    assert response.json()["message"]
    assert (await client.get("/account/info", headers=bearer(token))).status_code == 200
    same = await client.post(
        "/account/password",
        headers=bearer(token),
        json={"current_password": user.password, "new_password": user.password},
    )
    assert same.status_code == 400


async def test_disable_kills_tokens_and_sign_in(client: httpx.AsyncClient, make_user: UserFactory, services) -> None:
    user = await make_user()
    token = await login(client, user)
    await services.identity.set_enabled(user.username, False)
    await assert_refused(client, token)
    refused = await client.post(
        "/account/token/generation", json={"username": user.username, "password": user.password}
    )
    assert refused.status_code == 403
    assert refused.json()["tracedata"]["service"] == "ACCOUNT"
    await services.identity.set_enabled(user.username, True)
    await assert_refused(client, token)  # re-enabling does not revive old tokens
    await login(client, user)


async def test_unknown_user_costs_the_same_verify(client: httpx.AsyncClient, make_user: UserFactory, services) -> None:
    """Timing does not reveal whether a username exists: both paths run exactly one argon2 verify."""
    user = await make_user()
    hasher = services.identity.hasher
    before = hasher.verify_calls
    unknown = await client.post(
        "/account/token/generation", json={"username": "nobody_here", "password": "some_password_1"}
    )
    after_unknown = hasher.verify_calls
    wrong = await client.post(
        "/account/token/generation", json={"username": user.username, "password": "some_password_1"}
    )
    after_wrong = hasher.verify_calls
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["message"] == wrong.json()["message"]
    assert after_unknown - before == 1
    assert after_wrong - after_unknown == 1


@pytest.fixture
async def strict_client(settings: Settings, clock: OffsetClock) -> AsyncIterator[httpx.AsyncClient]:
    strict = settings.model_copy(
        update={"login_failures_per_username": "3/15 minutes", "login_failures_per_ip": "5/15 minutes"}
    )
    application = create_app(strict, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False, client=("10.9.8.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            c.services = application.state.runtime.services  # type: ignore[attr-defined]
            yield c
        await clean(application)


async def test_throttling_per_username(strict_client: httpx.AsyncClient) -> None:
    factory = UserFactory(strict_client.services)  # type: ignore[attr-defined]
    user = await factory()
    for _ in range(3):
        r = await strict_client.post(
            "/account/token/generation", json={"username": user.username, "password": "wrong_password_1"}
        )
        assert r.status_code == 401
    blocked = await strict_client.post(
        "/account/token/generation", json={"username": user.username, "password": user.password}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["tracedata"]["operation"] == "run_token_generation"


async def test_throttling_per_address(strict_client: httpx.AsyncClient) -> None:
    factory = UserFactory(strict_client.services)  # type: ignore[attr-defined]
    victim = await factory()
    for i in range(5):  # spread over usernames: only the address counter fills
        r = await strict_client.post(
            "/account/token/generation", json={"username": f"guess_{i}", "password": "wrong_password_1"}
        )
        assert r.status_code == 401
    blocked = await strict_client.post(
        "/account/token/generation", json={"username": victim.username, "password": victim.password}
    )
    assert blocked.status_code == 429


async def test_success_resets_the_username_counter(strict_client: httpx.AsyncClient) -> None:
    factory = UserFactory(strict_client.services)  # type: ignore[attr-defined]
    user = await factory()
    for _ in range(2):
        await strict_client.post(
            "/account/token/generation", json={"username": user.username, "password": "wrong_password_1"}
        )
    ok = await strict_client.post(
        "/account/token/generation", json={"username": user.username, "password": user.password}
    )
    assert ok.status_code == 200
    for _ in range(2):
        r = await strict_client.post(
            "/account/token/generation", json={"username": user.username, "password": "wrong_password_1"}
        )
        assert r.status_code == 401
