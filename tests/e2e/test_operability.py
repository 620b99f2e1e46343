"""Operability: /ready says whether the backing services answer; /metrics counts what happened."""

from __future__ import annotations

import re

import httpx

from cabinet.core.metering import ProcessType, Service
from cabinet.core.roles import Role
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.domains.registry import Services
from tests.helpers import UserFactory, login


def sample(text: str, name: str, **labels: str) -> float:
    """One sample of the exposition (0 when the series does not exist yet)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def metrics(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


async def test_ready_reports_every_backing_service(client: httpx.AsyncClient) -> None:
    answer = await client.get("/ready")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": True, "limits": True, "blobs": True}


async def test_metrics_count_requests_refusals_and_login_failures(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    user = await make_user("metered_user", roles=[Role.USER])
    token = await login(client, user)
    auth = {"Authorization": f"Bearer {token}"}
    before = await metrics(client)

    for _ in range(3):
        assert (await client.get("/account/info", headers=auth)).status_code == 200
    wrong = await client.post("/account/token/generation", json={"username": user.username, "password": "x" * 12})
    assert wrong.status_code == 401
    await services.quotas.replace_for_user(
        user.id,
        (await services.identity.get_account_by_id(user.id)).company_id,
        [
            QuotaSpec(
                Service.ACCOUNT, ProcessType.NOTRACE, points_per_request=5, points_per_day=1, max_concurrent_execution=5
            )
        ],
    )
    statuses = [(await client.get("/account/info", headers=auth)).status_code for _ in range(3)]
    assert statuses == [200, 402, 402]
    assert (await client.get("/account/no-such-path")).status_code == 404

    after = await metrics(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("cabinet_http_requests_total", api="account", operation="read_info", status="200") == 4
    assert delta("cabinet_http_requests_total", api="account", operation="read_info", status="402") == 2
    assert delta("cabinet_http_requests_total", api="account", operation="run_token_generation", status="401") == 1
    assert delta("cabinet_http_request_duration_seconds_count", api="account", operation="read_info") == 6
    assert delta("cabinet_quota_refusals_total", service="ACCOUNT", reason="quota_exceeded") == 2
    assert delta("cabinet_login_failures_total", reason="invalid_credentials") == 1
    # label values are bounded: no path or username ever becomes a series
    assert "no-such-path" not in after
    assert user.username not in after
