from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class Quota(Base):
    """A user's limits for one (service, process type). No row = no limit for that pair."""

    __tablename__ = "quota"
    __table_args__ = (UniqueConstraint("user_id", "service", "process_type"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(String(32))
    process_type: Mapped[str] = mapped_column(String(32))
    points_per_request: Mapped[int] = mapped_column(Integer)
    points_per_day: Mapped[int] = mapped_column(Integer)
    points_per_date_window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    window_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    window_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    max_concurrent_execution: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CompanyQuota(Base):
    """The ceiling an ADMIN sets for a company: a COMPANYOWNER may give its users quotas up to these values."""

    __tablename__ = "company_quota"
    __table_args__ = (UniqueConstraint("company_id", "service", "process_type"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(String(32))
    process_type: Mapped[str] = mapped_column(String(32))
    points_per_request: Mapped[int] = mapped_column(Integer)
    points_per_day: Mapped[int] = mapped_column(Integer)
    points_per_date_window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_concurrent_execution: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)
