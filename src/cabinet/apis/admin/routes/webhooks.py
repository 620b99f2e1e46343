"""Webhook endpoints of companies (Standard Webhooks) and their deliveries (issue 20).

ADMIN and OVERLORD manage every company's endpoints, SUPPORT reads them, a COMPANYOWNER manages its own
company's. The signing secret (``whsec_...``) is shown once, when the endpoint is created or its secret rotated;
those operations keep no payloads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query, Response
from pydantic import Field, StrictBool, StrictStr

from cabinet.apis.admin.deps import AdminRoutes, Reader, ServicesDep, Writer
from cabinet.apis.admin.routes import api_router
from cabinet.apis.admin.routes.companies import KeyPath
from cabinet.apis.admin.schemas import WireModel
from cabinet.apis.shared.params import INT64_MAX
from cabinet.core.metering import set_result_elements
from cabinet.domains.webhooks.schemas import DESCRIPTION_MAX, EVENT_TYPES, URL_MAX, DeliveryView, EndpointCommand
from cabinet.models import WebhookEndpoint

router = api_router()
HOOKS = AdminRoutes(["Webhooks"])
IdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="Webhook endpoint id.")]
DeliveryPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="Delivery id.")]
EVENTS_DOC = "Event types to send (`*`: all): " + ", ".join(f"`{e}`" for e in EVENT_TYPES) + "."


class WebhookIn(WireModel):
    url: StrictStr = Field(
        min_length=1,
        max_length=URL_MAX,
        description="http(s) URL the events are POSTed to. Loopback, private, link-local and metadata addresses "
        "are refused unless CABINET_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (checked again at every send).",
        examples=["https://erp.example.com/hooks/cabinet"],
    )
    events: list[StrictStr] = Field(min_length=1, max_length=len(EVENT_TYPES) + 1, description=EVENTS_DOC)
    description: StrictStr | None = Field(default=None, max_length=DESCRIPTION_MAX)
    enabled: StrictBool = True

    def command(self) -> EndpointCommand:
        return EndpointCommand(url=self.url, events=self.events, description=self.description, enabled=self.enabled)


class WebhookOut(WireModel):
    id: int
    company_key: str
    url: str
    events: list[str]
    description: str | None = None
    enabled: bool
    disabled_reason: str | None = Field(default=None, description="Why cabinet disabled it (failing for 3 days).")
    created_at: datetime
    edited_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (`whsec_...`, Standard Webhooks). Shown once.")


class WebhookList(WireModel):
    webhooks: list[WebhookOut]


class SecretRotated(WireModel):
    secret: str = Field(description="The new signing secret. Shown once.")
    old_secret_valid_until: datetime = Field(description="The old secret also signs every delivery until then.")


class DeliveryAccepted(WireModel):
    delivery_id: int


class DeliveryOut(WireModel):
    id: int
    event: str = Field(description="The event type.")
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt and replay.")
    status: str = Field(description="pending, delivered or failed (retries spent).")
    attempts: int
    last_status_code: int | None = Field(default=None, description="HTTP status of the last attempt's answer.")
    last_error: str | None = Field(default=None, description="Why the last attempt got no answer.")
    last_response: str | None = Field(default=None, description="The first 1 KB of the last answer's body.")
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = Field(default=None, description="When it is tried again (pending only).")
    delivered_at: datetime | None = None
    created_at: datetime


class DeliveryList(WireModel):
    deliveries: list[DeliveryOut]


def _out(endpoint: WebhookEndpoint, company_key: str) -> WebhookOut:
    return WebhookOut(
        id=endpoint.id,
        company_key=company_key,
        url=endpoint.url,
        events=list(endpoint.events),
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
        edited_at=endpoint.edited_at,
    )


def _delivery(view: DeliveryView) -> DeliveryOut:
    d = view.delivery
    return DeliveryOut(
        id=d.id,
        event=view.event_type,
        webhook_id=view.message_id,
        status=d.status,
        attempts=d.attempts,
        last_status_code=d.last_status,
        last_error=d.last_error,
        last_response=d.last_response,
        last_attempt_at=d.last_attempt_at,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
    )


@router.post(
    "/companies/{key}/webhooks",
    **HOOKS.write("create_webhook", "New webhook endpoint of a company.", store_payloads=False),
    description="Events of the company go to `url`, signed per Standard Webhooks (`webhook-id`, "
    "`webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`) with the secret in this answer.",
    status_code=201,
    response_model=WebhookCreated,
)
async def create_webhook(key: KeyPath, body: WebhookIn, principal: Writer, svc: ServicesDep) -> WebhookCreated:
    created = await svc.webhooks.create_endpoint(principal, key, body.command())
    return WebhookCreated(**_out(created.endpoint, key).model_dump(), secret=created.secret)


@router.get(
    "/companies/{key}/webhooks",
    **HOOKS.read("read_webhooks", "A company's webhook endpoints."),
    response_model=WebhookList,
)
async def read_webhooks(key: KeyPath, principal: Reader, svc: ServicesDep) -> WebhookList:
    endpoints = await svc.webhooks.list_endpoints(principal, key)
    set_result_elements(len(endpoints))
    return WebhookList(webhooks=[_out(e, key) for e in endpoints])


@router.get(
    "/webhooks/{id}",
    **HOOKS.read("read_webhook", "A webhook endpoint."),
    response_model=WebhookOut,
)
async def read_webhook(id: IdPath, principal: Reader, svc: ServicesDep) -> WebhookOut:
    view = await svc.webhooks.get_endpoint(principal, id)
    return _out(view.endpoint, view.company_key)


@router.put(
    "/webhooks/{id}",
    **HOOKS.write("update_webhook", "Change a webhook endpoint (the whole of it)."),
    description="Enabling an endpoint cabinet disabled sends its pending deliveries again.",
    response_model=WebhookOut,
)
async def update_webhook(id: IdPath, body: WebhookIn, principal: Writer, svc: ServicesDep) -> WebhookOut:
    view = await svc.webhooks.update_endpoint(principal, id, body.command())
    return _out(view.endpoint, view.company_key)


@router.delete(
    "/webhooks/{id}",
    **HOOKS.write("delete_webhook", "Delete a webhook endpoint (and its deliveries)."),
    status_code=204,
    response_class=Response,
)
async def delete_webhook(id: IdPath, principal: Writer, svc: ServicesDep) -> Response:
    await svc.webhooks.delete_endpoint(principal, id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{id}/rotate-secret",
    **HOOKS.write(
        "rotate_webhook_secret", "A new signing secret; the old one also signs for 24 hours.", store_payloads=False
    ),
    response_model=SecretRotated,
)
async def rotate_webhook_secret(id: IdPath, principal: Writer, svc: ServicesDep) -> SecretRotated:
    rotated = await svc.webhooks.rotate_secret(principal, id)
    return SecretRotated(secret=rotated.secret, old_secret_valid_until=rotated.old_secret_valid_until)


@router.post(
    "/webhooks/{id}/test",
    **HOOKS.write("test_webhook", "Send a `webhook.test` event to this endpoint."),
    status_code=202,
    response_model=DeliveryAccepted,
)
async def test_webhook(id: IdPath, principal: Writer, svc: ServicesDep) -> DeliveryAccepted:
    return DeliveryAccepted(delivery_id=await svc.webhooks.send_test(principal, id))


@router.get(
    "/webhooks/{id}/deliveries",
    **HOOKS.read("read_webhook_deliveries", "The endpoint's deliveries, newest first."),
    response_model=DeliveryList,
)
async def read_webhook_deliveries(
    id: IdPath,
    principal: Reader,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> DeliveryList:
    views = await svc.webhooks.deliveries(principal, id, limit)
    set_result_elements(len(views))
    return DeliveryList(deliveries=[_delivery(v) for v in views])


@router.post(
    "/webhooks/deliveries/{id}/replay",
    **HOOKS.write(
        "replay_webhook_delivery", "Send a delivery's event again (the same `webhook-id`: it is the same event)."
    ),
    status_code=202,
    response_model=DeliveryAccepted,
)
async def replay_webhook_delivery(id: DeliveryPath, principal: Writer, svc: ServicesDep) -> DeliveryAccepted:
    return DeliveryAccepted(delivery_id=await svc.webhooks.replay(principal, id))
