"""Secrets never reach a log line in full: field-link tokens (``/ui/link/{token}``, ``?token=``), bearer values
(``Authorization: Bearer …``, ``Basic …``), API keys and any JWT are replaced by a short fingerprint,
``fp:`` + the first 8 hex digits of their SHA-256. The same secret always gives the same fingerprint, so log
lines of one link or token can still be matched up, and nothing in the line lets anyone use it.

``redact`` works on any text; ``SecretsInLogs`` applies it to every log record of the process (the standard
library's, so uvicorn's access and error logs too), and ``redact_event`` to every structlog event.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any

FINGERPRINT_HEX = 8

# a path segment after /link/ (the web pages' field-link page, /ui/link/{token}/...)
_LINK_PATH = re.compile(r"(/link/)([^/?#\s\"']+)")
# query parameters and form fields that carry a credential (token=, access_token=, key=, password=, ...)
_QUERY = re.compile(
    r"(?i)((?:^|[?&;\s\"'{,])(?:token|access_token|service_token|refresh_token|api_key|apikey|key|secret|password|"
    r"session|signature)=)([^&\s\"'#,}]+)"
)
# an Authorization header's value (any scheme), in a header dump, a repr or plain text
_AUTH = re.compile(r"(?i)\b(bearer|basic)(\s+|%20)([A-Za-z0-9._~+/=:-]{8,})")
# a JWT anywhere (three base64url parts, the first one a JSON header: "eyJ")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")
_DONE = re.compile(rf"^fp:[0-9a-f]{{{FINGERPRINT_HEX}}}$")


def fingerprint(secret: str) -> str:
    return "fp:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_HEX]


def _swap(match: re.Match[str], group: int) -> str:
    value = match.group(group)
    if _DONE.match(value):
        return match.group(0)
    start, end = match.span(group)
    whole_start = match.start(0)
    text = match.group(0)
    return text[: start - whole_start] + fingerprint(value) + text[end - whole_start :]


def redact(text: str) -> str:
    """``text`` with every secret it carries replaced by its fingerprint."""
    if not text:
        return text
    text = _JWT.sub(lambda m: fingerprint(m.group(0)), text)
    text = _LINK_PATH.sub(lambda m: _swap(m, 2), text)
    text = _QUERY.sub(lambda m: _swap(m, 2), text)
    return _AUTH.sub(lambda m: _swap(m, 3), text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    if isinstance(value, tuple):
        return tuple(_redact_value(v) for v in value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))  # an exception, a URL object, ...: its text, redacted


def redact_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: every value of the event, redacted (run it last before the renderer)."""
    return {key: _redact_value(value) for key, value in event.items()}


class SecretsInLogs:
    """A log record factory that redacts the message, its arguments (uvicorn's access log passes the path as one)
    and its exception text before any handler or formatter sees them. Installed once per process."""

    _installed: SecretsInLogs | None = None

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self._inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._inner(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            record.args = _redact_value(record.args)
            # a secret split between the message and an argument ("Bearer %s"): the whole line, formatted now
            # (uvicorn's access formatter reads its arguments one by one: each of them is whole already)
            if record.name != "uvicorn.access":
                try:
                    line = record.getMessage()
                except (TypeError, ValueError, KeyError):  # a malformed record: logging reports it as it is
                    line = None
                if line is not None and redact(line) != line:
                    record.msg, record.args = redact(line), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    @classmethod
    def install(cls) -> None:
        current = logging.getLogRecordFactory()
        if isinstance(current, SecretsInLogs):
            return
        logging.setLogRecordFactory(cls(current))
