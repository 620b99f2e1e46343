from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class CallTask(Base):
    """A task of a call: ``New -> Done | Canceled``. A Done task has its result (``result_at``); attachments
    of the result (issue 6) hang off the task."""

    __tablename__ = "contractor_task"
    __table_args__ = (Index("ix_contractor_task_company_change", "company_id", "change_no"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_call.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    change_no: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)
