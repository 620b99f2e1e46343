"""Cost estimates of calls (the seed's CallCost): one per call, with expense lines (picked from the call's
expenditure-item catalog, a quantity only) and material lines (spare parts: name, serial number, owner, quantity,
unit price). Quantities and prices are exact decimals (``FixedDecimal``), never floats.

The estimate row carries ``change_no`` (the cost feed's cursor): any change of the estimate or of one of its
lines restamps it, and the feed returns the whole estimate with its current lines.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, FixedDecimal, UTCDateTime

COUNT_SCALE = 3  # quantities: thousandths (1.5 hours, 0.25 litres)
PRICE_SCALE = 2  # money: cents (kopecks)


class CallCost(Base):
    """A call's cost estimate: ``Draft -> InProgress (sent) -> Processed (every line decided)``."""

    __tablename__ = "contractor_call_cost"
    __table_args__ = (Index("ix_contractor_call_cost_company_change", "company_id", "change_no"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_call.id", ondelete="CASCADE"), unique=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    change_no: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CostExpense(Base):
    """An additional expense: an item of the call's catalog and a quantity (its price is the ERP's business)."""

    __tablename__ = "contractor_cost_expense"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    cost_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contractor_call_cost.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    expenditure_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contractor_expenditure_item.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[Decimal] = mapped_column(FixedDecimal(COUNT_SCALE))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CostMaterial(Base):
    """A spare part used (the seed's ЗИП): ``price`` is per unit; the line's total is count x price."""

    __tablename__ = "contractor_cost_material"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    cost_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contractor_call_cost.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(2000))
    serial_number: Mapped[str] = mapped_column(String(256))
    owner_type: Mapped[str] = mapped_column(String(32))
    count: Mapped[Decimal] = mapped_column(FixedDecimal(COUNT_SCALE))
    price: Mapped[Decimal] = mapped_column(FixedDecimal(PRICE_SCALE))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)
