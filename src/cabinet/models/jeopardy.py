from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class CallJeopardy(Base):
    """A risk of not meeting a call, raised by the contractor (comment, date) and answered by the external
    system (answer_comment, answer_date). History is kept: a call has any number of them, at most one open."""

    __tablename__ = "contractor_jeopardy"
    __table_args__ = (Index("ix_contractor_jeopardy_company_change", "company_id", "change_no"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_call.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    raised_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    comment: Mapped[str] = mapped_column(Text)
    date: Mapped[datetime] = mapped_column(UTCDateTime)
    answer_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer_date: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    change_no: Mapped[int] = mapped_column(BigInteger, default=0)
