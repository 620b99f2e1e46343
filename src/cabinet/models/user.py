from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, JSONDoc, UTCDateTime
from cabinet.core.roles import ADMIN_ROLES
from cabinet.models.company import Company


class User(Base):
    """A person or integration. ``id`` is the contractor area's int64 id; ``username`` is globally unique."""

    __tablename__ = "user_account"
    # Beside these, migration 0020 gives the user list's text search a trigram index: an FTS5 table
    # ``user_search`` kept in step by triggers on SQLite, GIN pg_trgm indexes on PostgreSQL (not modelled here).
    __table_args__ = (
        Index("ix_user_account_company_counts", "company_id", "enabled", "is_admin"),
        Index("ix_user_account_company_created", "company_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(256), unique=True)
    # what the name looks like (cabinet.core.usernames.skeleton): a new name may not share it with another
    username_skeleton: Mapped[str] = mapped_column(String(1024), index=True, default="")
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="RESTRICT"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(512), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    roles: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    # one of ADMIN_ROLES among ``roles``: set with them (below), so user lists count admins from an index
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    specification: Mapped[str | None] = mapped_column(String(256), nullable=True)
    email: Mapped[str | None] = mapped_column(String(256), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    timezone: Mapped[int] = mapped_column(Integer, default=0)
    # The person's own IANA zone (None: the company's; `timezone` follows its offset) and language (None: the
    # browser's)
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    # Bumped by a password change, a lock or a disable: every token with an older `ver` is dead.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)

    company: Mapped[Company] = relationship(lazy="joined", innerjoin=True)

    @validates("roles")
    def _keep_is_admin(self, _key: str, roles: list[str]) -> list[str]:
        self.is_admin = any(role in ADMIN_ROLES for role in roles)
        return roles
