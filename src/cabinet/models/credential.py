from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class ApiKey(Base):
    """A long-lived integration key (Data API permanent/temporary keys, the contractor ERP's key).

    The secret is shown once; only ``HMAC-SHA256(server secret, secret)`` is kept, found by its short ``prefix``.
    """

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(20), unique=True)  # ``cab_`` + 16 hex (older keys: the 16 hex)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # None = permanent
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)  # written with last_used_at
    # the successor a rotation issued (this key then works for its grace period only and is not rotated again)
    replaced_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("api_key.id", ondelete="SET NULL"), nullable=True
    )


class CompanyNetwork(Base):
    """One allowed network (CIDR) of a company's IP allow-list for the Data API; none = no access."""

    __tablename__ = "company_network"
    __table_args__ = (UniqueConstraint("company_id", "cidr"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    cidr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
