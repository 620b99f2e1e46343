"""Secrets are fingerprinted in every log line: the text rules, the standard library's records (uvicorn's access
log format included) and structlog's events."""

from __future__ import annotations

import io
import logging

import pytest
from uvicorn.logging import AccessFormatter

from cabinet.core.redaction import SecretsInLogs, fingerprint, redact, redact_event

LINK = "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJmaWVsZF9saW5rIn0.c2lnbmF0dXJlX29mX3RoZV9saW5r"
KEY = "kx7Hq2.s3cr3t_Value_Of-An-Api-Key_0123456789"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"GET /ui/link/{LINK}/tasks/4/attachments/9/thumb", LINK),
        ("GET /ui/link/not-a-jwt-but-secret-anyway/call", "not-a-jwt-but-secret-anyway"),
        (f"GET /shared/call?token={LINK}&x=1", LINK),
        ("GET /shared/call?x=1&token=opaque_token_value_42", "opaque_token_value_42"),
        (f"headers={{'authorization': 'Bearer {KEY}'}}", KEY),
        (f"Authorization: bearer {KEY}", KEY),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        (f"error=InvalidToken('{LINK}')", LINK),
        ("POST /v2.0?access_token=abcdef0123456789", "abcdef0123456789"),
    ],
)
def test_a_secret_becomes_its_fingerprint(line: str, secret: str) -> None:
    out = redact(line)
    assert secret not in out
    assert fingerprint(secret) in out or fingerprint(LINK) in out
    assert redact(out) == out  # a fingerprint is not fingerprinted again


def test_plain_text_is_left_alone() -> None:
    for text in (
        "GET /ui/calls?page=2&company_key=acme_corp",
        "the token expired; ask for a new one",
        'WWW-Authenticate: Bearer realm="cabinet"',
        "POST /call/12/templink",
    ):
        assert redact(text) == text


def test_uvicorn_access_log_records_are_redacted() -> None:
    """uvicorn's access log passes the path with its query as an argument of the record."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    plain = logging.StreamHandler(stream)
    access, app = logging.getLogger("uvicorn.access"), logging.getLogger("tests.app")
    access.addHandler(handler)
    app.addHandler(plain)
    SecretsInLogs.install()
    try:
        access.warning(
            '%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", f"/ui/link/{LINK}/call?token={LINK}", "1.1", 200
        )
        try:
            raise ValueError(f"bad link {LINK}")
        except ValueError:
            app.exception("failed for Bearer %s", KEY)
    finally:
        access.removeHandler(handler)
        app.removeHandler(plain)
    text = stream.getvalue()
    assert LINK not in text and KEY not in text
    assert f"GET /ui/link/{fingerprint(LINK)}/call?token={fingerprint(LINK)} HTTP/1.1" in text
    assert f"Bearer {fingerprint(KEY)}" in text


def test_structlog_events_are_redacted() -> None:
    event = {"event": "request", "path": f"/ui/link/{LINK}/call", "status": 200, "error": ValueError(KEY)}
    out = redact_event(None, "info", event)
    assert out["path"] == f"/ui/link/{fingerprint(LINK)}/call" and out["status"] == 200
    assert LINK not in repr(out)
