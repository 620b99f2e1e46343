"""RateLimit-Policy / RateLimit headers (draft-ietf-httpapi-ratelimit-headers-08) wherever a quota applies on the
REST APIs, and Retry-After on every 402, 429 and 503 (issue 20, item 3)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
from starlette.datastructures import MutableHeaders

from cabinet.core.clock import OffsetClock
from cabinet.core.http.ratelimit import rate_limit_headers
from cabinet.core.metering import ProcessType, Service
from cabinet.core.tracing import RateLimitState
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.domains.registry import Services
from tests.helpers import MadeUser, UserFactory, bearer, login

ITEM = re.compile(r'\s*"([^"]+)"((?:;[a-z]+=(?:"[^"]*"|\d+))*)\s*')


def parse_list(value: str) -> dict[str, dict[str, str | int]]:
    """A Structured Field list of named items with parameters, as the draft writes them."""
    items: dict[str, dict[str, str | int]] = {}
    for part in value.split(","):
        match = ITEM.fullmatch(part)
        assert match, value
        params: dict[str, str | int] = {}
        for raw in match.group(2).split(";")[1:]:
            key, _, val = raw.partition("=")
            params[key] = val.strip('"') if val.startswith('"') else int(val)
        items[match.group(1)] = params
    return items


async def set_quota(services: Services, user: MadeUser, service: Service, **limits: object) -> None:
    company_id = (await services.identity.get_account_by_id(user.id)).company_id
    spec = {"points_per_request": 10, "points_per_day": 1000, "max_concurrent_execution": 10, **limits}
    await services.quotas.replace_for_user(
        user.id,
        company_id,
        [QuotaSpec(service, ProcessType.NOTRACE, **spec)],  # type: ignore[arg-type]
    )


def seconds_to_local_midnight(now: datetime, hours: int) -> float:
    local = now + timedelta(hours=hours)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


async def test_account_api_tells_the_day_quota_and_refuses_with_retry_after(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services, clock: OffsetClock
) -> None:
    user = await make_user(timezone=5)
    token = await login(client, user)
    await set_quota(services, user, Service.ACCOUNT, points_per_day=2, max_concurrent_execution=4)
    first = await client.get("/account/info", headers=bearer(token))
    assert first.status_code == 200
    policy = parse_list(first.headers["RateLimit-Policy"])
    assert policy == {"concurrency": {"q": 4, "qu": "concurrent-requests"}, "day": {"q": 2, "w": 86400}}
    limits = parse_list(first.headers["RateLimit"])
    assert limits["day"]["r"] == 1 and limits["concurrency"] == {"r": 3}
    reset = limits["day"]["t"]
    assert isinstance(reset, int) and abs(reset - seconds_to_local_midnight(clock.now(), 5)) <= 5
    assert parse_list((await client.get("/account/info", headers=bearer(token))).headers["RateLimit"])["day"]["r"] == 0
    refused = await client.get("/account/info", headers=bearer(token))
    assert refused.status_code == 402
    assert parse_list(refused.headers["RateLimit"])["day"]["r"] == 0
    assert abs(int(refused.headers["Retry-After"]) - seconds_to_local_midnight(clock.now(), 5)) <= 5


async def test_concurrency_refusal_is_a_429_with_retry_after(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    user = await make_user()
    token = await login(client, user)
    await set_quota(services, user, Service.ACCOUNT, max_concurrent_execution=0)
    refused = await client.get("/account/info", headers=bearer(token))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert parse_list(refused.headers["RateLimit"]) == {"concurrency": {"r": 0}}


async def test_a_date_window_quota_is_a_policy_of_its_own(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services, clock: OffsetClock
) -> None:
    user = await make_user()
    token = await login(client, user)
    today = clock.now().date()
    await set_quota(
        services,
        user,
        Service.ACCOUNT,
        points_per_date_window=50,
        window_from=today - timedelta(days=1),
        window_to=today + timedelta(days=1),
    )
    answer = await client.get("/account/info", headers=bearer(token))
    assert parse_list(answer.headers["RateLimit-Policy"])["window"] == {"q": 50, "w": 3 * 86400}
    window = parse_list(answer.headers["RateLimit"])["window"]
    assert window["r"] == 49 and 86400 < int(window["t"]) <= 2 * 86400 + 5


async def test_admin_api_sends_them_too_and_no_quota_means_no_headers(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services
) -> None:
    from cabinet.core.roles import Role

    admin = await make_user(roles=[Role.ADMIN])
    token = await login(client, admin)
    plain = await client.get("/account/info", headers=bearer(token))
    assert plain.status_code == 200 and "RateLimit" not in plain.headers and "RateLimit-Policy" not in plain.headers
    await set_quota(services, admin, Service.ADMIN, points_per_day=7)
    companies = await client.get("/admin/companies", headers=bearer(token))
    assert companies.status_code == 200, companies.text
    assert parse_list(companies.headers["RateLimit"])["day"]["r"] == 6


def test_every_402_429_503_gets_a_retry_after() -> None:
    for status in (402, 429, 503):
        headers = MutableHeaders(scope={"type": "http", "headers": []})
        rate_limit_headers(headers, status, [])
        assert headers["Retry-After"] == "1"
    spent = [RateLimitState("day", 10, 0, 86400, 3600), RateLimitState("concurrency", 5, 4, unit="concurrent-requests")]
    headers = MutableHeaders(scope={"type": "http", "headers": []})
    rate_limit_headers(headers, 402, spent)
    assert headers["Retry-After"] == "3600"
    assert headers["RateLimit-Policy"] == '"day";q=10;w=86400, "concurrency";q=5;qu="concurrent-requests"'
    assert headers["RateLimit"] == '"day";r=0;t=3600, "concurrency";r=4'
    kept = MutableHeaders(scope={"type": "http", "headers": [(b"retry-after", b"30")]})
    rate_limit_headers(kept, 503, [])
    assert kept["Retry-After"] == "30"
    ok = MutableHeaders(scope={"type": "http", "headers": []})
    rate_limit_headers(ok, 200, [])
    assert "Retry-After" not in ok and "RateLimit" not in ok
