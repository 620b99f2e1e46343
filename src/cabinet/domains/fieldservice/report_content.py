"""What the work report holds (the call, its tasks, materials, visits, photos and signature), and the photos'
thumbnails: plain data, apart from drawing it (``report_pdf``, fpdf2), so that a process imports fpdf2 and
fontTools (a quarter of a second) when it draws its first report, not at every start."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from cabinet.domains.fieldservice.imaging import small_image

THUMBNAIL_PIXELS = 320  # the longest side of a photo's thumbnail


@dataclass(frozen=True, slots=True)
class ReportTask:
    title: str
    status: str
    files: int


@dataclass(frozen=True, slots=True)
class ReportMaterial:
    name: str
    serial_number: str
    count: Decimal
    price: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class ReportVisit:
    check_in: datetime
    check_out: datetime | None
    distance_meters: float | None
    outside_geofence: bool | None


@dataclass(frozen=True, slots=True)
class ReportPhoto:
    name: str
    jpeg: bytes | None  # the thumbnail; None when the image could not be read


@dataclass(slots=True)
class ReportContent:
    """Everything the report shows, already read from the database and the file store."""

    number: str
    status: str
    client_name: str
    object_name: str
    address: str
    contact: str
    created: datetime
    finished: datetime | None
    comments: str
    zone: str
    locale: str
    currency: str
    generated: datetime
    tasks: list[ReportTask] = field(default_factory=list)
    materials: list[ReportMaterial] = field(default_factory=list)
    materials_total: Decimal = Decimal(0)
    expenses: list[tuple[str, Decimal]] = field(default_factory=list)
    visits: list[ReportVisit] = field(default_factory=list)
    photos: list[ReportPhoto] = field(default_factory=list)
    signer_name: str | None = None
    signed_at: datetime | None = None
    signature_png: bytes | None = None


def thumbnail(data: bytes, max_side: int = THUMBNAIL_PIXELS) -> bytes | None:
    """A small JPEG of an image (``imaging.small_image``: decoded at the cheapest scale, EXIF orientation
    applied), or None when the bytes do not decode. Run it on the decode pool (``imaging.in_decoder``)."""
    try:
        rgb = small_image(data, max_side).convert("RGB")
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=80, optimize=True)
        return out.getvalue()
    except Exception:
        return None


def time_on_site(visits: Sequence[ReportVisit]) -> timedelta:
    return sum(((v.check_out - v.check_in) for v in visits if v.check_out is not None), timedelta(0))


def duration_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"
