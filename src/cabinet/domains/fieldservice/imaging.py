"""Decoding images of attachments, with a bound on memory: thumbnails for the pages and the work report.

Decoding is what costs memory (a 6000 x 6000 PNG is 144 MB of pixels in Pillow however small the file), so

* every decode runs on one small thread pool of its own (``DECODES_AT_ONCE`` threads per process): however many
  requests ask at once, at most that many images are in memory, and their memory is reused by the same threads
  (the C allocator keeps a freed block in the arena of the thread that freed it);
* a JPEG is decoded at the smallest DCT scale that still covers the target (``draft``), and any image is reduced
  in whole steps while it is scaled (``thumbnail`` with ``reducing_gap``); EXIF orientation is applied to the
  small result, not to the full image;
* a page's thumbnail is made once and stored as a blob next to its original (``thumbnail_key``): later requests
  read the stored copy and decode nothing (``AttachmentService.thumbnail``).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from PIL import Image, ImageOps

T = TypeVar("T")
DECODES_AT_ONCE = 1
THUMBNAIL_SIDE = 320
THUMBNAIL_KINDS = frozenset({"JPEG", "PNG", "TIFF"})
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_decoder = ThreadPoolExecutor(max_workers=DECODES_AT_ONCE, thread_name_prefix="image-decode")


async def in_decoder(fn: Callable[..., T], *args: object) -> T:
    """Run a decoding function on the process's decode pool (at most ``DECODES_AT_ONCE`` at a time)."""
    return await asyncio.get_running_loop().run_in_executor(_decoder, fn, *args)


def thumbnail_key(blob_key: str) -> str:
    """Where an attachment's page thumbnail is stored."""
    return f"thumbnails/{blob_key}.thumb"


def thumbnail_media_type(data: bytes) -> str:
    return "image/png" if data.startswith(PNG_MAGIC) else "image/jpeg"


def small_image(data: bytes, side: int) -> Image.Image:
    """The image in ``data`` scaled to fit ``side`` x ``side``, upright; decoded at the cheapest scale Pillow has
    for it (JPEG: DCT scaling; others: a whole-step reduce while scaling)."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            image.draft("RGB", (side, side))
        image.thumbnail((side, side), reducing_gap=2.0)
        return ImageOps.exif_transpose(image)


def make_thumbnail(data: bytes, side: int = THUMBNAIL_SIDE) -> bytes:
    """A page thumbnail: PNG when the image has transparency or a palette, else JPEG (browsers show no TIFF)."""
    image = small_image(data, side)
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image.convert("RGBA").save(out, "PNG", optimize=True)
    else:
        image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()
