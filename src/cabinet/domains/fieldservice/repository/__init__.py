"""Contractor-area queries, always scoped by the viewer (company, and owner for a confined contractor); one module
per aggregate. Never commits; always reached from a unit of work."""

from cabinet.domains.fieldservice.repository.accounts import ContractorAccountRepository
from cabinet.domains.fieldservice.repository.calls import CallRepository
from cabinet.domains.fieldservice.repository.company import ChangeSequenceRepository, SettingsRepository
from cabinet.domains.fieldservice.repository.conversation import JeopardyRepository, MessageRepository
from cabinet.domains.fieldservice.repository.costs import CostRepository
from cabinet.domains.fieldservice.repository.notifications import NotificationRepository
from cabinet.domains.fieldservice.repository.proof import ProofRepository
from cabinet.domains.fieldservice.repository.scope import expired_clause, is_expired
from cabinet.domains.fieldservice.repository.tasks import AttachmentRepository, TaskRepository

__all__ = [
    "AttachmentRepository",
    "CallRepository",
    "ChangeSequenceRepository",
    "ContractorAccountRepository",
    "CostRepository",
    "JeopardyRepository",
    "MessageRepository",
    "NotificationRepository",
    "ProofRepository",
    "SettingsRepository",
    "TaskRepository",
    "expired_clause",
    "is_expired",
]
