"""Attachments over HTTP, for the contractor API and the web pages: the multipart upload read as a stream by the
domain, and the download response (streamed, its type's content type, a safe ``Content-Disposition``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import StreamingResponse

from cabinet.core.http.middleware import allow_body_bytes
from cabinet.core.http.multipart import MultipartFile
from cabinet.domains.fieldservice.content import MEDIA_TYPES, AttachmentType
from cabinet.domains.fieldservice.errors import AttachmentTooLarge
from cabinet.domains.fieldservice.schemas import AttachmentFile

MULTIPART_OVERHEAD = 64 * 1024  # part headers, boundaries and small fields around the file


UPLOAD_STATE = "upload"  # request.state.upload: the request's MultipartFile (an idempotency key's digest reads it)


def receive_upload(request: Request, max_bytes: int, *, field: str, text_fields: tuple[str, ...] = ()) -> MultipartFile:
    """The request's file field ``field`` (and the small text fields ``text_fields``), to be streamed by the
    domain. A body declared larger than the file cap allows is refused before a byte is read; the body limit of
    this request is raised to that cap."""
    limit = max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise AttachmentTooLarge(f"the file is larger than {max_bytes} bytes")
    allow_body_bytes(request.scope, limit)
    upload = MultipartFile(request.stream(), request.headers.get("content-type"), field=field, text_fields=text_fields)
    setattr(request.state, UPLOAD_STATE, upload)
    return upload


def file_response(file: AttachmentFile) -> StreamingResponse:
    headers = {
        "Content-Length": str(file.size),
        "Content-Disposition": content_disposition(file.name),
        "ETag": f'"{file.sha256}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return StreamingResponse(file.chunks, media_type=MEDIA_TYPES[AttachmentType(file.type)], headers=headers)


def archive_response(name: str, chunks: AsyncIterator[bytes]) -> StreamingResponse:
    """A ZIP made while it is sent (no length known ahead: chunked)."""
    headers = {
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return StreamingResponse(chunks, media_type="application/zip", headers=headers)


def content_disposition(name: str) -> str:
    """RFC 6266: ``attachment`` with an ASCII fallback name and the exact name as ``filename*`` (UTF-8, percent-
    encoded), so no name can break out of the header (quotes, CR/LF, separators are never sent raw)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%;' else "_" for c in name).strip() or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
