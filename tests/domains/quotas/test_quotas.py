"""Quotas and company budgets on the real limit store of the backend (memory or Redis)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest

from cabinet.core.metering import ProcessType, Service
from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.roles import Role
from cabinet.domains.quotas.errors import CompanyBudgetExceeded, ConcurrencyLimitReached, QuotaExceeded, QuotaInvalid
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.domains.registry import Services
from tests.helpers import UserFactory, login


async def _principal(services: Services, make_user: UserFactory, tz: int = 0) -> Principal:
    made = await make_user(timezone=tz)
    user = await services.identity.get_account_by_id(made.id)
    return Principal(user.id, user.username, user.company_id, "acme_corp", (Role.USER,), tz, CredentialKind.ACCESS)


def spec(**kw: object) -> QuotaSpec:
    base: dict[str, object] = dict(
        service=Service.ACCOUNT,
        process_type=ProcessType.TRACE,
        points_per_request=100,
        points_per_day=1000,
        max_concurrent_execution=100,
    )
    base.update(kw)
    return QuotaSpec(**base)  # type: ignore[arg-type]


async def test_no_quota_means_no_limit(services: Services, make_user: UserFactory) -> None:
    principal = await _principal(services, make_user)
    for _ in range(50):
        reservation = await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 10)
        await services.quotas.release(reservation, charged=True)


async def test_points_per_request(services: Services, make_user: UserFactory) -> None:
    principal = await _principal(services, make_user)
    await services.quotas.replace_for_user(principal.user_id, principal.company_id, [spec(points_per_request=5)])
    with pytest.raises(QuotaExceeded):
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 6)
    await services.quotas.release(
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 5), charged=True
    )


async def test_failed_requests_give_their_points_back(services: Services, make_user: UserFactory) -> None:
    principal = await _principal(services, make_user)
    await services.quotas.replace_for_user(principal.user_id, principal.company_id, [spec(points_per_day=10)])
    for _ in range(20):  # failures never spend the budget
        await services.quotas.release(
            await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 5), charged=False
        )
    for _ in range(2):
        await services.quotas.release(
            await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 5), charged=True
        )
    with pytest.raises(QuotaExceeded):
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)


async def test_a_refused_large_request_leaves_room_for_small_ones(services: Services, make_user: UserFactory) -> None:
    principal = await _principal(services, make_user)
    await services.quotas.replace_for_user(principal.user_id, principal.company_id, [spec(points_per_day=10)])
    await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 6)
    with pytest.raises(QuotaExceeded):
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 5)
    await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 4)


async def test_day_is_the_users_day(services: Services, make_user: UserFactory, clock) -> None:
    principal = await _principal(services, make_user, tz=5)
    await services.quotas.replace_for_user(principal.user_id, principal.company_id, [spec(points_per_day=1)])
    await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)
    with pytest.raises(QuotaExceeded):
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)
    local = clock.now() + timedelta(hours=5)
    to_midnight = (24 * 3600) - (local.hour * 3600 + local.minute * 60 + local.second) + 1
    clock.advance(seconds=to_midnight)
    await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)


async def test_date_window(services: Services, make_user: UserFactory, clock) -> None:
    principal = await _principal(services, make_user)
    today = clock.now().date()
    window = spec(
        points_per_day=100,
        points_per_date_window=3,
        window_from=today - timedelta(days=1),
        window_to=today + timedelta(days=1),
    )
    await services.quotas.replace_for_user(principal.user_id, principal.company_id, [window])
    for _ in range(3):
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)
    with pytest.raises(QuotaExceeded, match="window"):
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)
    clock.advance(days=1)  # still inside the window: the window total holds across days
    with pytest.raises(QuotaExceeded, match="window"):
        await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)
    clock.advance(days=1)  # past the window: only the day limit applies
    await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)


async def test_concurrent_slots(services: Services, make_user: UserFactory) -> None:
    principal = await _principal(services, make_user)
    await services.quotas.replace_for_user(principal.user_id, principal.company_id, [spec(max_concurrent_execution=2)])
    results = await asyncio.gather(
        *(services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1) for _ in range(6)),
        return_exceptions=True,
    )
    admitted = [r for r in results if not isinstance(r, BaseException)]
    assert len(admitted) == 2
    assert all(isinstance(r, ConcurrencyLimitReached) for r in results if isinstance(r, BaseException))
    await services.quotas.release(admitted[0], charged=True)
    await services.quotas.reserve(principal, Service.ACCOUNT, ProcessType.TRACE, 1)


async def test_invalid_quota_definitions(services: Services, make_user: UserFactory) -> None:
    principal = await _principal(services, make_user)
    for bad in (
        [spec(points_per_day=-1)],
        [spec(points_per_request=1_000_001)],
        [spec(max_concurrent_execution=1001)],
        [spec(), spec()],
        [spec(points_per_date_window=5, window_from=date(2026, 2, 1), window_to=date(2026, 1, 1))],
    ):
        with pytest.raises(QuotaInvalid):
            await services.quotas.replace_for_user(principal.user_id, principal.company_id, bad)


async def test_company_budget_day_and_minute(services: Services, make_user: UserFactory, clock) -> None:
    principal = await _principal(services, make_user)
    quotas = services.quotas
    quotas.default_minute_points = 3
    quotas._budget_cache.clear()
    status = await quotas.budget_status(principal.company_id)
    assert (status.minute_limit, status.minute_remaining) == (3, 3)
    for _ in range(3):
        await quotas.reserve_budget(principal.company_id)
    with pytest.raises(CompanyBudgetExceeded) as refused:
        await quotas.reserve_budget(principal.company_id)
    assert refused.value.extra == {"limit_type": "minute", "limit_max_value": 3}
    assert "Limit per minute has been exceeded" in refused.value.message
    status = await quotas.budget_status(principal.company_id)
    assert status.minute_remaining == 0 and status.day_remaining == status.day_limit - 3
    assert 1 <= status.minute_reset <= 60 and 1 <= status.day_reset <= 86_400
    clock.advance(seconds=60)
    reservation = await quotas.reserve_budget(principal.company_id)
    await quotas.release(reservation, charged=False)  # a failed call is not charged
    assert (await quotas.budget_status(principal.company_id)).minute_remaining == 3


async def test_max_concurrent_execution_over_http(
    client: httpx.AsyncClient, make_user: UserFactory, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await make_user()
    token = await login(client, made)
    user = await services.identity.get_account_by_id(made.id)
    await services.quotas.replace_for_user(
        user.id, user.company_id, [spec(process_type=ProcessType.NOTRACE, max_concurrent_execution=2)]
    )
    original = services.identity.account_view

    async def slow(principal: Principal):  # a long request: holds its slot
        await asyncio.sleep(0.5)
        return await original(principal)

    monkeypatch.setattr(services.identity, "account_view", slow)
    responses = await asyncio.gather(
        *(client.get("/account/info", headers={"Authorization": f"Bearer {token}"}) for _ in range(8))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200] + [429] * 6
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["tracedata"]["operation"] == "read_info"
    monkeypatch.setattr(services.identity, "account_view", original)
    again = await client.get("/account/info", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 200  # slots were given back
