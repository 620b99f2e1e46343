"""Calls (the contractor area's work orders) and their expenditure-item catalog.

Every synced row carries ``change_no``: its place in the company's one change sequence (see
``domains/fieldservice/feed.py``). Rows are stamped as the last step of the writing transaction.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class Call(Base):
    __tablename__ = "contractor_call"
    __table_args__ = (
        Index("ix_contractor_call_company_change", "company_id", "change_no"),
        Index("ix_contractor_call_company_owner", "company_id", "owner_id", "status"),
        # the next deadline of a call not yet accepted / not yet finished (``scope.expiry_bound``)
        Index("ix_contractor_call_open_tto", "company_id", "commited_at", "tto"),
        Index("ix_contractor_call_open_ttf", "company_id", "finished_at", "ttf"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    client_name: Mapped[str] = mapped_column(String(2000))
    comments: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_person_email: Mapped[str | None] = mapped_column(String(256), nullable=True)
    contact_person_name: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    contact_person_phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)  # the call's creation date as given by the ERP
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    description_html: Mapped[str] = mapped_column(Text)
    description_for_field_employee: Mapped[str] = mapped_column(Text)
    service_object_address: Mapped[str] = mapped_column(String(2000))
    service_object_latitude: Mapped[float] = mapped_column(Float)
    service_object_longitude: Mapped[float] = mapped_column(Float)
    service_object_name: Mapped[str] = mapped_column(String(2000))
    service_object_type: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    commited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ttf: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tto: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    jeopardy_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # issue 6 (field links): the call's current temporary link
    temp_link_id: Mapped[UUID | None] = mapped_column(Uuid, nullable=True)
    change_no: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExpenditureItem(Base):
    """One entry of the per-call catalog of expense items the ERP allows (cost estimates pick from it)."""

    __tablename__ = "contractor_expenditure_item"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_call.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(2000))


# The default call list order (critical first, then the nearest fix deadline, calls without one last, newest
# first): expression indexes both backends use for ORDER BY ... LIMIT, company-wide and per owner.
Index(
    "ix_contractor_call_company_order",
    Call.company_id,
    Call.critical.desc(),
    Call.ttf.is_(None),
    Call.ttf,
    Call.id.desc(),
)
Index(
    "ix_contractor_call_owner_order",
    Call.company_id,
    Call.owner_id,
    Call.critical.desc(),
    Call.ttf.is_(None),
    Call.ttf,
    Call.id.desc(),
)
# Lists filtered by status (the external system's "new critical calls", a contractor's tab): the status and the
# columns the ``isExpired`` rule reads, so counting the matches and finding the first page read only the index.
Index(
    "ix_contractor_call_company_status",
    Call.company_id,
    Call.status,
    Call.critical,
    Call.ttf,
    Call.tto,
    Call.commited_at,
    Call.finished_at,
)
