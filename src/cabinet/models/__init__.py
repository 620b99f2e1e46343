"""Every SQLAlchemy model, importable from one place (keeps mappers registered for Alembic and tests)."""

from cabinet.models.attachment import CallTaskAttachment
from cabinet.models.audit import AuditAction
from cabinet.models.call import Call, ExpenditureItem
from cabinet.models.company import Company, PartnerLink
from cabinet.models.contractor import ChangeSequence, ContractorSettings, ContractorVerifier, ServiceToken, UsedSalt
from cabinet.models.cost import CallCost, CostExpense, CostMaterial
from cabinet.models.credential import ApiKey, CompanyNetwork
from cabinet.models.idempotency import IdempotentRequest
from cabinet.models.jeopardy import CallJeopardy
from cabinet.models.message import CallMessage
from cabinet.models.notification import Notification
from cabinet.models.quota import CompanyQuota, Quota
from cabinet.models.session import DataSession, EndedWebSession
from cabinet.models.task import CallTask
from cabinet.models.user import User
from cabinet.models.visit import CallSignature, CallVisit
from cabinet.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "ApiKey",
    "AuditAction",
    "Call",
    "CallCost",
    "CallJeopardy",
    "CallMessage",
    "CallSignature",
    "CallTask",
    "CallTaskAttachment",
    "CallVisit",
    "ChangeSequence",
    "Company",
    "CompanyNetwork",
    "CompanyQuota",
    "CostExpense",
    "CostMaterial",
    "ContractorSettings",
    "ContractorVerifier",
    "DataSession",
    "EndedWebSession",
    "ExpenditureItem",
    "IdempotentRequest",
    "Notification",
    "PartnerLink",
    "Quota",
    "ServiceToken",
    "UsedSalt",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
