from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class Company(Base):
    """A tenant. Every row that belongs to a tenant carries its ``company_id``."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(256), unique=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Data API point budgets (None = the configured default) and the zone whose midnight resets the day budget
    day_points_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    minute_points_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timezone: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What its people see (None: the deployment's CABINET_DEFAULT_*): IANA zone, ru|en, ISO 4217 currency
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PartnerLink(Base):
    """An agent (PARTNER) company linked to a client company: its PARTNER users may act there (``user_id``)."""

    __tablename__ = "partner_link"
    __table_args__ = (UniqueConstraint("partner_company_id", "client_company_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    client_company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
