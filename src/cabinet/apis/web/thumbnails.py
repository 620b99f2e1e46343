"""Thumbnails of image attachments for the pages: made once by the attachments service and served from the stored
copy (JPEG, or PNG with transparency; TIFF is re-encoded: browsers show no TIFF)."""

from __future__ import annotations

from fastapi.responses import Response

from cabinet.domains.fieldservice.imaging import THUMBNAIL_KINDS
from cabinet.domains.fieldservice.schemas import Thumbnail


def is_image(kind: str) -> bool:
    return kind in THUMBNAIL_KINDS


def thumbnail_response(thumb: Thumbnail) -> Response:
    return Response(
        thumb.data,
        media_type=thumb.media_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
