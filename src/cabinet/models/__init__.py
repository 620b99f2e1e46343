"""Every SQLAlchemy model, importable from one place (keeps mappers registered for Alembic and tests)."""

from cabinet.models.audit import AuditAction
from cabinet.models.company import Company, PartnerLink
from cabinet.models.credential import ApiKey, CompanyNetwork
from cabinet.models.quota import CompanyQuota, Quota
from cabinet.models.session import DataSession
from cabinet.models.user import User

__all__ = [
    "ApiKey",
    "AuditAction",
    "Company",
    "CompanyNetwork",
    "CompanyQuota",
    "DataSession",
    "PartnerLink",
    "Quota",
    "User",
]
