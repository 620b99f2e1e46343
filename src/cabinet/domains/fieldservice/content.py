"""What an uploaded file is, decided by its content (never by its name or the client's content type).

The nine types of the seed: JPEG, PNG, TIFF (must decode with Pillow, within the configured pixel limit,
checked from the header before any decoding), PDF (header and end-of-file marker), ZIP (a readable central
directory), DOCX / XLSX (a ZIP whose ``[Content_Types].xml`` declares a Word document / Excel workbook and holds
its main part), DOC / XLS (an OLE2 compound file with a ``WordDocument`` / ``Workbook`` stream, read with
olefile). Anything else is refused, and so is a polyglot: a file that also reads as a ZIP archive (a JPEG with a
ZIP appended) or that carries a PDF or HTML header where its own type has none.

Blocking (file reads, image decoding): run it in a worker thread. Decodes are bounded by ``max_pixels`` and
JPEGs decode at 1/8 scale (every byte of the entropy-coded data is still read, so truncation is caught).
"""

from __future__ import annotations

import enum
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import olefile
from PIL import Image, UnidentifiedImageError

from cabinet.domains.fieldservice.errors import AttachmentImageTooLarge, AttachmentTypeRefused, AttachmentUnreadable

HEAD_BYTES = 1024
MAX_ZIP_ENTRIES = 100_000
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
MAX_TIFF_FRAMES = 64


class AttachmentType(enum.StrEnum):
    JPEG = "JPEG"
    PNG = "PNG"
    TIFF = "TIFF"
    DOC = "DOC"
    DOCX = "DOCX"
    XLS = "XLS"
    XLSX = "XLSX"
    PDF = "PDF"
    ZIP = "ZIP"


MEDIA_TYPES: dict[AttachmentType, str] = {
    AttachmentType.JPEG: "image/jpeg",
    AttachmentType.PNG: "image/png",
    AttachmentType.TIFF: "image/tiff",
    AttachmentType.DOC: "application/msword",
    AttachmentType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    AttachmentType.XLS: "application/vnd.ms-excel",
    AttachmentType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    AttachmentType.PDF: "application/pdf",
    AttachmentType.ZIP: "application/zip",
}

EXTENSIONS: dict[AttachmentType, str] = {t: t.value.lower() for t in AttachmentType} | {AttachmentType.JPEG: "jpg"}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_FORMATS = {AttachmentType.JPEG: "JPEG", AttachmentType.PNG: "PNG", AttachmentType.TIFF: "TIFF"}
_WORD_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_EXCEL_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_FOREIGN_HEADERS = (b"%pdf-", b"<html", b"<!doctype html", b"<script", b"<svg", b"<?php")


def inspect(path: Path, *, max_pixels: int) -> AttachmentType:
    """The file's type, or a refusal: AttachmentTypeRefused (not one of the nine, or a polyglot),
    AttachmentUnreadable (damaged, truncated, does not decode), AttachmentImageTooLarge (over ``max_pixels``)."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    kind = _by_magic(head)
    if kind is None:
        raise AttachmentTypeRefused("the content is none of JPEG, PNG, TIFF, DOC, DOCX, XLS, XLSX, PDF, ZIP")
    lowered = head.lower()
    if any(marker in lowered for marker in _FOREIGN_HEADERS if not (kind is AttachmentType.PDF and marker == b"%pdf-")):
        raise AttachmentTypeRefused("the file carries the header of another format (a polyglot)")
    if kind is AttachmentType.ZIP:
        return _zip_family(path)
    if zipfile.is_zipfile(path):
        raise AttachmentTypeRefused(f"the {kind.value} file is also a ZIP archive (a polyglot)")
    if kind in _IMAGE_FORMATS:
        _check_image(path, kind, max_pixels)
    elif kind is AttachmentType.PDF:
        _check_pdf(path)
    else:
        kind = _ole_kind(path)
    return kind


def _by_magic(head: bytes) -> AttachmentType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return AttachmentType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return AttachmentType.PNG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return AttachmentType.TIFF
    if head.startswith(b"%PDF-"):
        return AttachmentType.PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return AttachmentType.ZIP
    if head.startswith(_OLE_MAGIC):
        return AttachmentType.DOC  # DOC or XLS: told apart by _ole_kind
    return None


def _check_image(path: Path, kind: AttachmentType, max_pixels: int) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=[_IMAGE_FORMATS[kind]]) as image:
                width, height = image.size
                if width < 1 or height < 1:
                    raise AttachmentUnreadable("the image has no pixels")
                if width * height > max_pixels:
                    raise AttachmentImageTooLarge(
                        f"the image is {width}x{height} pixels; at most {max_pixels} pixels are accepted"
                    )
                if kind is AttachmentType.TIFF and getattr(image, "n_frames", 1) > MAX_TIFF_FRAMES:
                    raise AttachmentImageTooLarge(f"at most {MAX_TIFF_FRAMES} TIFF pages are accepted")
                if kind is AttachmentType.JPEG:
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise AttachmentImageTooLarge(f"the image is too large to decode safely: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise AttachmentUnreadable(f"the {kind.value} image does not decode: {exc}") from exc


def _check_pdf(path: Path) -> None:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - HEAD_BYTES))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise AttachmentUnreadable("the PDF has no end-of-file marker (truncated)")


def _zip_family(path: Path) -> AttachmentType:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                raise AttachmentTypeRefused(f"the archive has more than {MAX_ZIP_ENTRIES} entries")
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names:
                return AttachmentType.ZIP
            with archive.open("[Content_Types].xml") as fh:
                declared = fh.read(MAX_CONTENT_TYPES_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise AttachmentUnreadable(f"the ZIP archive does not read: {exc}") from exc
    if _WORD_MAIN in declared and "word/document.xml" in names:
        return AttachmentType.DOCX
    if _EXCEL_MAIN in declared and "xl/workbook.xml" in names:
        return AttachmentType.XLSX
    return AttachmentType.ZIP


def _ole_kind(path: Path) -> AttachmentType:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("WordDocument"):
                return AttachmentType.DOC
            if ole.exists("Workbook") or ole.exists("Book"):
                return AttachmentType.XLS
    except (OSError, ValueError, IndexError, struct.error, EOFError) as exc:
        raise AttachmentUnreadable(f"the compound (OLE2) file does not read: {exc}") from exc
    raise AttachmentTypeRefused("the compound (OLE2) file is neither a Word (DOC) nor an Excel (XLS) document")
