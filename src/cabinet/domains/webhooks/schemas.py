"""Webhooks: event types, limits, the retry schedule, and the domain's commands and results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cabinet.models import WebhookDelivery, WebhookEndpoint

EVENT_TYPES = (
    "company.created",
    "company.updated",
    "company.deleted",
    "user.created",
    "user.updated",
    "user.locked",
    "user.unlocked",
    "user.deleted",
    "call.created",
    "call.updated",
    "call.status_changed",
    "call.message_created",
    "call.jeopardy_raised",
    "call.jeopardy_answered",
    "call.field_report_submitted",
    "call.attachment_created",
    "call_cost.sent",
    "call_cost.processed",
    "webhook.test",
)
ALL_EVENTS = "*"
URL_MAX = 2048
DESCRIPTION_MAX = 1024
ENDPOINTS_PER_COMPANY_MAX = 50
SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"
OLD_SECRET_GRACE = timedelta(hours=24)
TIMEOUT_SECONDS = 10.0
RESPONSE_KEPT_BYTES = 1024
CLAIM_SECONDS = 60  # a claimed delivery is another process's again after this (its sender died mid-delivery)
# after the first attempt: retries (Stripe/Svix-like), the first within 30 s, ~3 days in all
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=24),
    timedelta(hours=24),
)
DISABLE_AFTER = timedelta(days=3)  # an endpoint failing this long is disabled

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class EndpointCommand:
    url: str
    events: list[str]
    description: str | None = None
    enabled: bool | None = True  # None: as it is (an edit that leaves the switch alone)


@dataclass(frozen=True, slots=True)
class EndpointView:
    """An endpoint with its company's key (what the APIs show with it)."""

    endpoint: WebhookEndpoint
    company_key: str


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    secret: str
    old_secret_valid_until: datetime


@dataclass(frozen=True, slots=True)
class DeliveryView:
    delivery: WebhookDelivery
    event_type: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Message:
    delivery_id: int
    message_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class DisabledEndpoint:
    """An endpoint the worker just disabled (failing for DISABLE_AFTER), told to its company's owners."""

    company_id: int
    endpoint_id: int
    url: str
    failing_since: datetime
    disabled_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """An endpoint's run of pending deliveries a process has claimed (from its head, in order): what to send
    where, signed with which secrets."""

    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    messages: tuple[Message, ...]
