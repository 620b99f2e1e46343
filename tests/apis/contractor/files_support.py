"""Files for the attachment tests, built in memory: one of each accepted type, and the adversarial ones."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

from cabinet.settings import Settings

END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buffer, fmt)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    return image("JPEG", size)


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def zip_archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ooxml(main: str, part: str) -> bytes:
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.'
        f'{main}.main+xml"/></Types>'
    ).encode()
    return zip_archive({"[Content_Types].xml": types, part: b"<x/>"})


def docx() -> bytes:
    return ooxml("wordprocessingml.document", "word/document.xml")


def xlsx() -> bytes:
    return ooxml("spreadsheetml.sheet", "xl/workbook.xml")


def compound_file(stream_name: str, data: bytes = b"\x00" * 4096) -> bytes:
    """A minimal OLE2 compound file (version 3, 512-byte sectors) holding one stream of at least 4096 bytes (so it
    lives in regular sectors, not the mini stream): what DOC (``WordDocument``) and XLS (``Workbook``) are made of."""
    data = data.ljust(4096, b"\x00")
    data_sectors = -(-len(data) // 512)
    fat = [FATSECT, END] + [2 + i + 1 for i in range(data_sectors - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, END, 0, END, 0)
    struct.pack_into("<I", header, 76, 0)  # DIFAT[0]: the FAT is sector 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, FREE)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        raw[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, NOSTREAM, NOSTREAM, child)
        struct.pack_into("<IQ", raw, 116, start, size)
        return bytes(raw)

    directory = entry("Root Entry", 5, 1, END, 0) + entry(stream_name, 2, NOSTREAM, 2, len(data))
    directory += entry("", 0, NOSTREAM, 0, 0) * 2
    body = struct.pack("<128I", *fat) + directory + data.ljust(data_sectors * 512, b"\x00")
    return bytes(header) + body


def every_type() -> dict[str, bytes]:
    """One valid file of each of the nine accepted types, by expected type."""
    return {
        "JPEG": jpeg(),
        "PNG": image("PNG"),
        "TIFF": image("TIFF"),
        "DOC": compound_file("WordDocument"),
        "DOCX": docx(),
        "XLS": compound_file("Workbook"),
        "XLSX": xlsx(),
        "PDF": pdf(),
        "ZIP": zip_archive({"readme.txt": b"hello"}),
    }


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG header declaring a huge canvas of few bytes (a decompression bomb's shape)."""
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (width * 3)
    idat = compressor.compress(row * 16) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def multipart(data: bytes, name: str | None = "photo.jpg", *, field: str = "Attachment") -> dict[str, Any]:
    """httpx ``files=`` for one file field."""
    return {"files": {field: (name, data, "application/octet-stream")}}


def raw_multipart(data: bytes, disposition: str, boundary: str = "xYzBoUnDaRy") -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand (to send file names no client library would produce)."""
    body = (
        f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def blob_files(settings: Settings) -> list[str]:
    """Every file in the blob store's attachment and staging areas (payloads of the audit excluded)."""
    found: list[str] = []
    for area in ("attachments", ".staging"):
        root = Path(settings.blob_dir) / area
        if root.exists():
            found += [str(p.relative_to(settings.blob_dir)) for p in root.rglob("*") if p.is_file()]
    return sorted(found)


def isolated_settings(backend: dict[str, Any], tmp_path: Path, **overrides: Any) -> Settings:
    """The suite's settings with a data directory (so a blob store) of this test's own; same database."""
    from tests.helpers import RUN_ID, TEST_SECRET

    database_url = backend["database_url"] or f"sqlite:///{(backend['data_dir'] / 'cabinet.sqlite3').resolve()}"
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=backend["redis_url"],
        database_schema=backend["schema"],
        redis_key_prefix=f"cabinet-test-{RUN_ID}",
        secret_key=TEST_SECRET,
        log_json=True,
        log_level="WARNING",
        **overrides,
    )
