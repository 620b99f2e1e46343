"""Webhooks use cases: endpoints (create, list, read, change, delete, rotate the secret, test), deliveries (list,
replay), the outbox sink (``record``: the events of a change, in its transaction) and the delivery worker.

Rights (as the Admin API): ADMIN and OVERLORD manage every company's endpoints, SUPPORT reads them, a
COMPANYOWNER manages its own company's; another company's endpoints are *not found* for a confined caller.

Delivery: each process runs ``run_worker``. It claims each enabled endpoint's first pending delivery when due
(PostgreSQL ``FOR UPDATE SKIP LOCKED``, so one process sends it; a claim lapses after CLAIM_SECONDS if its process
dies), sends it signed, and records the outcome: delivered, or the next attempt by RETRY_SCHEDULE, or failed once
the schedule is spent. An endpoint failing for DISABLE_AFTER is disabled and its company's owners are told
(``on_disabled``, in the same transaction: registry.py writes each owner an audit record). The same
``webhook-id`` goes with every attempt and replay of an event.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, after_commit, read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.events import Render
from cabinet.core.logging import get_logger
from cabinet.core.observability import WEBHOOK_DELIVERIES, WEBHOOK_OLDEST_PENDING
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.domains.webhooks.delivery import Outcome, checked_url, guard, http_client, new_secret, send
from cabinet.domains.webhooks.errors import (
    WebhookCompanyNotFound,
    WebhookDeliveryNotFound,
    WebhookInvalid,
    WebhookManagementDenied,
    WebhookNotFound,
)
from cabinet.domains.webhooks.repository import WebhookRepository
from cabinet.domains.webhooks.schemas import (
    ALL_EVENTS,
    CLAIM_SECONDS,
    DELIVERED,
    DESCRIPTION_MAX,
    DISABLE_AFTER,
    ENDPOINTS_PER_COMPANY_MAX,
    EVENT_TYPES,
    FAILED,
    OLD_SECRET_GRACE,
    PENDING,
    RETRY_SCHEDULE,
    TIMEOUT_SECONDS,
    Claimed,
    CreatedEndpoint,
    DeliveryView,
    DisabledEndpoint,
    EndpointCommand,
    EndpointView,
    Message,
    RotatedSecret,
)
from cabinet.models import Company, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = get_logger("cabinet.webhooks")

POLL_SECONDS = 0.5
BATCH = 50  # endpoints per round
RUN_MAX = 100  # deliveries of one endpoint per round
# A run stops starting new sends this long after it began, so that its last send (TIMEOUT_SECONDS at most) and
# the record of the outcomes end well before its claim lapses (CLAIM_SECONDS): another process never claims a run
# this one is still sending (that would send some twice, out of order). What is left goes in the next round.
RUN_SECONDS = CLAIM_SECONDS - TIMEOUT_SECONDS - 20
DisabledHook = Callable[[DisabledEndpoint], Awaitable[None]]  # runs in the unit of work that disables


class WebhookService:
    def __init__(
        self, db: Database, *, clock: Clock, allow_private: bool = False, on_disabled: DisabledHook | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.allow_private = allow_private
        self.on_disabled = on_disabled
        self.repo = WebhookRepository()
        self._wake: asyncio.Event | None = None
        self._inflight: set[int] = set()  # deliveries this process is sending (SQLite's claims)
        self._claiming = asyncio.Lock()

    # --- endpoints ------------------------------------------------------------------------------------
    @transactional
    async def create_endpoint(self, caller: Principal, company_key: str, command: EndpointCommand) -> CreatedEndpoint:
        company = await self._company(caller, company_key, write=True)
        url, events, description = _checked(command)
        await guard(url, allow_private=self.allow_private)
        if await self.repo.count_of(company.id) >= ENDPOINTS_PER_COMPANY_MAX:
            raise WebhookInvalid(f"a company may have at most {ENDPOINTS_PER_COMPANY_MAX} webhook endpoints")
        now = self.clock.now()
        secret = new_secret()
        endpoint = WebhookEndpoint(
            company_id=company.id,
            url=url,
            description=description,
            events=events,
            enabled=command.enabled is not False,  # (None, "as it is", is a new one's default)
            secret=secret,
            next_seq=0,
            created_at=now,
            edited_at=now,
        )
        await self.repo.add(endpoint)
        return CreatedEndpoint(endpoint, secret)

    @read_only
    async def list_endpoints(self, caller: Principal, company_key: str) -> Sequence[WebhookEndpoint]:
        company = await self._company(caller, company_key, write=False)
        return await self.repo.endpoints_of(company.id)

    @read_only
    async def get_endpoint(self, caller: Principal, endpoint_id: int) -> EndpointView:
        """The endpoint with its company's key (one statement)."""
        return await self._endpoint_view(caller, endpoint_id, write=False)

    @transactional
    async def update_endpoint(self, caller: Principal, endpoint_id: int, command: EndpointCommand) -> EndpointView:
        view = await self._endpoint_view(caller, endpoint_id, write=True)
        endpoint = view.endpoint
        url, events, description = _checked(command)
        await guard(url, allow_private=self.allow_private)
        endpoint.url, endpoint.events, endpoint.description = url, events, description
        enabled = endpoint.enabled if command.enabled is None else command.enabled
        if enabled and not endpoint.enabled:
            endpoint.failing_since, endpoint.disabled_reason = None, None
            await self.repo.release_claims_of(endpoint.id)
        endpoint.enabled = enabled
        endpoint.edited_at = self.clock.now()
        after_commit(self._signal)
        return view

    @transactional
    async def delete_endpoint(self, caller: Principal, endpoint_id: int) -> None:
        await self.repo.delete(await self._endpoint(caller, endpoint_id, write=True))

    @transactional
    async def rotate_secret(self, caller: Principal, endpoint_id: int) -> RotatedSecret:
        """A new secret; the old one also signs for OLD_SECRET_GRACE."""
        endpoint = await self._endpoint(caller, endpoint_id, write=True, lock=True)
        now = self.clock.now()
        endpoint.old_secret, endpoint.old_secret_until = endpoint.secret, now + OLD_SECRET_GRACE
        endpoint.secret = new_secret()
        endpoint.edited_at = now
        return RotatedSecret(endpoint.secret, endpoint.old_secret_until)

    @transactional
    async def send_test(self, caller: Principal, endpoint_id: int) -> int:
        """A ``webhook.test`` event to this endpoint only; the new delivery's id."""
        endpoint = await self._endpoint(caller, endpoint_id, write=True, lock=True)
        event = await self._event("webhook.test", endpoint.company_id, {"endpoint_id": endpoint.id})
        delivery = self._delivery(event, endpoint)
        await self.repo.add(delivery)
        after_commit(self._signal)
        return delivery.id

    # --- deliveries -----------------------------------------------------------------------------------
    @read_only
    async def deliveries(self, caller: Principal, endpoint_id: int, limit: int = 100) -> list[DeliveryView]:
        endpoint = await self._endpoint(caller, endpoint_id, write=False)
        rows = await self.repo.deliveries_of(endpoint.id, limit)
        return [DeliveryView(d, e.type, e.message_id) for d, e in rows]

    @transactional
    async def replay(self, caller: Principal, delivery_id: int, *, endpoint_id: int | None = None) -> int:
        """Send a delivery's event again (the same ``webhook-id``: it is the same event), after the endpoint's
        pending ones (``endpoint_id``: only a delivery of that endpoint)."""
        found = await self.repo.delivery(delivery_id)
        if found is None or (endpoint_id is not None and found[0].endpoint_id != endpoint_id):
            raise WebhookDeliveryNotFound(resource=str(delivery_id))
        delivery, event = found
        try:
            endpoint = await self._endpoint(caller, delivery.endpoint_id, write=True, lock=True)
        except WebhookNotFound as exc:
            raise WebhookDeliveryNotFound(resource=str(delivery_id)) from exc
        again = self._delivery(event, endpoint)
        await self.repo.add(again)
        after_commit(self._signal)
        return again.id

    # --- the outbox -----------------------------------------------------------------------------------
    async def record(self, event_type: str, company_id: int, render: Render) -> None:
        """The events sink (``cabinet.core.events``): an event and its deliveries to the company's subscribed
        endpoints, in the running unit of work (nothing, and nothing rendered, when none subscribes)."""
        endpoints = [e for e in await self.repo.subscribed(company_id) if _wants(e, event_type)]
        if not endpoints:
            return
        event = await self._event(event_type, company_id, dict(await render()))
        await self.repo.add(*(self._delivery(event, e) for e in endpoints))
        after_commit(self._signal)

    async def _event(self, event_type: str, company_id: int, data: dict[str, Any]) -> WebhookEvent:
        now = self.clock.now()
        payload = {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
        event = WebhookEvent(
            message_id="msg_" + secrets.token_hex(16),
            company_id=company_id,
            type=event_type,
            payload=orjson.loads(orjson.dumps(payload, default=str)),
            created_at=now,
        )
        await self.repo.add(event)
        return event

    def _delivery(self, event: WebhookEvent, endpoint: WebhookEndpoint) -> WebhookDelivery:
        """The next delivery of a locked endpoint (its number orders it after every earlier commit)."""
        endpoint.next_seq += 1
        now = self.clock.now()
        return WebhookDelivery(
            event_id=event.id,
            endpoint_id=endpoint.id,
            seq=endpoint.next_seq,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )

    # --- the worker -----------------------------------------------------------------------------------
    async def run_worker(self) -> None:
        """Deliver due events until cancelled (every process runs one)."""
        self._wake = asyncio.Event()
        async with http_client() as client:
            while True:
                try:
                    sent = await self.deliver_due(client)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database away: try again shortly
                    log.warning("webhook delivery round failed", error=repr(exc))
                    sent = 0
                if sent:
                    continue
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)
                except TimeoutError:
                    pass

    async def _signal(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def deliver_due(self, client: Any | None = None) -> int:
        """One round: claim what is due, send it, record the outcomes; how many were sent."""
        claimed = await self._claim() if await self._any_due() else []
        if not claimed:
            await self._observe_backlog()
            return 0
        if client is None:
            async with http_client() as own:
                await asyncio.gather(*(self._send(own, c) for c in claimed))
        else:
            await asyncio.gather(*(self._send(client, c) for c in claimed))
        return len(claimed)

    @read_only
    async def _any_due(self) -> bool:
        """Whether a claim could find anything (a reading unit: idle rounds take no write lock)."""
        return await self.repo.any_due(self.clock.now())

    async def _claim(self) -> list[Claimed]:
        """Claim each enabled endpoint's due head delivery and the pending ones after it (one run per endpoint,
        sent in order on one connection, recorded in one transaction). Several processes (PostgreSQL) claim in
        the database (``locked_until``, rows held with SKIP LOCKED); the one process of SQLite in memory, so an
        idle or busy round takes no write lock."""
        if self.db.dialect == "sqlite":
            async with self._claiming:  # one claim at a time: a round never takes what another is sending
                claimed = await self._claim_local()
                self._inflight.update(m.delivery_id for c in claimed for m in c.messages)
            return claimed
        return await self._claim_shared()

    @transactional
    async def _claim_shared(self) -> list[Claimed]:
        return await self._runs(lock=True)

    @read_only
    async def _claim_local(self) -> list[Claimed]:
        return await self._runs(lock=False)

    async def _runs(self, *, lock: bool) -> list[Claimed]:
        now = self.clock.now()
        until = now + timedelta(seconds=CLAIM_SECONDS)
        claimed: list[Claimed] = []
        for head, event in await self.repo.due_heads(now, BATCH, lock=lock):
            if head.id in self._inflight:
                continue
            endpoint = await self.repo.endpoint(head.endpoint_id)
            if endpoint is None:
                continue
            run = [(head, event), *await self.repo.run_after(endpoint.id, head.seq, RUN_MAX - 1, lock=lock)]
            messages = []
            for delivery, item in run:
                if delivery.id in self._inflight:  # the tail of a run still being recorded: it goes next round
                    break
                if lock:
                    delivery.locked_until = until
                messages.append(Message(delivery.id, item.message_id, orjson.dumps(item.payload)))
            signing = [endpoint.secret]
            if endpoint.old_secret and endpoint.old_secret_until and endpoint.old_secret_until > now:
                signing.append(endpoint.old_secret)
            claimed.append(Claimed(endpoint.id, endpoint.url, tuple(signing), tuple(messages)))
        return claimed

    async def _send(self, client: Any, claim: Claimed) -> None:
        """Send a run in order; the first failure stops it (what follows waits for that one's retry), and so does
        RUN_SECONDS (what follows goes in the next round)."""
        outcomes: list[Outcome] = []
        stop_at = time.monotonic() + RUN_SECONDS
        for message in claim.messages:
            if outcomes and time.monotonic() >= stop_at:
                break
            timestamp = int(self.clock.now().timestamp())
            outcome = await send(
                client,
                claim.url,
                message.message_id,
                timestamp,
                message.body,
                claim.secrets,
                allow_private=self.allow_private,
            )
            WEBHOOK_DELIVERIES.labels("delivered" if outcome.ok else "failed").inc()
            outcomes.append(outcome)
            if not outcome.ok:
                break
        try:
            await self._record(claim, outcomes)
        finally:
            # Released under the claim lock: a round that read this run's head before the record above committed
            # checks what is in flight only afterwards, and must still find it there (else it sends it again).
            async with self._claiming:
                self._inflight.difference_update(m.delivery_id for m in claim.messages)

    @transactional
    async def _record(self, claim: Claimed, outcomes: list[Outcome]) -> None:
        endpoint = await self.repo.endpoint(claim.endpoint_id, lock=True)
        if endpoint is None:
            return
        now = self.clock.now()
        by_id = {d.id: d for d in await self.repo.deliveries_by_id([m.delivery_id for m in claim.messages])}
        for index, message in enumerate(claim.messages):
            delivery = by_id.get(message.delivery_id)
            if delivery is None:
                continue
            delivery.locked_until = None
            if index >= len(outcomes):  # not tried: the failure before it stopped the run
                continue
            outcome = outcomes[index]
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.last_status, delivery.last_response = outcome.status, outcome.response
            delivery.last_error = outcome.error
            if outcome.ok:
                delivery.status, delivery.delivered_at = DELIVERED, now
            elif delivery.attempts > len(RETRY_SCHEDULE):
                delivery.status = FAILED
            else:
                delivery.next_attempt_at = now + RETRY_SCHEDULE[delivery.attempts - 1]
        if not outcomes or outcomes[-1].ok:
            endpoint.failing_since = None
            return
        endpoint.failing_since = endpoint.failing_since or now
        if endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
            endpoint.enabled = False
            endpoint.disabled_reason = f"failing since {_minute(endpoint.failing_since)}, disabled {_minute(now)}"
            log.warning("webhook endpoint disabled", endpoint_id=endpoint.id, url=endpoint.url)
            if self.on_disabled is not None:  # the owners are told in this transaction: disabled means told
                await self.on_disabled(
                    DisabledEndpoint(endpoint.company_id, endpoint.id, endpoint.url, endpoint.failing_since, now)
                )

    async def _observe_backlog(self) -> None:
        oldest = await self._oldest_pending()
        WEBHOOK_OLDEST_PENDING.set(0 if oldest is None else (self.clock.now() - oldest).total_seconds())

    @read_only
    async def _oldest_pending(self) -> datetime | None:
        return await self.repo.oldest_pending()

    # --- rules ----------------------------------------------------------------------------------------
    async def _company(self, caller: Principal, key: str, *, write: bool) -> Company:
        scope = _scope(caller, write=write)
        company = await self.repo.company_by_key(key)
        if company is None or (scope is not None and company.id != scope):
            raise WebhookCompanyNotFound(resource=key)
        return company

    async def _endpoint_view(self, caller: Principal, endpoint_id: int, *, write: bool) -> EndpointView:
        scope = _scope(caller, write=write)
        found = await self.repo.endpoint_with_key(endpoint_id)
        if found is None or (scope is not None and found[0].company_id != scope):
            raise WebhookNotFound(resource=str(endpoint_id))
        return EndpointView(*found)

    async def _endpoint(
        self, caller: Principal, endpoint_id: int, *, write: bool, lock: bool = False
    ) -> WebhookEndpoint:
        scope = _scope(caller, write=write)
        endpoint = await self.repo.endpoint(endpoint_id, lock=lock)
        if endpoint is None or (scope is not None and endpoint.company_id != scope):
            raise WebhookNotFound(resource=str(endpoint_id))
        return endpoint


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _scope(caller: Principal, *, write: bool) -> int | None:
    if write:
        if caller.can(Permission.ADMIN_WRITE_ALL):
            return None
        if caller.can(Permission.ADMIN_WRITE_COMPANY):
            return caller.company_id
        raise WebhookManagementDenied("you may not change webhooks (read-only role)")
    if caller.can(Permission.ADMIN_READ_ALL):
        return None
    if caller.can(Permission.ADMIN_READ_COMPANY):
        return caller.company_id
    raise WebhookManagementDenied("you may not read webhooks")


def _wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return ALL_EVENTS in endpoint.events or event_type in endpoint.events


def _checked(command: EndpointCommand) -> tuple[str, list[str], str | None]:
    url = checked_url(command.url)
    issues: list[FieldIssue] = []
    events: list[str] = []
    if not command.events:
        issues.append(FieldIssue("events", "at least one event type, or *"))
    for index, name in enumerate(command.events):
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            issues.append(FieldIssue(f"events.{index}", f"unknown event type: one of {', '.join(EVENT_TYPES)} or *"))
        elif name not in events:
            events.append(name)
    description = command.description
    if description is not None and (len(description) > DESCRIPTION_MAX or "\x00" in description):
        issues.append(FieldIssue("description", f"at most {DESCRIPTION_MAX} characters, no NUL"))
    if issues:
        raise WebhookInvalid("; ".join(f"{i.entity}: {i.message}" for i in issues), issues=issues)
    return url, events, description
