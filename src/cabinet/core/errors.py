"""One error vocabulary for every API.

Domains raise ``CabinetError`` subclasses; each has a stable, unique ``mnemonic`` and a transport-neutral
``kind``. Each API's ``errors.py`` renders them in that API's own wire format. Nothing below ``apis/`` knows
about HTTP status codes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar


class ErrorKind(enum.Enum):
    INVALID = "invalid"  # input breaks a documented rule
    UNAUTHENTICATED = "unauthenticated"  # no, bad, expired or revoked credentials
    FORBIDDEN = "forbidden"  # authenticated, but the role or state does not allow it
    NOT_FOUND = "not_found"  # absent, or another tenant's (never "forbidden": no existence leak)
    CONFLICT = "conflict"  # duplicate or wrong state
    QUOTA_EXCEEDED = "quota_exceeded"  # a points budget is spent (payment required)
    THROTTLED = "throttled"  # too many requests / attempts
    TOO_LARGE = "too_large"  # request body over the limit
    UNSUPPORTED_MEDIA = "unsupported_media"  # content type the endpoint does not take
    UNPROCESSABLE = "unprocessable"  # a well-formed request whose content is refused (an unreadable file)
    UNAVAILABLE = "unavailable"  # a backing service is down
    INTERNAL = "internal"  # a bug


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One problem with one input field (``entity`` is a dotted path such as ``body.username``)."""

    entity: str | None
    message: str


class CabinetError(Exception):
    mnemonic: ClassVar[str] = "internal_error"
    kind: ClassVar[ErrorKind] = ErrorKind.INTERNAL
    default_message: ClassVar[str] = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        issues: list[FieldIssue] | None = None,
        resource: str | None = None,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.issues = issues or []
        self.resource = resource
        self.retry_after = retry_after
        self.extra = extra or {}
        super().__init__(self.message)


class InvalidInput(CabinetError):
    mnemonic = "invalid_input"
    kind = ErrorKind.INVALID
    default_message = "Bad Request"


class NotAuthenticated(CabinetError):
    mnemonic = "not_authenticated"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Authentication required"


class PermissionDenied(CabinetError):
    mnemonic = "permission_denied"
    kind = ErrorKind.FORBIDDEN
    default_message = "Forbidden"


class ResourceNotFound(CabinetError):
    mnemonic = "resource_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Not found"


class RequestTooLarge(CabinetError):
    mnemonic = "request_too_large"
    kind = ErrorKind.TOO_LARGE
    default_message = "Request body is too large"


class UnsupportedMediaType(CabinetError):
    mnemonic = "unsupported_media_type"
    kind = ErrorKind.UNSUPPORTED_MEDIA
    default_message = "Unsupported content type"


class ServiceUnavailable(CabinetError):
    mnemonic = "service_unavailable"
    kind = ErrorKind.UNAVAILABLE
    default_message = "Service temporarily unavailable"


def all_error_classes() -> list[type[CabinetError]]:
    """Every CabinetError subclass that is loaded (used by the mnemonic-uniqueness test)."""
    seen: list[type[CabinetError]] = []
    stack: list[type[CabinetError]] = [CabinetError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen
