"""Helpers for the contractor API tests: the salted-hash sign-in body, a call body, tenants with an ERP key."""

from __future__ import annotations

import asyncio
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
from tests.helpers import bearer

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


async def _life_of_a_call(
    client: httpx.AsyncClient,
    erp_client: httpx.AsyncClient,
    tenant: Tenant,
    cid: int,
    headers: dict[str, str],
    rounds: int,
) -> list[str]:
    """Drive one call from New to Closed with messages, a jeopardy and its tasks; returns the messages written."""
    written: list[str] = []

    async def ok(answer: Any) -> Any:
        response = await answer
        assert response.status_code in (200, 204), response.text
        return response

    call = (await ok(client.get(f"/call/{cid}", headers=headers))).json()
    await ok(client.post(f"/call/{cid}/status", json={"status": "Committed"}, headers=headers))
    for n in range(rounds):
        text = f"call {cid} note {n}"
        await ok(client.post(f"/call/{cid}/message", json={"message": text}, headers=headers))
        written.append(text)
        text = f"call {cid} dispatcher {n}"
        await ok(
            erp_client.post(
                f"/call/{cid}/dispatcher/message",
                json={"message": text, "date": "2026-11-27T12:00:00Z"},
                headers=tenant.erp,
            )
        )
        written.append(text)
    await ok(client.post(f"/call/{cid}/jeopardy", json={"comment": "parts late"}, headers=headers))
    await ok(erp_client.post(f"/call/{cid}/unjeopardy", json={"answerComment": "accepted"}, headers=tenant.erp))
    first, *rest = [t["id"] for t in call["tasks"]]
    await ok(client.post(f"/calltask/{first}/status", json={"status": "Done"}, headers=headers))
    for task_id in rest:
        await ok(client.post(f"/calltask/{task_id}/status", json={"status": "Canceled"}, headers=headers))
    await ok(erp_client.patch(f"/call/{cid}", json={"ttf": "2031-01-01T00:00:00Z"}, headers=tenant.erp))
    await ok(client.post(f"/call/{cid}/status", json={"status": "Done"}, headers=headers))
    await ok(erp_client.post(f"/call/{cid}/close", headers=tenant.erp))
    return written


async def sync_proof(
    clients: list[httpx.AsyncClient], tenant: Tenant, *, calls: int = 8, page: int = 5, rounds: int = 3
) -> int:
    """Writers drive ``calls`` calls through their whole life concurrently (spread over ``clients``, i.e. over
    app processes) while a reader polls the feeds with its last change number and a small page. At the end the
    reader has seen every message exactly once and every call and jeopardy in its final state, and never a
    change number at or below its cursor. Returns how many polls the reader made."""
    first = clients[0]
    contractors = [await tenant.contractor(first) for _ in range(2)]
    work: list[tuple[int, dict[str, str]]] = []
    for n in range(calls):
        owner_id, headers = contractors[n % 2]
        work.append(((await tenant.dispatch(clients[n % len(clients)], owner_id))["id"], headers))
    cursors = {"call": 0, "messages": 0, "jeopardies": 0}
    paths = {
        "call": "/call/modifications/{}",
        "messages": "/call/messages/modifications/{}",
        "jeopardies": "/call/jeopardies/modifications/{}",
    }
    latest: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in paths}
    messages_seen: list[str] = []
    writers_done = asyncio.Event()
    polls = 0

    async def read(name: str, template: str) -> None:
        """One reader per feed, each polling as fast as it can with its own cursor."""
        nonlocal polls
        while True:
            finished = writers_done.is_set()
            reader = clients[polls % len(clients)]
            polls += 1
            answer = await reader.get(template.format(cursors[name]), params={"limit": page}, headers=tenant.erp)
            assert answer.status_code == 200, answer.text
            items = answer.json()
            assert len(items) <= page
            for item in items:
                assert item["timestamp"] > cursors[name], (name, item["timestamp"], cursors[name])
                cursors[name] = item["timestamp"]
                latest[name][item["id"]] = item
                if name == "messages":
                    messages_seen.append(item["message"])
            if finished and not items:
                return
            await asyncio.sleep(0)

    readers = [asyncio.create_task(read(name, template)) for name, template in paths.items()]
    results = await asyncio.gather(
        *(
            _life_of_a_call(clients[k % len(clients)], clients[(k + 1) % len(clients)], tenant, cid, headers, rounds)
            for k, (cid, headers) in enumerate(work)
        )
    )
    writers_done.set()
    await asyncio.gather(*readers)
    assert sorted(messages_seen) == sorted(m for written in results for m in written)  # each exactly once
    for cid, _ in work:
        final = (await first.get(f"/call/{cid}", headers=tenant.erp)).json()
        assert final["status"] == "Closed"
        assert latest["call"][cid] == final, cid
        for jeopardy in final["jeopardies"]:
            assert latest["jeopardies"][jeopardy["id"]] == jeopardy
    return polls
