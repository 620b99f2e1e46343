"""Structured logs (structlog): JSON lines carrying the trace codes of the running request."""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import threading
from typing import Any, TextIO

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


class LineWriter:
    """structlog's logger: each record goes out whole, in one ``write(2)`` of its line.

    structlog's ``PrintLogger`` prints (``write(message)``, then ``write("\\n")``) into ``sys.stderr``'s text
    buffer, which flushes a record over 8 KiB in several writes, and uvicorn's worker processes share one stderr
    pipe: another worker's record could land between the pieces (two JSON records were once found joined on
    one line in CI). Here a record is one write straight to the descriptor, under a POSIX lock on the pipe or
    file (``lockf``: per process, so the workers exclude each other) and, for the threads of this process, a
    thread lock. Every record takes the lock, short ones too: a write of up to ``PIPE_BUF`` is atomic, but it can
    still land between the pieces of another process's longer record (a traceback) when the pipe is full."""

    def __init__(self, file: TextIO) -> None:
        try:
            self._fd: int | None = file.fileno()
        except (AttributeError, OSError, ValueError):  # not a real file (a test's capture): write it whole
            self._fd = None
        self._file = file
        self._lock = threading.Lock()

    def msg(self, message: str) -> None:
        line = message + "\n"
        with self._lock:
            if self._fd is None:
                self._file.write(line)
                self._file.flush()
                return
            data = memoryview(line.encode("utf-8", "backslashreplace"))
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX)
            except OSError:  # a descriptor that takes no lock (a terminal): write it anyway
                self._write(data)
                return
            try:
                self._write(data)
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def _write(self, data: memoryview) -> None:
        assert self._fd is not None
        while data:  # a short write only when interrupted or the pipe was full
            data = data[os.write(self._fd, data) :]

    log = debug = info = warn = warning = error = critical = exception = fatal = failure = err = msg


def _line_writer(*_: Any) -> LineWriter:
    return LineWriter(sys.stderr)


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
        logger_factory=_line_writer,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
