from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class AuditAction(Base):
    """One process (one API call) with its single request's trace data, status, cost and payload refs.

    ``billing_date`` is the day in the user's timezone when it started: statistics group by it.
    ``input_digest`` identifies the input content, so repeated identical inputs count once as unique points.
    """

    __tablename__ = "audit_action"
    __table_args__ = (
        Index("ix_audit_action_user_time", "user_id", "started_at"),
        Index("ix_audit_action_company_time", "company_id", "started_at"),
        # the usage report reads a period in (billing_date, id) order, per user or per company: these serve
        # its keyset pages straight from the index (no scan and sort of the whole period per page)
        Index("ix_audit_action_user_billing_id", "user_id", "billing_date", "id"),
        Index("ix_audit_action_company_billing_id", "company_id", "billing_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    process_code: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    request_code: Mapped[uuid.UUID] = mapped_column(Uuid)
    # SET NULL: deleting a user or a company keeps its audit trail (username and company_key stay readable)
    company_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("company.id", ondelete="SET NULL"), nullable=True
    )
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    username: Mapped[str] = mapped_column(String(256))
    company_key: Mapped[str] = mapped_column(String(256))
    service: Mapped[str] = mapped_column(String(32))
    process_type: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(256))
    env: Mapped[str] = mapped_column(String(256))
    pod: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    http_status: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float] = mapped_column(Float)
    billing_date: Mapped[date] = mapped_column(Date)
    request_points: Mapped[int] = mapped_column(Integer)
    result_elements: Mapped[int] = mapped_column(Integer)
    input_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input_blob: Mapped[str | None] = mapped_column(String(512), nullable=True)
    output_blob: Mapped[str | None] = mapped_column(String(512), nullable=True)
    target: Mapped[str | None] = mapped_column(String(300), nullable=True)  # "user petrov_ivan": a change's object
