"""Scale-out profile: several `cabinet serve` processes on one PostgreSQL + Redis behave as one service."""

from __future__ import annotations

import asyncio

import httpx

from cabinet.core.metering import ProcessType, Service
from cabinet.domains.quotas.schemas import QuotaSpec
from tests.helpers import SCALE_OUT, UserFactory

pytestmark = SCALE_OUT


async def test_quota_is_exact_across_processes(two_servers: list[str], make_user: UserFactory, services) -> None:
    made = await make_user()
    user = await services.identity.get_account_by_id(made.id)
    await services.quotas.replace_for_user(
        user.id,
        user.company_id,
        [
            QuotaSpec(
                Service.ACCOUNT,
                ProcessType.NOTRACE,
                points_per_request=1,
                points_per_day=11,
                max_concurrent_execution=1000,
            )
        ],
    )
    async with httpx.AsyncClient(timeout=30) as client:
        token = (
            await client.post(
                f"{two_servers[0]}/account/token/generation",
                json={"username": made.username, "password": made.password},
            )
        ).json()
        headers = {"Authorization": f"Bearer {token}"}
        responses = await asyncio.gather(
            *(client.get(f"{two_servers[i % 2]}/account/info", headers=headers) for i in range(40))
        )
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 11, codes
    assert codes.count(402) == 29, codes
    answered_by = {r.request.url.port for r in responses}
    assert len(answered_by) == 2  # both processes took part in the race


async def test_a_password_change_on_one_process_kills_tokens_on_the_other(
    two_servers: list[str], make_user: UserFactory
) -> None:
    made = await make_user()
    async with httpx.AsyncClient(timeout=30) as client:
        old = (
            await client.post(
                f"{two_servers[0]}/account/token/generation",
                json={"username": made.username, "password": made.password},
            )
        ).json()
        changed = await client.post(
            f"{two_servers[0]}/account/password",
            headers={"Authorization": f"Bearer {old}"},
            json={"current_password": made.password, "new_password": "another_password_9"},
        )
        assert changed.status_code == 200
        stale = await client.get(f"{two_servers[1]}/account/info", headers={"Authorization": f"Bearer {old}"})
        assert stale.status_code == 401
        fresh = await client.get(
            f"{two_servers[1]}/account/info", headers={"Authorization": f"Bearer {changed.json()}"}
        )
        assert fresh.status_code == 200


async def test_login_throttling_is_shared(two_servers: list[str], make_user: UserFactory) -> None:
    made = await make_user()
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(10):  # the default: 10 failures per username
            r = await client.post(
                f"{two_servers[i % 2]}/account/token/generation",
                json={"username": made.username, "password": "wrong_password_x"},
            )
            assert r.status_code == 401
        blocked = await client.post(
            f"{two_servers[0]}/account/token/generation", json={"username": made.username, "password": made.password}
        )
        assert blocked.status_code == 429
