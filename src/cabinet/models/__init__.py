"""Every SQLAlchemy model, importable from one place (keeps mappers registered for Alembic and tests)."""

from cabinet.models.company import Company
from cabinet.models.user import User

__all__ = ["Company", "User"]
