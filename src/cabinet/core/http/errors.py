"""HTTP glue shared by the REST APIs: status per error kind, and validation-error flattening.

Each API renders bodies in its own format (its ``errors.py``); this module only knows HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cabinet.core.errors import CabinetError, ErrorKind, FieldIssue

HTTP_STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.QUOTA_EXCEEDED: 402,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.THROTTLED: 429,
    ErrorKind.INTERNAL: 500,
    ErrorKind.UNAVAILABLE: 503,
}


def status_of(error: CabinetError) -> int:
    return HTTP_STATUS_BY_KIND[error.kind]


def issues_from_validation(errors: Sequence[Any], *, limit: int = 1000) -> list[FieldIssue]:
    """Pydantic/FastAPI validation errors as (dotted location, message) pairs."""
    issues: list[FieldIssue] = []
    for err in list(errors)[:limit]:
        loc = ".".join(str(part) for part in err.get("loc", ()) if part != "")
        msg = str(err.get("msg") or "invalid value")
        issues.append(FieldIssue(entity=loc[:1024] or None, message=msg[:2048]))
    return issues


def cabinet_cause(exc: BaseException) -> CabinetError | None:
    """A CabinetError that FastAPI wrapped while reading the body (e.g. the body-size limit)."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, CabinetError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def route_operation(request: Any) -> str | None:
    """The matched route's operationId, for errors raised before the API's dependency named the operation (a
    body that is not JSON fails while FastAPI reads it). Not for a 405: that route is another method's."""
    route = request.scope.get("route")
    if route is None or request.method not in (getattr(route, "methods", None) or ()):
        return None
    return getattr(route, "operation_id", None)
