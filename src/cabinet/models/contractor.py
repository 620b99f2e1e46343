"""Contractor-area identity and tenant state: the sealed sign-in verifier, used salts, service-token
families, the per-company change sequence and call numbers, and per-company settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import UTCDateTime


class ContractorVerifier(Base):
    """SHA-256(password) that the salted-hash sign-in needs, sealed with AES-GCM (never kept in clear)."""

    __tablename__ = "contractor_verifier"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsedSalt(Base):
    """Every salt a user signed in with (as its SHA-256): each is accepted once per user, forever."""

    __tablename__ = "contractor_used_salt"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServiceToken(Base):
    """One issued service (refresh) token. Using it once spends it; reusing a spent one revokes its family."""

    __tablename__ = "contractor_service_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    spent: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeSequence(Base):
    """Per company: the last change number handed out and the last call number. One row, updated as the last
    statement of a writing transaction, so its row lock orders commits by change number."""

    __tablename__ = "contractor_sequence"

    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    last_change: Mapped[int] = mapped_column(BigInteger, default=0)
    last_call_number: Mapped[int] = mapped_column(BigInteger, default=0)


class ContractorSettings(Base):
    __tablename__ = "contractor_settings"

    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    call_cost_deadline_day_of_month: Mapped[int] = mapped_column(Integer)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)
