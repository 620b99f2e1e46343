"""HTTP glue shared by the REST APIs: status per error kind, and validation-error flattening.

Each API renders bodies in its own format (its ``errors.py``); this module only knows HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy.exc
from limits.errors import StorageError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cabinet.core.errors import CabinetError, ErrorKind, FieldIssue, ServiceUnavailable

HTTP_STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.QUOTA_EXCEEDED: 402,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.UNPROCESSABLE: 422,
    ErrorKind.THROTTLED: 429,
    ErrorKind.INTERNAL: 500,
    ErrorKind.UNAVAILABLE: 503,
}


def status_of(error: CabinetError) -> int:
    return HTTP_STATUS_BY_KIND[error.kind]


# A backing service that is away (Redis, the database, its pool) is a 503 in the API's own format, not a 500:
# the request may be retried, and nothing was half-done (units of work roll back).
_UNAVAILABLE: tuple[tuple[type[BaseException], str], ...] = (
    (StorageError, "The limits store (Redis) is unreachable; quotas and limits cannot be checked"),
    (RedisConnectionError, "The limits store (Redis) is unreachable; quotas and limits cannot be checked"),
    (RedisTimeoutError, "The limits store (Redis) did not answer in time"),
    (sqlalchemy.exc.TimeoutError, "The database is busy: no connection became free in time"),
    (sqlalchemy.exc.InterfaceError, "The database connection was lost"),
    (ConnectionError, "A backing service is unreachable"),
    (TimeoutError, "A backing service did not answer in time"),
)


# The classes those errors come as. Each API registers its last-resort handler for them too, so that the 503 is
# answered by Starlette's exception middleware: its handler for ``Exception`` runs in the outermost middleware,
# which re-raises after answering, and uvicorn then closes the keep-alive connection (the client's next request
# on it fails: nginx answers it 502) and logs the 503 as an "Exception in ASGI application".
# (DBAPIError: an OperationalError or an invalidated connection may say the database is away, see below.)
BACKING_SERVICE_ERRORS: tuple[type[BaseException], ...] = (
    *(kind for kind, _ in _UNAVAILABLE),
    sqlalchemy.exc.DBAPIError,
)


def handle_backing_service_errors(app: Any, handler: Any) -> None:
    """Register ``handler`` (the API's handler for unexpected errors, which answers 503 when a backing service
    is away) for the classes above, so those answers keep the connection open."""
    for kind in BACKING_SERVICE_ERRORS:
        app.add_exception_handler(kind, handler)


# OperationalError also means "no such column" (a bug, a 500): only these say the database is away or busy
_DB_AWAY = re.compile(
    r"database is locked|unable to open|disk I/O|connection|could not connect|the database system is|"
    r"terminating|server closed|timeout|timed out",
    re.IGNORECASE,
)


def unavailable_cause(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 to answer when ``exc`` (or what caused it) says a backing service is away."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, sqlalchemy.exc.DBAPIError) and seen.connection_invalidated:
            return ServiceUnavailable("The database connection was lost", retry_after=1)
        if isinstance(seen, sqlalchemy.exc.OperationalError) and _DB_AWAY.search(str(seen.orig)):
            return ServiceUnavailable("The database is unreachable or busy", retry_after=1)
        if isinstance(seen, (ConnectionError, TimeoutError)) and _raised_by_database_driver(seen):
            # asyncpg's connect raises the socket's own error (ConnectionRefusedError ...), unwrapped by SQLAlchemy
            if isinstance(seen, TimeoutError):
                return ServiceUnavailable("The database did not answer in time", retry_after=1)
            return ServiceUnavailable("The database is unreachable", retry_after=1)
        for kind, message in _UNAVAILABLE:
            if isinstance(seen, kind):
                return ServiceUnavailable(message, retry_after=1)
        seen = seen.__cause__ or seen.__context__
    return None


_DATABASE_MODULES = ("asyncpg", "aiosqlite", "sqlalchemy")


def _raised_by_database_driver(exc: BaseException) -> bool:
    """Whether ``exc`` was raised from inside the database driver or SQLAlchemy's pool (its traceback says)."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DATABASE_MODULES):
            return True
        tb = tb.tb_next
    return False


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
