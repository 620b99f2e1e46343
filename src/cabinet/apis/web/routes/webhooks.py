"""The operator's webhook pages (issue 20): a company's endpoints (list, create with the signing secret shown
once after the redirect), one endpoint (edit, enable or disable, rotate the secret, send a test, delete, its
deliveries with replay). The webhooks service applies the Admin API's rules: ADMIN and OVERLORD every company,
SUPPORT reads, a COMPANYOWNER its own company; another company's endpoint is not found."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request
from fastapi.responses import Response

from cabinet.apis.shared.params import INT64_MAX
from cabinet.apis.web.deps import (
    OperatorReader,
    OperatorWriter,
    ServicesDep,
    admin_read_op,
    admin_write_op,
    page,
    redirect,
    redirect_with_secret,
    secret_once,
)
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.domains.webhooks.schemas import ALL_EVENTS, EVENT_TYPES, EndpointCommand

router = page_router(prefix="/admin")

Key = Annotated[str, Path(min_length=3, max_length=256, pattern=r"^\w+$")]
HookId = Annotated[int, Path(ge=1, le=INT64_MAX)]
DELIVERIES_SHOWN = 50


def _may_write(principal: Principal) -> bool:
    return principal.can(Permission.ADMIN_WRITE_ALL) or principal.can(Permission.ADMIN_WRITE_COMPANY)


def _command(url: str, events: list[str], description: str, enabled: bool | None) -> EndpointCommand:
    return EndpointCommand(url=url.strip(), events=events, description=description.strip() or None, enabled=enabled)


Url = Annotated[str, Form(max_length=2048)]
Events = Annotated[list[str], Form(max_length=len(EVENT_TYPES) + 1)]
Description = Annotated[str, Form(max_length=1024)]


@router.get("/companies/{key}/webhooks", **admin_read_op("read_webhooks", ProcessType.NOTRACE))
async def webhooks(request: Request, key: Key, principal: OperatorReader, svc: ServicesDep) -> Response:
    endpoints = await svc.webhooks.list_endpoints(principal, key)
    set_result_elements(len(endpoints))
    return page(
        request,
        "admin_webhooks.html",
        company_key=key,
        endpoints=endpoints,
        event_types=EVENT_TYPES,
        all_events=ALL_EVENTS,
        may_write=_may_write(principal),
    )


@router.post("/companies/{key}/webhooks", **admin_write_op("create_webhook", ProcessType.TRACE))
async def create_webhook(
    request: Request,
    key: Key,
    principal: OperatorWriter,
    svc: ServicesDep,
    url: Url,
    events: Events = [],  # noqa: B006 (FastAPI copies form defaults)
    description: Description = "",
) -> Response:
    created = await svc.webhooks.create_endpoint(principal, key, _command(url, events, description, True))
    # the signing secret is shown once, on the endpoint's page (sealed for it: never in a URL or the audit)
    return redirect_with_secret(
        request, f"/ui/admin/webhooks/{created.endpoint.id}", _("Webhook endpoint created."), created.secret
    )


@router.get("/webhooks/{hook}", **admin_read_op("read_webhook", ProcessType.NOTRACE))
async def webhook_page(request: Request, hook: HookId, principal: OperatorReader, svc: ServicesDep) -> Response:
    view = await svc.webhooks.get_endpoint(principal, hook)
    deliveries = await svc.webhooks.deliveries(principal, hook, limit=DELIVERIES_SHOWN)
    return page(
        request,
        "admin_webhook.html",
        endpoint=view.endpoint,
        company_key=view.company_key,
        deliveries=deliveries,
        event_types=EVENT_TYPES,
        all_events=ALL_EVENTS,
        may_write=_may_write(principal),
        new_secret=secret_once(request),
    )


@router.post("/webhooks/{hook}", **admin_write_op("update_webhook", ProcessType.TRACE))
async def update_webhook(
    request: Request,
    hook: HookId,
    principal: OperatorWriter,
    svc: ServicesDep,
    url: Url,
    events: Events = [],  # noqa: B006
    description: Description = "",
    enabled: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    # the page's form leaves the switch to its own button: without the field, saving keeps the endpoint's state
    command = _command(url, events, description, None if enabled is None else enabled == "on")
    await svc.webhooks.update_endpoint(principal, hook, command)
    return redirect(request, f"/ui/admin/webhooks/{hook}", _("Webhook endpoint saved."))


@router.post("/webhooks/{hook}/enabled", **admin_write_op("update_webhook", ProcessType.TRACE))
async def switch_webhook(
    request: Request,
    hook: HookId,
    principal: OperatorWriter,
    svc: ServicesDep,
    enabled: Annotated[str, Form(pattern="^(on|off)$")],
) -> Response:
    endpoint = (await svc.webhooks.get_endpoint(principal, hook)).endpoint
    command = EndpointCommand(endpoint.url, list(endpoint.events), endpoint.description, enabled == "on")
    await svc.webhooks.update_endpoint(principal, hook, command)
    said = _("Webhook endpoint enabled.") if enabled == "on" else _("Webhook endpoint disabled.")
    return redirect(request, f"/ui/admin/webhooks/{hook}", said)


@router.post("/webhooks/{hook}/rotate-secret", **admin_write_op("rotate_webhook_secret", ProcessType.TRACE))
async def rotate_secret(request: Request, hook: HookId, principal: OperatorWriter, svc: ServicesDep) -> Response:
    rotated = await svc.webhooks.rotate_secret(principal, hook)
    said = _("New signing secret issued; the old one also signs for 24 hours.")
    return redirect_with_secret(request, f"/ui/admin/webhooks/{hook}", said, rotated.secret)


@router.post("/webhooks/{hook}/test", **admin_write_op("test_webhook", ProcessType.TRACE))
async def send_test(request: Request, hook: HookId, principal: OperatorWriter, svc: ServicesDep) -> Response:
    await svc.webhooks.send_test(principal, hook)
    return redirect(request, f"/ui/admin/webhooks/{hook}#deliveries", _("Test event queued."))


@router.post("/webhooks/{hook}/delete", **admin_write_op("delete_webhook", ProcessType.TRACE))
async def delete_webhook(request: Request, hook: HookId, principal: OperatorWriter, svc: ServicesDep) -> Response:
    company_key = (await svc.webhooks.get_endpoint(principal, hook)).company_key
    await svc.webhooks.delete_endpoint(principal, hook)
    return redirect(request, f"/ui/admin/companies/{company_key}/webhooks", _("Webhook endpoint deleted."))


@router.post(
    "/webhooks/{hook}/deliveries/{delivery}/replay", **admin_write_op("replay_webhook_delivery", ProcessType.TRACE)
)
async def replay(
    request: Request,
    hook: HookId,
    delivery: Annotated[int, Path(ge=1, le=INT64_MAX)],
    principal: OperatorWriter,
    svc: ServicesDep,
) -> Response:
    await svc.webhooks.replay(principal, delivery, endpoint_id=hook)
    return redirect(request, f"/ui/admin/webhooks/{hook}#deliveries", _("Event queued again (same webhook-id)."))
