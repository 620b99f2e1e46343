"""Token generation, validation and password change over the wire."""

from __future__ import annotations

import httpx

from tests.helpers import UserFactory, login


async def test_generation_returns_json_string_token(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    response = await client.post(
        "/account/token/generation", json={"username": user.username, "password": user.password}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    token = response.json()
    assert isinstance(token, str) and token.count(".") == 2


async def test_wrong_password_is_401_with_tracedata(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    response = await client.post(
        "/account/token/generation", json={"username": user.username, "password": "wrong_password_1"}
    )
    assert response.status_code == 401
    body = response.json()
    assert body["tracedata"]["service"] == "ACCOUNT"
    assert body["tracedata"]["operation"] == "run_token_generation"
    assert response.headers["x-process-code"] == body["tracedata"]["process_code"]


async def test_validation_and_info(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user(specification="Jane Doe")
    token = await login(client, user)
    response = await client.post("/account/token/validation", json=token)
    assert response.json() == {"valid": True, "roles": ["USER"]}
    info = await client.get("/account/info", headers={"Authorization": f"Bearer {token}"})
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["username"] == user.username
    assert body["company_key"] == "acme_corp"
    assert body["specification"] == "Jane Doe"
    assert "password" not in body
