"""Thumbnails of image attachments for the pages (JPEG, PNG, TIFF re-encoded small: browsers show no TIFF)."""

from __future__ import annotations

import io

import anyio.to_thread
from fastapi.responses import Response
from PIL import Image, ImageOps

from cabinet.domains.fieldservice.schemas import AttachmentFile

IMAGE_TYPES = frozenset({"JPEG", "PNG", "TIFF"})
SIZE = (320, 320)


def is_image(kind: str) -> bool:
    return kind in IMAGE_TYPES


def _shrink(data: bytes) -> tuple[bytes, str]:
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)
        image.thumbnail(SIZE)
        out = io.BytesIO()
        if image.mode in ("RGBA", "LA", "P"):
            image.convert("RGBA").save(out, "PNG", optimize=True)
            return out.getvalue(), "image/png"
        image.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue(), "image/jpeg"


async def thumbnail_response(file: AttachmentFile) -> Response:
    """A small image of an image attachment (its bytes were checked to decode within the pixel limit at upload);
    other types answer 404 (the page shows their name instead)."""
    if not is_image(file.type):
        async for _ in file.chunks:  # let the store close the stream
            pass
        return Response(status_code=404)
    data = b"".join([chunk async for chunk in file.chunks])
    body, media = await anyio.to_thread.run_sync(_shrink, data)
    return Response(
        body,
        media_type=media,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
