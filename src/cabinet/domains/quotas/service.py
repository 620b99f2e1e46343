"""Quotas: per user and (service, process type) — points per request, per day (in the user's timezone), per
date window, and concurrent executions.

Definitions live in the database; the running counters live in the limit store (in-process memory for the
embedded profile, Redis for several processes), updated atomically with the ``limits`` library's fixed-window
counters: a request adds its points and is admitted only if the total stays within the limit; a refused or
failed request gives its points back. So N parallel requests against K points admit exactly K.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from limits import RateLimitItemPerDay
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.metering import ProcessType, Service
from cabinet.core.principal import Principal
from cabinet.domains.quotas.errors import ConcurrencyLimitReached, QuotaExceeded, QuotaInvalid
from cabinet.domains.quotas.repository import QuotaRepository
from cabinet.domains.quotas.schemas import (
    MAX_CONCURRENT,
    MAX_POINTS_PER_DAY,
    MAX_POINTS_PER_REQUEST,
    QuotaSpec,
    Reservation,
)
from cabinet.models import Quota

SLOT_TTL_SECONDS = 3600  # a slot leaked by a killed process frees itself after this long
CACHE_SECONDS = 2.0  # how stale another process's view of changed quota definitions may be


def local_date(moment: datetime, timezone_hours: int) -> date:
    return (moment + timedelta(hours=timezone_hours)).date()


class QuotaService:
    def __init__(self, db: Database, *, clock: Clock, storage: Storage) -> None:
        self.db = db
        self.clock = clock
        self.storage = storage
        self.counter = FixedWindowRateLimiter(storage)
        self.quotas = QuotaRepository()
        self._cache: dict[int, tuple[float, dict[tuple[str, str], QuotaSpec]]] = {}

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
        self._cache.pop(user_id, None)
        return list(specs)

    @transactional
    async def delete_for_user(self, user_id: int) -> int:
        self._cache.pop(user_id, None)
        return await self.quotas.delete_for_user(user_id)

    async def _specs(self, user_id: int) -> dict[tuple[str, str], QuotaSpec]:
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        specs = {(s.service.value, s.process_type.value): s for s in await self.list_for_user(user_id)}
        self._cache[user_id] = (time.monotonic() + CACHE_SECONDS, specs)
        return specs

    # --- admission ----------------------------------------------------------------------------------
    async def reserve(
        self, principal: Principal, service: Service, process_type: ProcessType, points: int
    ) -> Reservation:
        """Admit a request of ``points`` or raise; the reservation must be released when it ends."""
        reservation = Reservation()
        spec = (await self._specs(principal.user_id)).get((service.value, process_type.value))
        if spec is None:
            return reservation
        if points > spec.points_per_request:
            raise QuotaExceeded(
                f"{points} points exceed the limit of {spec.points_per_request} points per request "
                f"for {service.value}/{process_type.value}"
            )
        ident = (str(principal.user_id), service.value, process_type.value)
        slot = ":".join(("slot", *ident))
        running = await self.storage.incr(slot, SLOT_TTL_SECONDS, amount=1)
        reservation.slot_key = slot
        try:
            if running > spec.max_concurrent_execution:
                raise ConcurrencyLimitReached(
                    f"at most {spec.max_concurrent_execution} concurrent requests "
                    f"for {service.value}/{process_type.value}",
                    retry_after=1,
                )
            today = local_date(self.clock.now(), principal.timezone)
            day = RateLimitItemPerDay(spec.points_per_day, multiples=2, namespace="quota-day")
            await self._take(reservation, day, (*ident, today.isoformat()), points, "per day")
            if spec.points_per_date_window is not None and _in_window(spec, today):
                days = ((spec.window_to or today) - today).days + 2
                window = RateLimitItemPerDay(
                    spec.points_per_date_window, multiples=max(days, 1), namespace="quota-window"
                )
                ident_w = (*ident, str(spec.window_from), str(spec.window_to))
                await self._take(reservation, window, ident_w, points, "per date window")
        except BaseException:
            await self.release(reservation, charged=False)
            raise
        return reservation

    async def _take(
        self, reservation: Reservation, item: RateLimitItemPerDay, ident: tuple[str, ...], points: int, label: str
    ) -> None:
        if points <= 0:
            return
        key = item.key_for(*ident)
        admitted = await self.counter.hit(item, *ident, cost=points)
        if not admitted:
            await self.storage.incr(key, item.get_expiry(), amount=-points)
            raise QuotaExceeded(f"the quota of {item.amount} points {label} is exhausted")
        reservation.keys.append((key, points))

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


def _check(specs: Sequence[QuotaSpec]) -> None:
    issues: list[FieldIssue] = []
    seen: set[tuple[str, str]] = set()
    for i, s in enumerate(specs):
        pair = (s.service.value, s.process_type.value)
        if pair in seen:
            issues.append(FieldIssue(f"services[{i}]", f"{pair[0]}/{pair[1]} is given twice"))
        seen.add(pair)
        if not 0 <= s.points_per_request <= MAX_POINTS_PER_REQUEST:
            issues.append(FieldIssue(f"services[{i}].points_per_request", f"must be 0..{MAX_POINTS_PER_REQUEST}"))
        if not 0 <= s.points_per_day <= MAX_POINTS_PER_DAY:
            issues.append(FieldIssue(f"services[{i}].points_per_day", f"must be 0..{MAX_POINTS_PER_DAY}"))
        if s.points_per_date_window is not None and not 0 <= s.points_per_date_window <= MAX_POINTS_PER_DAY * 3653:
            issues.append(FieldIssue(f"services[{i}].points_per_date_window", "out of range"))
        if not 0 <= s.max_concurrent_execution <= MAX_CONCURRENT:
            issues.append(FieldIssue(f"services[{i}].max_concurrent_execution", f"must be 0..{MAX_CONCURRENT}"))
        if s.window_from and s.window_to and s.window_from > s.window_to:
            issues.append(FieldIssue(f"services[{i}].window", "window_from is after window_to"))
    if issues:
        raise QuotaInvalid("; ".join(i.message for i in issues), issues=issues)
