"""Every SQLAlchemy model, importable from one place (keeps mappers registered for Alembic and tests)."""

from cabinet.models.audit import AuditAction
from cabinet.models.company import Company
from cabinet.models.quota import Quota
from cabinet.models.user import User

__all__ = ["AuditAction", "Company", "Quota", "User"]
