"""Quotas: per user and (service, process type) — points per request, per day (in the user's timezone), per
date window, and concurrent executions.

Definitions live in the database; the running counters live in the limit store (in-process memory for the
embedded profile, Redis for several processes), updated atomically with the ``limits`` library's fixed-window
counters: a request adds its points and is admitted only if the total stays within the limit; a refused or
failed request gives its points back. So N parallel requests against K points admit exactly K.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from sqlalchemy.exc import IntegrityError

from cabinet.core.cache import ExpiringCache
from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import FieldIssue, PermissionDenied
from cabinet.core.metering import METERED_SERVICES, ProcessType, Service
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.core.tracing import RateLimitState
from cabinet.domains.quotas.errors import (
    CompanyBudgetExceeded,
    ConcurrencyLimitReached,
    QuotaAboveCeiling,
    QuotaCeilingDenied,
    QuotaExceeded,
    QuotaHolderNotFound,
    QuotaInvalid,
)
from cabinet.domains.quotas.repository import CeilingRepository, CompanyBudgetRepository, QuotaRepository
from cabinet.domains.quotas.schemas import (
    MAX_CONCURRENT,
    MAX_POINTS_PER_DAY,
    MAX_POINTS_PER_REQUEST,
    MAX_POINTS_PER_WINDOW,
    BudgetStatus,
    QuotaSpec,
    Reservation,
)
from cabinet.models import CompanyQuota, Quota

SLOT_TTL_SECONDS = 3600  # a slot leaked by a killed process frees itself after this long
CACHE_SECONDS = 2.0  # how stale another process's view of changed quota definitions may be
CACHE_MAX_ENTRIES = 50_000


DAY = 86_400


def local_date(moment: datetime, timezone_hours: int) -> date:
    return (moment + timedelta(hours=timezone_hours)).date()


def _until_local_day(moment: datetime, timezone_hours: int, day: date) -> int:
    """Whole seconds (at least 1) from ``moment`` until ``day`` starts in the timezone."""
    local = (moment + timedelta(hours=timezone_hours)).replace(tzinfo=None)
    return max(1, int((datetime.combine(day, datetime.min.time()) - local).total_seconds()) + 1)


class QuotaService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        storage: Storage,
        default_day_points: int = 10_000,
        default_minute_points: int = 300,
    ) -> None:
        self.db = db
        self.clock = clock
        self.storage = storage
        self.counter = FixedWindowRateLimiter(storage)
        self.quotas = QuotaRepository()
        self.budgets = CompanyBudgetRepository()
        self.ceilings = CeilingRepository()
        self.default_day_points = default_day_points
        self.default_minute_points = default_minute_points
        self._cache: ExpiringCache[int, dict[tuple[str, str], QuotaSpec]] = ExpiringCache(
            CACHE_SECONDS, CACHE_MAX_ENTRIES
        )
        self._budget_cache: ExpiringCache[int, tuple[int, int, int]] = ExpiringCache(CACHE_SECONDS, CACHE_MAX_ENTRIES)

    # --- definitions ----------------------------------------------------------------------------------
    @read_only
    async def list_for_user(self, user_id: int) -> list[QuotaSpec]:
        return [_spec(row) for row in await self.quotas.for_user(user_id)]

    @transactional
    async def replace_for_user(self, user_id: int, company_id: int, specs: Sequence[QuotaSpec]) -> list[QuotaSpec]:
        _check(specs)
        now = self.clock.now()
        rows = [
            Quota(
                user_id=user_id,
                company_id=company_id,
                service=s.service.value,
                process_type=s.process_type.value,
                points_per_request=s.points_per_request,
                points_per_day=s.points_per_day,
                points_per_date_window=s.points_per_date_window,
                window_from=s.window_from,
                window_to=s.window_to,
                max_concurrent_execution=s.max_concurrent_execution,
                created_at=now,
                edited_at=now,
            )
            for s in specs
        ]
        await self.quotas.replace_for_user(user_id, rows)
        self._cache.drop(user_id)
        return list(specs)

    @transactional
    async def delete_for_user(self, user_id: int) -> int:
        self._cache.drop(user_id)
        return await self.quotas.delete_for_user(user_id)

    # --- definitions set by operators (the Admin API): user quotas within company ceilings ---------------
    # ADMIN and OVERLORD set anything. A COMPANYOWNER sets the quotas of its own company's users only, and
    # only within the ceiling an ADMIN set for the company: every (service, process type) the ceiling names
    # must be in the user's quota (no quota means no limit) and no value may exceed the ceiling's; so it may
    # not remove the quota of a user of a company that has a ceiling either. A pair the ceiling does not name
    # has no ceiling. Lowering a ceiling leaves the quotas already given as they are.
    @transactional
    async def set_for_user(
        self, principal: Principal, user_id: int, company_id: int, specs: Sequence[QuotaSpec], *, username: str
    ) -> list[QuotaSpec]:
        bounded = _bounded(principal)
        await self._holder(principal, user_id, company_id, username, bounded=bounded)
        _check(specs)
        if bounded:
            _within(specs, await self.ceilings.for_company(company_id))
        try:
            return await self.replace_for_user(user_id, company_id, specs)
        except IntegrityError as exc:  # deleted by a concurrent request
            raise QuotaHolderNotFound(resource=username) from exc

    @transactional
    async def remove_for_user(self, principal: Principal, user_id: int, company_id: int, *, username: str) -> int:
        bounded = _bounded(principal)
        await self._holder(principal, user_id, company_id, username, bounded=bounded)
        if bounded and await self.ceilings.for_company(company_id):
            raise QuotaAboveCeiling(
                "the company has a quota ceiling: removing the user's quota would lift the user above it (no quota "
                "means no limit); set a quota within the ceiling instead"
            )
        return await self.delete_for_user(user_id)

    async def _holder(
        self, principal: Principal, user_id: int, company_id: int, username: str, *, bounded: bool
    ) -> None:
        """The user still exists in that company (and, for a COMPANYOWNER, that is its own company)."""
        actual = await self.quotas.company_of_user(user_id)
        if actual is None or actual != company_id or (bounded and company_id != principal.company_id):
            raise QuotaHolderNotFound(resource=username)

    @read_only
    async def company_ceiling(self, company_id: int) -> list[QuotaSpec]:
        return [_ceiling_spec(row) for row in await self.ceilings.for_company(company_id)]

    @transactional
    async def set_company_ceiling(
        self, principal: Principal, company_id: int, specs: Sequence[QuotaSpec], *, company_key: str
    ) -> list[QuotaSpec]:
        """Replace a company's ceiling (ADMIN, OVERLORD). Window dates do not apply to a ceiling."""
        await self._ceiling_holder(principal, company_id, company_key)
        _check(specs)
        now = self.clock.now()
        rows = [
            CompanyQuota(
                company_id=company_id,
                service=s.service.value,
                process_type=s.process_type.value,
                points_per_request=s.points_per_request,
                points_per_day=s.points_per_day,
                points_per_date_window=s.points_per_date_window,
                max_concurrent_execution=s.max_concurrent_execution,
                created_at=now,
                edited_at=now,
            )
            for s in specs
        ]
        try:
            await self.ceilings.replace_for_company(company_id, rows)
        except IntegrityError as exc:  # deleted by a concurrent request
            raise QuotaHolderNotFound(resource=company_key) from exc
        return [_ceiling_spec(row) for row in rows]

    @transactional
    async def remove_company_ceiling(self, principal: Principal, company_id: int, *, company_key: str) -> int:
        await self._ceiling_holder(principal, company_id, company_key)
        return await self.ceilings.delete_for_company(company_id)

    async def _ceiling_holder(self, principal: Principal, company_id: int, company_key: str) -> None:
        if not principal.can(Permission.ADMIN_WRITE_ALL):
            raise QuotaCeilingDenied()
        if not await self.ceilings.company_exists(company_id):
            raise QuotaHolderNotFound(resource=company_key)

    async def _specs(self, user_id: int) -> dict[tuple[str, str], QuotaSpec]:
        async def load() -> dict[tuple[str, str], QuotaSpec]:
            return {(s.service.value, s.process_type.value): s for s in await self.list_for_user(user_id)}

        return await self._cache.get(user_id, load)

    # --- admission ----------------------------------------------------------------------------------
    async def reserve(
        self, principal: Principal, service: Service, process_type: ProcessType, points: int
    ) -> Reservation:
        """Admit a request of ``points`` or raise; the reservation must be released when it ends."""
        reservation = Reservation()
        spec = (await self._specs(principal.user_id)).get((service.value, process_type.value))
        if spec is None:
            return reservation
        now = self.clock.now()
        today = local_date(now, principal.timezone)
        day_reset = _until_local_day(now, principal.timezone, today + timedelta(days=1))
        if points > spec.points_per_request:
            raise QuotaExceeded(
                f"{points} points exceed the limit of {spec.points_per_request} points per request "
                f"for {service.value}/{process_type.value}",
                retry_after=day_reset,
                extra={"limit_type": "request", "limit_max_value": spec.points_per_request},
            )
        ident = (str(principal.user_id), service.value, process_type.value)
        slot = ":".join(("slot", *ident))
        running = await self.storage.incr(slot, SLOT_TTL_SECONDS, amount=1)
        reservation.slot_key = slot
        limit = spec.max_concurrent_execution
        reservation.states.append(
            RateLimitState("concurrency", limit, max(0, limit - running), unit="concurrent-requests")
        )
        try:
            if running > limit:
                raise ConcurrencyLimitReached(
                    f"at most {limit} concurrent requests for {service.value}/{process_type.value}",
                    retry_after=1,
                    extra={"limit_type": "concurrent requests", "limit_max_value": limit},
                )
            day = RateLimitItemPerDay(spec.points_per_day, multiples=2, namespace="quota-day")
            await self._take(reservation, day, (*ident, today.isoformat()), points, "per day", ("day", DAY, day_reset))
            if spec.points_per_date_window is not None and _in_window(spec, today):
                span = (
                    (spec.window_to - spec.window_from).days + 2 if spec.window_from and spec.window_to else 3653
                )  # the key's lifetime; constant for the window (the limits key includes it)
                window = RateLimitItemPerDay(spec.points_per_date_window, multiples=span, namespace="quota-window")
                ident_w = (*ident, str(spec.window_from), str(spec.window_to))
                length = (spec.window_to - spec.window_from).days + 1 if spec.window_from and spec.window_to else None
                ends = None
                if spec.window_to is not None:
                    ends = _until_local_day(now, principal.timezone, spec.window_to + timedelta(days=1))
                shape = ("window", None if length is None else length * DAY, ends)
                await self._take(reservation, window, ident_w, points, "per date window", shape)
        except BaseException as exc:
            if isinstance(exc, QuotaExceeded | ConcurrencyLimitReached):
                exc.rate_limits = tuple(reservation.states)
            await self.release(reservation, charged=False)
            raise
        return reservation

    # --- company budgets (Data API day and minute points) -------------------------------------------------
    async def _budget(self, company_id: int) -> tuple[int, int, int]:
        async def load() -> tuple[int, int, int]:
            row = await self._load_budget(company_id)
            day, minute, tz = row if row is not None else (None, None, 0)
            return (
                self.default_day_points if day is None else day,
                self.default_minute_points if minute is None else minute,
                tz,
            )

        return await self._budget_cache.get(company_id, load)

    @read_only
    async def _load_budget(self, company_id: int) -> tuple[int | None, int | None, int] | None:
        return await self.budgets.budget_of(company_id)

    def _budget_items(self, company_id: int, day_limit: int, minute_limit: int, tz: int) -> list[tuple[Any, ...]]:
        now = self.clock.now()
        day = RateLimitItemPerDay(day_limit, multiples=2, namespace="budget-day")
        minute = RateLimitItemPerMinute(minute_limit, multiples=2, namespace="budget-minute")
        return [
            (day, (str(company_id), local_date(now, tz).isoformat()), "day"),
            (minute, (str(company_id), str(int(now.timestamp()) // 60)), "minute"),
        ]

    async def reserve_budget(self, company_id: int, points: int = 1) -> Reservation:
        """Take ``points`` from the company's day and minute budgets, or raise CompanyBudgetExceeded."""
        day_limit, minute_limit, tz = await self._budget(company_id)
        reservation = Reservation()
        try:
            for item, ident, label in self._budget_items(company_id, day_limit, minute_limit, tz):
                key = item.key_for(*ident)
                if not await self.counter.hit(item, *ident, cost=points):
                    await self.storage.incr(key, item.get_expiry(), amount=-points)
                    raise CompanyBudgetExceeded(
                        f"Limit per {label} has been exceeded. Value of current limit per {label} is {item.amount}",
                        extra={"limit_type": label, "limit_max_value": item.amount},
                    )
                reservation.keys.append((key, points))
        except BaseException:
            await self.release(reservation, charged=False)
            raise
        return reservation

    async def budget_status(self, company_id: int) -> BudgetStatus:
        day_limit, minute_limit, tz = await self._budget(company_id)
        now = self.clock.now()
        (day, day_ident, _), (minute, minute_ident, _) = self._budget_items(company_id, day_limit, minute_limit, tz)
        day_used = await self.storage.get(day.key_for(*day_ident))
        minute_used = await self.storage.get(minute.key_for(*minute_ident))
        local = now + timedelta(hours=tz)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo)
        return BudgetStatus(
            day_limit=day_limit,
            day_remaining=max(0, day_limit - day_used),
            day_reset=max(1, int((midnight - local).total_seconds())),
            minute_limit=minute_limit,
            minute_remaining=max(0, minute_limit - minute_used),
            minute_reset=max(1, 60 - int(now.timestamp()) % 60),
        )

    async def _take(
        self,
        reservation: Reservation,
        item: RateLimitItemPerDay,
        ident: tuple[str, ...],
        points: int,
        label: str,
        shape: tuple[str, int | None, int | None],
    ) -> None:
        """Take ``points`` from a quota counter; ``shape`` (name, window and reset seconds) describes the quota
        in the reservation's states (the RateLimit headers)."""
        name, window, reset = shape
        key = item.key_for(*ident)
        if points <= 0:
            used = await self.storage.get(key)
            reservation.states.append(RateLimitState(name, item.amount, max(0, item.amount - used), window, reset))
            return
        admitted = await self.counter.hit(item, *ident, cost=points)
        if not admitted:
            used = await self.storage.incr(key, item.get_expiry(), amount=-points)
            reservation.states.append(RateLimitState(name, item.amount, max(0, item.amount - used), window, reset))
            raise QuotaExceeded(
                f"the quota of {item.amount} points {label} is exhausted",
                retry_after=reset,
                extra={"limit_type": label.removeprefix("per "), "limit_max_value": item.amount},
            )
        reservation.keys.append((key, points))
        used = await self.storage.get(key)
        reservation.states.append(RateLimitState(name, item.amount, max(0, item.amount - used), window, reset))

    async def release(self, reservation: Reservation | None, *, charged: bool) -> None:
        if reservation is None:
            return
        if reservation.slot_key is not None:
            await self.storage.incr(reservation.slot_key, SLOT_TTL_SECONDS, amount=-1)
            reservation.slot_key = None
        if not charged:
            for key, points in reservation.keys:
                await self.storage.incr(key, SLOT_TTL_SECONDS, amount=-points)
        reservation.keys = []


def _in_window(spec: QuotaSpec, today: date) -> bool:
    return (spec.window_from is None or spec.window_from <= today) and (
        spec.window_to is None or today <= spec.window_to
    )


def _spec(row: Quota) -> QuotaSpec:
    return QuotaSpec(
        service=Service(row.service),
        process_type=ProcessType(row.process_type),
        points_per_request=row.points_per_request,
        points_per_day=row.points_per_day,
        max_concurrent_execution=row.max_concurrent_execution,
        points_per_date_window=row.points_per_date_window,
        window_from=row.window_from,
        window_to=row.window_to,
    )


def _ceiling_spec(row: CompanyQuota) -> QuotaSpec:
    return QuotaSpec(
        service=Service(row.service),
        process_type=ProcessType(row.process_type),
        points_per_request=row.points_per_request,
        points_per_day=row.points_per_day,
        max_concurrent_execution=row.max_concurrent_execution,
        points_per_date_window=row.points_per_date_window,
    )


def _bounded(principal: Principal) -> bool:
    """Whether ``principal`` sets user quotas within company ceilings (a COMPANYOWNER) or freely."""
    if principal.can(Permission.ADMIN_WRITE_ALL):
        return False
    if principal.can(Permission.ADMIN_WRITE_COMPANY):
        return True
    raise PermissionDenied("setting quotas needs the ADMIN, OVERLORD or COMPANYOWNER role")


def _within(specs: Sequence[QuotaSpec], ceilings: Sequence[CompanyQuota]) -> None:
    given = {(s.service.value, s.process_type.value): s for s in specs}
    problems: list[str] = []
    for ceiling in ceilings:
        pair = f"{ceiling.service}/{ceiling.process_type}"
        spec = given.get((ceiling.service, ceiling.process_type))
        if spec is None:
            problems.append(f"{pair} has a company ceiling, so the quota must include it (no quota means no limit)")
            continue
        for name in ("points_per_request", "points_per_day", "max_concurrent_execution"):
            value, limit = getattr(spec, name), getattr(ceiling, name)
            if value > limit:
                problems.append(f"{pair} {name} {value} is above the company's ceiling of {limit}")
        window_limit = ceiling.points_per_date_window
        if window_limit is not None:
            if spec.points_per_date_window is None:
                problems.append(f"{pair} points_per_date_window must be given: the company's ceiling is {window_limit}")
            elif spec.points_per_date_window > window_limit:
                problems.append(
                    f"{pair} points_per_date_window {spec.points_per_date_window} is above the company's ceiling "
                    f"of {window_limit}"
                )
    if problems:
        raise QuotaAboveCeiling("; ".join(problems))


def _check(specs: Sequence[QuotaSpec]) -> None:
    issues: list[FieldIssue] = []
    seen: set[tuple[str, str]] = set()
    for i, s in enumerate(specs):
        pair = (s.service.value, s.process_type.value)
        if s.service not in METERED_SERVICES:
            issues.append(
                FieldIssue(
                    f"services[{i}].service",
                    f"no operation reports under {s.service.value}: a quota can be set on "
                    f"{', '.join(sorted(METERED_SERVICES))} only",
                )
            )
        if pair in seen:
            issues.append(FieldIssue(f"services[{i}]", f"{pair[0]}/{pair[1]} is given twice"))
        seen.add(pair)
        if not 0 <= s.points_per_request <= MAX_POINTS_PER_REQUEST:
            issues.append(FieldIssue(f"services[{i}].points_per_request", f"must be 0..{MAX_POINTS_PER_REQUEST}"))
        if not 0 <= s.points_per_day <= MAX_POINTS_PER_DAY:
            issues.append(FieldIssue(f"services[{i}].points_per_day", f"must be 0..{MAX_POINTS_PER_DAY}"))
        if s.points_per_date_window is not None and not 0 <= s.points_per_date_window <= MAX_POINTS_PER_WINDOW:
            issues.append(FieldIssue(f"services[{i}].points_per_date_window", f"must be 0..{MAX_POINTS_PER_WINDOW}"))
        if not 0 <= s.max_concurrent_execution <= MAX_CONCURRENT:
            issues.append(FieldIssue(f"services[{i}].max_concurrent_execution", f"must be 0..{MAX_CONCURRENT}"))
        if s.window_from and s.window_to and s.window_from > s.window_to:
            issues.append(FieldIssue(f"services[{i}].window", "window_from is after window_to"))
    if issues:
        raise QuotaInvalid("; ".join(i.message for i in issues), issues=issues)
