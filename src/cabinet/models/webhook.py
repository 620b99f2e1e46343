from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, JSONDoc, UTCDateTime


class WebhookEndpoint(Base):
    """A company's webhook endpoint (Standard Webhooks): where its events go, signed with ``secret``; during a
    rotation ``old_secret`` signs too until ``old_secret_until``. ``next_seq`` orders its deliveries in commit
    order (a writer takes the row's lock to number one)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    events: Mapped[list[str]] = mapped_column(JSONDoc)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(64))
    old_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    old_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookEvent(Base):
    """One event as sent: ``message_id`` is its ``webhook-id`` (the same on every attempt and replay)."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    company_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """An event's delivery to one endpoint: pending (due at ``next_attempt_at``; claimed by a process until
    ``locked_until``), delivered or failed (retries exhausted)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_endpoint_status_seq", "endpoint_id", "status", "seq"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_event.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(256), nullable=True)
    last_response: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
