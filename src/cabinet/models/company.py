from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class Company(Base):
    """A tenant. Every row that belongs to a tenant carries its ``company_id``."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(256), unique=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)
