"""The one place that joins domains together: the Meter (quotas + audit) and the background jobs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cabinet.core.limits import JobLease
from cabinet.core.logging import get_logger
from cabinet.core.metering import CalculationStatus, Metered, Operation
from cabinet.core.observability import QUOTA_REFUSALS
from cabinet.core.principal import Principal
from cabinet.core.tracing import TraceContext, current_trace
from cabinet.domains.audit.schemas import AuditEntry, FlowType
from cabinet.domains.audit.service import payload_key
from cabinet.domains.quotas.errors import CompanyBudgetExceeded, ConcurrencyLimitReached, QuotaExceeded
from cabinet.domains.quotas.schemas import Reservation
from cabinet.domains.quotas.service import local_date
from cabinet.domains.registry import Services
from cabinet.resources import Resources

log = get_logger("cabinet.wiring")

RETENTION_INTERVAL_SECONDS = 3600
# A process's periodic maintenance (payload retention, purges) first runs this long after it starts: its first
# minute belongs to its requests, and a process that restarts in a loop does not sweep the database each time.
MAINTENANCE_DELAY_SECONDS = 60.0
SHUTDOWN_STEP_SECONDS = 20  # each step of a shutdown (final audit flush, closing pools) waits at most this long


@dataclass(slots=True)
class MeteredRequest(Metered):
    """A request the DomainMeter admitted: what it took from the quotas and, for a write, its audit record."""

    quota: Reservation | None = None  # the user's quota for the operation's service and process type
    budget: Reservation | None = None  # the company's day and minute points (Data API calls)
    audit_entry: AuditEntry | None = None  # written in the business transaction (writes), else at the end

    @property
    def audited(self) -> bool:
        return self.audit_entry is not None


def metered_request(trace: TraceContext) -> MeteredRequest | None:
    """The request's metering state, if the DomainMeter admitted it."""
    metered = trace.metered
    return metered if isinstance(metered, MeteredRequest) else None


class DomainMeter:
    """Admits requests against quotas and records each finished one in the audit trail."""

    def __init__(self, resources: Resources, services: Services) -> None:
        self.resources = resources
        self.settings = resources.settings
        self.services = services
        self.enabled = resources.settings.metering_enabled

    async def admit(
        self, operation: Operation, principal: Principal, input_body: bytes | None, *, success_status: int = 200
    ) -> None:
        if not self.enabled:
            return
        trace = current_trace()
        metered = MeteredRequest(
            operation=operation,
            principal=principal,
            points=operation.points,
            input_body=input_body,
            success_status=success_status,
        )
        trace.metered = metered
        if operation.audited_in_transaction:
            trace.commit_hooks.append(functools.partial(self._audit_in_transaction, trace))
        if not operation.charged:  # audited like any other, but no quota is asked
            return
        try:
            metered.quota = await self.services.quotas.reserve(
                principal, operation.service, operation.process_type, metered.points
            )
            trace.rate_limits = list(metered.quota.states)
            if operation.charges_company_budget:
                metered.budget = await self.services.quotas.reserve_budget(principal.company_id, metered.points)
        except (QuotaExceeded, ConcurrencyLimitReached, CompanyBudgetExceeded) as exc:
            if not isinstance(exc, CompanyBudgetExceeded):
                trace.rate_limits = list(exc.rate_limits)
            QUOTA_REFUSALS.labels(operation.service.value, exc.mnemonic).inc()
            metered.refused = True
            metered.error_message = exc.message
            raise

    async def refund(self, trace: TraceContext) -> None:
        """Give a failed request's company points back now (before its answer reports the limits)."""
        metered = metered_request(trace)
        if metered is not None:
            # (a released reservation is empty: the finish hook's release gives nothing back twice, and retries
            # this one if the limits store failed now)
            await self.services.quotas.release(metered.budget, charged=False)

    async def _audit_in_transaction(self, trace: TraceContext, _session: AsyncSession) -> None:
        metered = metered_request(trace)
        if metered is None:
            return
        entry = self._entry(trace, metered, CalculationStatus.FINISHED_IN_TIME, metered.success_status, has_output=True)
        self.services.audit.add_in_current_transaction(entry)
        metered.audit_entry = entry

    async def finish(self, trace: TraceContext, http_status: int, output: bytes | None) -> None:
        metered = metered_request(trace)
        if metered is None:
            return
        success = http_status < 400 and not metered.failed
        # A write whose business transaction never committed (body refused, quota refused, service failed) still
        # has its in-transaction audit hook pending: drop it, or the failure record's own unit of work would
        # record the process twice (and the unique process code would lose both).
        trace.commit_hooks.clear()
        try:
            await self.services.quotas.release(metered.quota, charged=success)
            await self.services.quotas.release(metered.budget, charged=success)
        except Exception as exc:  # the limits store went away mid-request: its slots expire; the audit is kept
            log.warning("quota release failed", error=repr(exc))
        if metered.audit_entry is not None:
            entry = metered.audit_entry
            if entry.http_status != http_status:  # committed, then the answer failed: the record says what was sent
                entry.http_status = http_status
                await self.services.audit.correct_http_status(entry.process_code, http_status)
        else:
            if metered.refused:
                status = CalculationStatus.CANCELED_BY_QUOTA
            else:
                status = CalculationStatus.FINISHED_IN_TIME if success else CalculationStatus.FAILED
            entry = self._entry(trace, metered, status, http_status, has_output=output is not None)
            await self.services.audit.record(entry, durable=metered.operation.audited_in_transaction)
        if metered.operation.keeps_payloads:
            await self.services.audit.store_payloads(entry, metered.input_body, output)

    def _entry(
        self, trace: TraceContext, metered: Metered, status: CalculationStatus, http_status: int, *, has_output: bool
    ) -> AuditEntry:
        principal = metered.principal
        now = self.resources.clock.now()
        started = trace.started_at
        body = metered.input_body
        entry = AuditEntry(
            process_code=trace.process_code,
            request_code=trace.request_code,
            company_id=principal.company_id,
            user_id=principal.user_id,
            username=principal.username,
            company_key=principal.company_key,
            service=metered.operation.service.value,
            process_type=metered.operation.process_type.value,
            operation=metered.operation.name,
            env=self.settings.env_name,
            pod=self.settings.pod[:256],
            status=status.value,
            message=(metered.error_message or None) if status is not CalculationStatus.FINISHED_IN_TIME else None,
            http_status=http_status,
            started_at=started,
            duration_seconds=max(0.0, (now - started).total_seconds()),
            billing_date=local_date(started, principal.timezone),
            request_points=metered.points if status is CalculationStatus.FINISHED_IN_TIME else 0,
            result_elements=metered.elements,
            input_digest=hashlib.sha256(body).hexdigest() if body else None,
            input_blob=None,
            output_blob=None,
            target=trace.target,
        )
        if metered.operation.keeps_payloads:
            if body:
                entry.input_blob = payload_key(entry, FlowType.INPUT)
            if has_output:
                entry.output_blob = payload_key(entry, FlowType.OUTPUT)
        return entry


@asynccontextmanager
async def background_jobs(services: Services, resources: Resources) -> AsyncIterator[None]:
    """Run the process's background jobs for the app's lifetime; flush batched audit on the way out.

    The audit flusher is per process (it writes that process's buffer); shared jobs such as payload retention
    run once per period across every process (a lease on the limits store)."""
    retention = JobLease(
        resources.limit_storage,
        "payload-retention",
        RETENTION_INTERVAL_SECONDS,
        lambda: resources.clock.now().timestamp(),
    )
    staging = JobLease(
        resources.limit_storage,
        "staging-purge",
        RETENTION_INTERVAL_SECONDS,
        lambda: resources.clock.now().timestamp(),
    )
    idempotency = JobLease(
        resources.limit_storage,
        "idempotency-purge",
        RETENTION_INTERVAL_SECONDS,
        lambda: resources.clock.now().timestamp(),
    )
    tasks: list[asyncio.Task[Any]] = [
        asyncio.create_task(services.audit.run_flusher(), name="audit-flusher"),
        asyncio.create_task(services.webhooks.run_worker(), name="webhook-deliveries"),  # in every process
        asyncio.create_task(
            _every(RETENTION_INTERVAL_SECONDS, services.audit.purge_expired_payloads, retention),
            name="payload-retention",
        ),
        asyncio.create_task(  # answers of Idempotency-Key requests past CABINET_IDEMPOTENCY_RETENTION_DAYS
            _every(RETENTION_INTERVAL_SECONDS, services.idempotency.purge_expired, idempotency),
            name="idempotency-purge",
        ),
        asyncio.create_task(  # uploads a dead process left half-received in the blob store's staging area
            _every(RETENTION_INTERVAL_SECONDS, resources.blobs.purge_staging, staging),
            name="staging-purge",
        ),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=SHUTDOWN_STEP_SECONDS)
        try:  # bounded: a database that does not answer must not keep the process from stopping
            await asyncio.wait_for(services.audit.flush(), timeout=SHUTDOWN_STEP_SECONDS)
        except Exception as exc:
            log.error("final audit flush failed", error=repr(exc), pending=services.audit.pending)


async def _every(seconds: float, job: Any, lease: JobLease, *, first_after: float = MAINTENANCE_DELAY_SECONDS) -> None:
    """Run ``job`` every ``seconds`` (where ``lease`` lets this process), the first time ``first_after`` seconds
    after the start."""
    await asyncio.sleep(first_after)
    while True:
        try:
            if await lease.claim():
                await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("background job failed", job=getattr(job, "__name__", str(job)), error=repr(exc))
        await asyncio.sleep(seconds)
