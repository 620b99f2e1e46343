"""Helpers for the contractor API tests: the salted-hash sign-in body, a call body, tenants with an ERP key."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.registry import Services

PASSWORD = "contractor_pw"


def signin_body(username: str, password: str = PASSWORD, salt: bytes | None = None) -> dict[str, str]:
    """SignInInputDTO as the seed's client computes it: SHA256(SHA256(utf8 password) || salt)."""
    salt = salt if salt is not None else os.urandom(16)
    hashed = hashlib.sha256(hashlib.sha256(password.encode()).digest() + salt).digest()
    return {
        "userName": username,
        "salt": base64.b64encode(salt).decode(),
        "hashedPassword": base64.b64encode(hashed).decode(),
    }


def call_body(owner_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "availableExpenditureItems": [{"name": "Fuel"}, {"name": "Parking"}],
        "clientName": "Bank of Tests",
        "contactPersonName": "Anna",
        "contactPersonPhone": "+79990000000",
        "created": "2026-11-20T09:00:00Z",
        "critical": False,
        "descriptionHtmlText": "<p>ATM does not dispense</p>",
        "descriptionTextForFieldEmployee": "ATM does not dispense",
        "ownerId": owner_id,
        "serviceObjectAddress": "Main st. 1",
        "serviceObjectLatitude": 55.75,
        "serviceObjectLongitude": 37.62,
        "serviceObjectName": "ATM 42",
        "serviceObjectType": "ATM",
        "tasks": [{"title": "Diagnose"}, {"title": "Repair"}],
    }
    body.update(overrides)
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    """A company with its external system's API key and helpers to register and sign in contractors."""

    company: str
    erp: dict[str, str]
    contractors: dict[str, int] = field(default_factory=dict)

    async def register(self, client: httpx.AsyncClient, username: str | None = None) -> tuple[str, int]:
        username = username or f"c_{uuid.uuid4().hex[:10]}"
        response = await client.post(
            "/user/register", json={"userName": username, "password": PASSWORD}, headers=self.erp
        )
        assert response.status_code == 200, response.text
        user_id = response.json()["id"]
        self.contractors[username] = user_id
        return username, user_id

    async def sign_in(self, client: httpx.AsyncClient, username: str) -> dict[str, Any]:
        response = await client.post("/user/signin", json=signin_body(username))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def contractor(self, client: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
        """A registered, signed-in contractor: (user id, its auth header)."""
        username, user_id = await self.register(client)
        tokens = await self.sign_in(client, username)
        return user_id, bearer(tokens["access"]["token"])

    async def dispatch(self, client: httpx.AsyncClient, owner_id: int, **overrides: Any) -> dict[str, Any]:
        response = await client.post("/call", json=call_body(owner_id, **overrides), headers=self.erp)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


async def make_tenant(services: Services, company: str | None = None) -> Tenant:
    """A company with a BOT user (the external system) and its API key."""
    company = company or f"co_{uuid.uuid4().hex[:8]}"
    username = f"erp_{uuid.uuid4().hex[:8]}"
    await services.identity.create_user(
        UserCreate(
            username=username, password="erp_password_1", company_key=company, roles=[Role.BOT], create_company=True
        )
    )
    issued = await services.credentials.issue_key(PLATFORM_OPERATOR, username, KeyRequest(name="erp"))
    return Tenant(company, bearer(issued.key))
