"""The composition root of the domain services: built once per process from the Resources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cabinet.core.events import Events
from cabinet.core.limits import AttemptThrottle
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
from cabinet.domains.webhooks.service import WebhookService
from cabinet.resources import Resources, token_ttl_cap


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
    )
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
        audit=AuditService(
            resources.db,
            clock=resources.clock,
            blobs=resources.blobs,
            flush_interval=settings.audit_flush_interval_seconds,
            batch_size=settings.audit_batch_size,
            retention_days=settings.payload_retention_days,
            scratch_dir=settings.scratch_dir,
        ),
        usage=UsageService(resources.db, clock=resources.clock, scratch_dir=settings.scratch_dir),
        credentials=CredentialService(
            resources.db, clock=resources.clock, secret=resources.secret, max_days=settings.api_key_max_days
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
