"""Attachments on the wire: the multipart upload (field ``Attachment``) read as a stream, and the download
response (streamed, its content type from the stored type, a safe ``Content-Disposition``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from cabinet.apis.contractor.schemas import ErrorDTO
from cabinet.apis.shared.files import content_disposition, file_response
from cabinet.apis.shared.files import receive_upload as receive_file
from cabinet.core.http.multipart import MultipartFile
from cabinet.domains.fieldservice.content import MEDIA_TYPES

FIELD = "Attachment"
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


SIGNATURE_FILE_FIELD = "file"
SIGNER_NAME_FIELD = "signerName"
SIGNATURE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [SIGNATURE_FILE_FIELD, SIGNER_NAME_FIELD],
                    "properties": {
                        SIGNATURE_FILE_FIELD: {"type": "string", "format": "binary", "description": "The PNG"},
                        SIGNER_NAME_FIELD: {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 200,
                            "description": "The customer's name as they typed it",
                        },
                    },
                }
            }
        },
    }
}


def with_body(operation: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A metered operation's declaration plus a hand-written request body in its OpenAPI document."""
    return {**operation, "openapi_extra": {**operation.get("openapi_extra", {}), **body}}


def with_upload_body(operation: dict[str, Any]) -> dict[str, Any]:
    """A metered operation's declaration plus the multipart body (field Attachment) in its OpenAPI document."""
    return with_body(operation, UPLOAD_BODY)


def receive_upload(
    request: Request, max_bytes: int, *, field: str = FIELD, text_fields: tuple[str, ...] = ()
) -> MultipartFile:
    """The request's file field (``Attachment`` unless named), streamed by the domain (apis/shared/files.py)."""
    return receive_file(request, max_bytes, field=field, text_fields=text_fields)


__all__ = ["DOWNLOAD_OK", "UPLOAD_ERRORS", "content_disposition", "file_response", "receive_upload", "with_upload_body"]
