"""The composition root of the domain services: built once per process from the Resources."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from cabinet.core.events import Events
from cabinet.core.limits import AttemptThrottle
from cabinet.core.metering import CalculationStatus, ProcessType, Service
from cabinet.domains.audit.schemas import AuditEntry
from cabinet.domains.audit.service import AuditService
from cabinet.domains.credentials.service import CredentialService
from cabinet.domains.fieldservice.accounts import ContractorAccountService
from cabinet.domains.fieldservice.attachments import AttachmentService
from cabinet.domains.fieldservice.calls import CallService
from cabinet.domains.fieldservice.company_settings import ContractorSettingsService
from cabinet.domains.fieldservice.costs import CostService
from cabinet.domains.fieldservice.events import FieldEvents, Presenter
from cabinet.domains.fieldservice.field_links import FieldLinkService
from cabinet.domains.fieldservice.jeopardies import JeopardyService
from cabinet.domains.fieldservice.messages import MessageService
from cabinet.domains.fieldservice.notifications import NotificationService
from cabinet.domains.fieldservice.report import RegionalDefaults, WorkReportService
from cabinet.domains.fieldservice.tasks import TaskService
from cabinet.domains.fieldservice.visits import VisitService
from cabinet.domains.idempotency.service import IdempotencyService
from cabinet.domains.identity.directory import DirectoryService
from cabinet.domains.identity.schemas import Regional
from cabinet.domains.identity.service import IdentityService
from cabinet.domains.identity.sessions import SessionService
from cabinet.domains.quotas.service import QuotaService
from cabinet.domains.usage.service import UsageService
from cabinet.domains.webhooks.schemas import DisabledEndpoint
from cabinet.domains.webhooks.service import DisabledHook, WebhookService
from cabinet.resources import Resources, token_ttl_cap
from cabinet.settings import Settings


@dataclass
class Services:
    identity: IdentityService
    directory: DirectoryService
    quotas: QuotaService
    audit: AuditService
    usage: UsageService
    credentials: CredentialService
    contractors: ContractorAccountService
    calls: CallService
    tasks: TaskService
    messages: MessageService
    jeopardies: JeopardyService
    contractor_settings: ContractorSettingsService
    field_links: FieldLinkService
    visits: VisitService
    attachments: AttachmentService
    reports: WorkReportService
    costs: CostService
    notifications: NotificationService
    sessions: SessionService
    idempotency: IdempotencyService
    webhooks: WebhookService


def build_services(resources: Resources, *, presenter: Presenter | None = None) -> Services:
    """Every domain service of the process; ``presenter`` (the contractor API's JSON) lets the contractor domain
    publish its webhook events (without one it publishes none)."""
    settings = resources.settings
    webhooks = WebhookService(
        resources.db, clock=resources.clock, allow_private=settings.webhook_allow_private_networks
    )
    events = Events(webhooks.record)  # every domain's events go to the webhooks outbox, in the change's transaction
    field_events = FieldEvents(events, presenter)
    identity = IdentityService(
        resources.db,
        events=events,
        clock=resources.clock,
        hasher=resources.hasher,
        tokens=resources.tokens,
        user_throttle=AttemptThrottle(resources.limit_storage, settings.login_failures_per_username, "login-user"),
        ip_throttle=AttemptThrottle(resources.limit_storage, settings.login_failures_per_ip, "login-ip"),
        max_token_ttl=token_ttl_cap(settings),
        stamps=resources.stamps,
    )
    audit = AuditService(
        resources.db,
        clock=resources.clock,
        blobs=resources.blobs,
        flush_interval=settings.audit_flush_interval_seconds,
        batch_size=settings.audit_batch_size,
        retention_days=settings.payload_retention_days,
        scratch_dir=settings.scratch_dir,
    )
    webhooks.on_disabled = _owners_told(identity, audit, settings)
    return Services(
        identity=identity,
        directory=DirectoryService(
            resources.db,
            clock=resources.clock,
            hasher=resources.hasher,
            identity=identity,
            events=events,
            defaults=Regional(
                zone=settings.default_timezone, locale=settings.default_locale, currency=settings.default_currency
            ),
        ),
        quotas=QuotaService(
            resources.db,
            clock=resources.clock,
            storage=resources.limit_storage,
            default_day_points=settings.data_day_points_limit,
            default_minute_points=settings.data_minute_points_limit,
        ),
        audit=audit,
        usage=UsageService(resources.db, clock=resources.clock, scratch_dir=settings.scratch_dir),
        credentials=CredentialService(
            resources.db,
            clock=resources.clock,
            secret=resources.secret,
            max_days=settings.api_key_max_days,
            stamps=resources.stamps,
        ),
        contractors=ContractorAccountService(
            resources.db,
            clock=resources.clock,
            hasher=resources.hasher,
            tokens=resources.tokens,
            secret=resources.secret,
            throttle=identity.user_throttle,  # one name's attempts count together at every sign-in
            ip_throttle=identity.ip_throttle,
            users=identity,
        ),
        calls=CallService(resources.db, clock=resources.clock, events=field_events),
        tasks=TaskService(resources.db, clock=resources.clock, events=field_events),
        messages=MessageService(resources.db, clock=resources.clock, events=field_events),
        jeopardies=JeopardyService(resources.db, clock=resources.clock, events=field_events),
        contractor_settings=ContractorSettingsService(resources.db, clock=resources.clock, events=field_events),
        field_links=FieldLinkService(
            resources.db,
            clock=resources.clock,
            secret=resources.secret,
            ttl=timedelta(seconds=settings.field_link_ttl_seconds),
            events=field_events,
        ),
        visits=VisitService(
            resources.db, clock=resources.clock, geofence_meters=settings.field_geofence_meters, events=field_events
        ),
        attachments=AttachmentService(
            resources.db,
            clock=resources.clock,
            blobs=resources.blobs,
            max_bytes=settings.attachment_max_bytes,
            max_pixels=settings.attachment_max_pixels,
            events=field_events,
        ),
        reports=WorkReportService(
            resources.db,
            clock=resources.clock,
            blobs=resources.blobs,
            defaults=RegionalDefaults(settings.default_timezone, settings.default_locale, settings.default_currency),
        ),
        costs=CostService(resources.db, clock=resources.clock, events=field_events),
        notifications=NotificationService(resources.db, clock=resources.clock),
        sessions=SessionService(resources.db, clock=resources.clock, identity=identity),
        idempotency=IdempotencyService(
            resources.db,
            clock=resources.clock,
            secret=resources.secret,
            retention=timedelta(days=settings.idempotency_retention_days),
        ),
        webhooks=webhooks,
    )


def _owners_told(identity: IdentityService, audit: AuditService, settings: Settings) -> DisabledHook:
    """How a company's owners learn that cabinet disabled one of its webhook endpoints: the platform has no
    channel to reach them outside its pages (the notification inbox is the contractors', per call), so each
    enabled COMPANYOWNER gets a record in their audit trail (the Account API's and the pages' audit lists), written
    in the transaction that disables the endpoint; the endpoint itself shows why (``disabled_reason``)."""

    async def tell(disabled: DisabledEndpoint) -> None:
        message = (
            f"Webhook endpoint {disabled.endpoint_id} ({disabled.url[:512]}) was disabled: its deliveries have "
            f"failed since {disabled.failing_since.isoformat()}. Fix the receiver, then enable the endpoint again."
        )
        for owner in await identity.company_owners(disabled.company_id):
            audit.add_in_current_transaction(
                AuditEntry(
                    process_code=uuid.uuid4(),
                    request_code=uuid.uuid4(),
                    company_id=disabled.company_id,
                    user_id=owner.id,
                    username=owner.username,
                    company_key=owner.company.key,
                    service=Service.ADMIN.value,
                    process_type=ProcessType.TRACE.value,
                    operation="webhook_endpoint_disabled",
                    env=settings.env_name,
                    pod=settings.pod[:256],
                    status=CalculationStatus.FAILED.value,
                    message=message,
                    http_status=200,
                    started_at=disabled.disabled_at,
                    duration_seconds=0.0,
                    billing_date=disabled.disabled_at.date(),
                    request_points=0,
                    result_elements=0,
                    input_digest=None,
                    input_blob=None,
                    output_blob=None,
                )
            )

    return tell
