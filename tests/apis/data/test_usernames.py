"""Usernames that could pass for another are refused at every door (Data API create.users, the Admin API, the
contractor API's register), each in its API's error format; an exact duplicate stays a conflict (usernames are
global, across companies)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cabinet.core.usernames import mixed_script, skeleton
from cabinet.domains.registry import Services
from tests.apis.contractor.support import make_tenant
from tests.apis.data.support import Caller, mnemonic, rpc
from tests.helpers import UserFactory, bearer, login

TAKEN = "paypal_admin"
LOOKALIKES = [
    "PAYPAL_ADMIN",  # case
    "ｐａｙｐａｌ_admin",  # fullwidth (NFKC)
    "paypa1_admin",  # digit one for a small L
    "𝐩𝐚𝐲𝐩𝐚𝐥_admin",  # mathematical bold
]
MIXED = "pаypal_admin"  # a Cyrillic а among Latin letters


def test_skeletons_and_scripts() -> None:
    assert all(skeleton(name) == skeleton(TAKEN) for name in [*LOOKALIKES, MIXED])
    assert skeleton("alice_1") != skeleton("bob_1")
    assert mixed_script(MIXED) and not mixed_script(TAKEN) and not mixed_script("Иван_Петров_2")
    assert skeleton("сор") == skeleton("cop")  # whole-script look-alikes: Cyrillic letters only, still the same


@pytest.fixture
async def taken(make_user: UserFactory) -> None:
    await make_user(TAKEN, company="other_co")


@pytest.mark.parametrize("name", LOOKALIKES)
async def test_data_api_refuses_a_lookalike(client: httpx.AsyncClient, owner: Caller, taken: None, name: str) -> None:
    body = await rpc(client, "create.users", owner.params(login=name, password="s3cret-pass-1"))
    assert mnemonic(body) == "invalid_parameter_value", body
    assert body["error"]["data"]["field"] == "login"  # the Data API names the parameter (no free text on the wire)


async def test_data_api_mixed_script_and_exact_duplicate(client: httpx.AsyncClient, owner: Caller, taken: None) -> None:
    mixed = await rpc(client, "create.users", owner.params(login=MIXED, password="s3cret-pass-1"))
    assert mnemonic(mixed) == "invalid_parameter_value" and mixed["error"]["data"]["field"] == "login"
    exact = await rpc(client, "create.users", owner.params(login=TAKEN, password="s3cret-pass-1"))
    assert mnemonic(exact) == "duplicate_entity"  # another company's name: still taken (global names)
    fine = await rpc(client, "create.users", owner.params(login="Иван_Петров", password="s3cret-pass-1"))
    assert "result" in fine, fine


async def test_admin_api_refuses_lookalikes_with_400(
    client: httpx.AsyncClient, make_user: UserFactory, taken: None
) -> None:
    admin = await make_user(roles=["ADMIN"], company="platform_co")  # type: ignore[list-item]
    headers = bearer(await login(client, admin))

    async def create(name: str) -> httpx.Response:
        body: dict[str, Any] = {"username": name, "company_key": "platform_co", "roles": ["USER"]}
        return await client.post("/admin/users", json=body, headers=headers)

    for name, text in ((LOOKALIKES[0], "looks like an existing user name"), (MIXED, "mixes scripts")):
        answer = await create(name)
        assert answer.status_code == 400, answer.text
        assert text in answer.text
    assert (await create(TAKEN)).status_code == 409


async def test_contractor_register_refuses_lookalikes_with_400(
    client: httpx.AsyncClient, services: Services, taken: None
) -> None:
    tenant = await make_tenant(services)
    for name in (LOOKALIKES[2], MIXED):
        answer = await client.post(
            "/user/register", json={"userName": name, "password": "contractor_pw"}, headers=tenant.erp
        )
        assert answer.status_code == 400, (name, answer.text)
    exact = await client.post(
        "/user/register", json={"userName": TAKEN, "password": "contractor_pw"}, headers=tenant.erp
    )
    assert exact.status_code == 409
