"""The evidence bundle of a call: one ZIP with the work report (PDF), every attachment's original, every
signature (the replaced ones too) and ``manifest.json``: each file's name, size and SHA-256, the call's visits.

Streamed with the standard library's ``zipfile`` writing to a pipe that is emptied after every chunk: a file is
read from the store 64 KiB at a time and leaves as it is read, so memory stays bounded whatever the files'
sizes (the ZIP carries sizes and CRCs in data descriptors, as a non-seekable writer must). The manifest comes
first and gives the SHA-256 recorded when each file was received, so a reader can check what it got against
what the service took in; the PDF's is of the bytes in the bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cabinet.core.storage import LocalBlobStore

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class BundleFile:
    """A stored file to put in the bundle, with what the manifest says of it."""

    name: str  # its path in the ZIP
    blob_key: str
    size: int
    sha256: str
    stamp: datetime
    about: dict[str, Any]  # what the file is (kind, ids, names, times), for the manifest


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable sink whose bytes are taken out after each write (zipfile then writes data
    descriptors instead of seeking back)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def _info(name: str, stamp: datetime, size: int, *, deflate: bool) -> zipfile.ZipInfo:
    local = stamp.astimezone(UTC)
    info = zipfile.ZipInfo(
        name, date_time=(max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)
    )
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED  # photos and PDFs are compressed
    info.file_size = size  # lets zipfile choose ZIP64 before the first byte
    info.external_attr = 0o644 << 16
    return info


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def manifest(
    call: Any,
    generated: datetime,
    report_name: str,
    report: bytes,
    files: list[BundleFile],
    missing: list[BundleFile],
    visits: list[Any],
) -> bytes:
    entries = [
        {"name": report_name, "size": len(report), "sha256": hashlib.sha256(report).hexdigest(), "kind": "workReport"}
    ]
    entries += [{"name": f.name, "size": f.size, "sha256": f.sha256, **f.about} for f in files]
    document = {
        "formatVersion": FORMAT_VERSION,
        "call": {"id": call.id, "number": call.number, "status": call.status},
        "generated": iso(generated),
        "files": entries,
        "missing": [{"name": f.name, "size": f.size, "sha256": f.sha256, **f.about} for f in missing],
        "visits": [
            {
                "id": v.id,
                "checkInAt": iso(v.check_in_at),
                "checkInClientTime": iso(v.check_in_client_at),
                "checkInLocation": _location(v.check_in_latitude, v.check_in_longitude, v.check_in_accuracy),
                "checkOutAt": iso(v.check_out_at),
                "checkOutClientTime": iso(v.check_out_client_at),
                "checkOutLocation": _location(v.check_out_latitude, v.check_out_longitude, v.check_out_accuracy),
                "distanceMeters": v.distance_meters,
                "outsideGeofence": v.outside_geofence,
            }
            for v in visits
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _location(latitude: float | None, longitude: float | None, accuracy: float | None) -> dict[str, Any] | None:
    if latitude is None or longitude is None:
        return None
    return {"latitude": latitude, "longitude": longitude, "accuracyMeters": accuracy}


async def stream(
    blobs: LocalBlobStore,
    generated: datetime,
    head: list[tuple[str, bytes]],
    files: list[BundleFile],
) -> AsyncIterator[bytes]:
    """The ZIP's bytes: ``head`` (name, bytes: the manifest, the PDF) in memory, then each stored file streamed from
    the store. A file gone from the store since the manifest was written is left out."""
    pipe = _Pipe()
    archive = zipfile.ZipFile(pipe, "w")
    for name, data in head:
        archive.writestr(_info(name, generated, len(data), deflate=name.endswith(".json")), data)
        yield pipe.take()
    for entry in files:
        chunks = await blobs.open_stream(entry.blob_key)
        if chunks is None:
            continue
        with archive.open(_info(entry.name, entry.stamp, entry.size, deflate=False), "w") as sink:
            async for chunk in chunks:
                sink.write(chunk)
                yield pipe.take()
        yield pipe.take()
    archive.close()
    yield pipe.take()
