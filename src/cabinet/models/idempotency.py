"""Answers of idempotent requests (``Idempotency-Key``): the first successful answer per caller and key, kept so
that a repeat of the request is answered the same without being applied again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, JSONDoc, UTCDateTime


class IdempotentRequest(Base):
    """One applied request: whose (``scope``: ``user:<id>`` or ``link:<link id>``), its key, a keyed digest of
    what was asked (method, path, query, body) and the answer that was sent. Claimed as the first statement of
    the request's transaction, so two concurrent requests with one key cannot both apply."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None until the answer is stored
    headers: Mapped[list[list[str]] | None] = mapped_column(JSONDoc, nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
