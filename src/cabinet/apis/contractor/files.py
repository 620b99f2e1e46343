"""Attachments on the wire: the multipart upload (field ``Attachment``) read as a stream, and the download
response (streamed, its content type from the stored type, a safe ``Content-Disposition``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse

from cabinet.apis.contractor.schemas import ErrorDTO
from cabinet.core.http.middleware import allow_body_bytes
from cabinet.core.http.multipart import MultipartFile
from cabinet.domains.fieldservice.content import MEDIA_TYPES, AttachmentType
from cabinet.domains.fieldservice.errors import AttachmentTooLarge
from cabinet.domains.fieldservice.schemas import AttachmentFile

FIELD = "Attachment"
MULTIPART_OVERHEAD = 64 * 1024  # part headers, boundaries and small fields around the file
E = {"model": ErrorDTO}

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {FIELD: {"type": "string", "format": "binary", "description": "The file"}},
                }
            }
        },
    }
}

UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**E, "description": "errorCode 0: not multipart/form-data, malformed, or no file in the field Attachment"},
    415: {**E, "description": "errorCode 0: the body is not multipart/form-data"},
    422: {
        **E,
        "description": "The file is refused: errorCode 21 none of JPEG, PNG, TIFF, DOC, DOCX, XLS, XLSX, PDF, ZIP by "
        "its content (or a polyglot), 22 damaged / does not decode, 23 larger than CABINET_ATTACHMENT_MAX_BYTES, "
        "24 an image over CABINET_ATTACHMENT_MAX_PIXELS, 25 a file name that is a path or holds control characters",
    },
    503: {**E, "description": "errorCode 26: the file store is full or read-only; retry after Retry-After seconds"},
}

DOWNLOAD_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, with its type's content type and Content-Disposition: attachment",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()},
    }
}


def with_upload_body(operation: dict[str, Any]) -> dict[str, Any]:
    """A metered operation's declaration plus the multipart body in its OpenAPI document."""
    return {**operation, "openapi_extra": {**operation.get("openapi_extra", {}), **UPLOAD_BODY}}


def receive_upload(request: Request, max_bytes: int) -> MultipartFile:
    """The request's file field, to be streamed by the domain. A body declared larger than the file cap allows is
    refused before a byte is read; the body limit of this request is raised to that cap."""
    limit = max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise AttachmentTooLarge(f"the file is larger than {max_bytes} bytes")
    allow_body_bytes(request.scope, limit)
    return MultipartFile(request.stream(), request.headers.get("content-type"), field=FIELD)


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


def content_disposition(name: str) -> str:
    """RFC 6266: ``attachment`` with an ASCII fallback name and the exact name as ``filename*`` (UTF-8, percent-
    encoded), so no name can break out of the header (quotes, CR/LF, separators are never sent raw)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%;' else "_" for c in name).strip() or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
