"""Structured logs (structlog): JSON lines carrying the trace codes of the running request."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from cabinet.core.redaction import SecretsInLogs, redact_event
from cabinet.core.tracing import active_trace


def _add_trace(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    trace = active_trace()
    if trace is not None:
        event.setdefault("process_code", str(trace.process_code))
        event.setdefault("request_code", str(trace.request_code))
        if trace.operation:
            event.setdefault("operation", trace.operation)
        if trace.username:
            event.setdefault("username", trace.username)
    return event


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """structlog's events and the standard library's records (uvicorn's access and error logs) alike go out with
    every secret in them replaced by a fingerprint (``cabinet.core.redaction``)."""
    SecretsInLogs.install()
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
        structlog.processors.format_exc_info,
        redact_event,  # last: the exception text too
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
