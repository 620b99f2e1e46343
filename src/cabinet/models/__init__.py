"""Every SQLAlchemy model, importable from one place (keeps mappers registered for Alembic and tests)."""

from cabinet.models.audit import AuditAction
from cabinet.models.company import Company
from cabinet.models.credential import ApiKey, CompanyNetwork
from cabinet.models.quota import CompanyQuota, Quota
from cabinet.models.user import User

__all__ = ["ApiKey", "AuditAction", "Company", "CompanyNetwork", "CompanyQuota", "Quota", "User"]
