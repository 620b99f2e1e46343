"""Proof of work on site (issue 19): the field employee's visits (check-in / check-out) and the customer's
signatures of a call."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class CallVisit(Base):
    """One stay on site: checked in, then (later) checked out. Each end keeps the service's time, the phone's time
    and, when the person allowed it, the phone's position; the check-in's distance from the service object and
    whether it was outside the geofence (None: no position, or the object has no coordinates)."""

    __tablename__ = "contractor_visit"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_call.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[UUID | None] = mapped_column(Uuid, nullable=True)  # the field link it came through
    check_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    check_in_client_at: Mapped[datetime] = mapped_column(UTCDateTime)
    check_in_latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    check_in_longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    check_in_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    distance_meters: Mapped[float | None] = mapped_column(Float, nullable=True)
    outside_geofence: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    check_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    check_out_client_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    check_out_latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    check_out_longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    check_out_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)


class CallSignature(Base):
    """The customer's signature (a PNG in the blob store) with the name they typed. A new one replaces the
    current one (``replaced_at`` set on the old), which stays for the evidence bundle."""

    __tablename__ = "contractor_signature"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_call.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[UUID | None] = mapped_column(Uuid, nullable=True)
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blob_key: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
