"""Web sessions and CSRF tokens.

A session is a cookie carrying the token the identity core issues at web sign-in (a JWT of the web's own type
``web``, with the user's token version ``ver``; the APIs refuse it as a bearer token): resolving it is
``IdentityService.resolve_web_session``, so a password change, a lock or a role/company change — which bump the
version — end every web session of that user as they end API tokens, and signing out ends this one session on the
server (``end_web_session``: a copied cookie is refused afterwards).
The cookie is HttpOnly, SameSite=Lax, Secure (``CABINET_WEB_COOKIE_SECURE``), scoped to ``/ui``.

CSRF: every unsafe request must carry a token (form field ``csrf_token`` or header ``X-CSRF-Token``, which htmx
sends) equal to ``HMAC(k, binding)``, where ``k`` is derived from the server secret for this one purpose and the
binding is what authenticates the request: the session token; the field link's token on ``/link/...``; a random
anonymous cookie before sign-in (the login form). Nothing is stored; a token is useless with another session.

A secret made by a POST (a new API key, a field link) reaches the page the POST redirects to in a once-only
cookie: sealed with AES-GCM under a key derived from the server secret, bound to the session and to that page's
path, HttpOnly, SameSite=Strict, scoped to the page and expiring in two minutes; the page shows it and deletes the
cookie, so a reload shows nothing and mints nothing (Post/Redirect/Get).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request
from starlette.responses import Response

from cabinet.core.errors import CabinetError, ErrorKind

SESSION_COOKIE = "cabinet_session"
ANON_COOKIE = "cabinet_anon"
FLASH_COOKIE = "cabinet_flash"
COOKIE_PATH = "/ui"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_LABEL = b"cabinet/web-csrf/v1"
ONCE_COOKIE = "cabinet_once"
ONCE_LABEL = b"cabinet/web-once/v1"
ONCE_SECONDS = 120
FORM_COOKIE = "cabinet_form"
FORM_LABEL = b"cabinet/web-form/v1"
FORM_COOKIE_MAX = 3900  # a browser keeps a cookie of up to 4096 bytes, name and attributes included
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(CabinetError):
    """An unsafe web request without the token of its session (a forged or stale form)."""

    mnemonic = "web_csrf_rejected"
    kind = ErrorKind.FORBIDDEN
    default_message = "This form has expired or did not come from this site: reload the page and try again"


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    secure: bool
    session_seconds: int


class CsrfGuard:
    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, CSRF_LABEL, hashlib.sha256).digest()

    def token(self, binding: str) -> str:
        return hmac.new(self._key, binding.encode(), hashlib.sha256).hexdigest()

    def valid(self, binding: str | None, presented: str | None) -> bool:
        if not binding or not presented:
            return False
        return hmac.compare_digest(self.token(binding), presented)


class OnceSealer:
    """Seals a value for one showing on one page of one session (see the module's text): a new secret, or a
    form's input and errors (``forms``, under its own label)."""

    def __init__(self, secret: bytes, label: bytes = ONCE_LABEL, max_cookie: int = 2048) -> None:
        self._aead = AESGCM(hmac.new(secret, label, hashlib.sha256).digest())
        self._max_cookie = max_cookie

    def seal(self, value: str, path: str, binding: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), f"{path}\n{binding}".encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, cookie: str | None, path: str, binding: str | None) -> str | None:
        if not cookie or not binding or len(cookie) > self._max_cookie:
            return None
        try:
            raw = base64.urlsafe_b64decode(cookie.encode())
            return self._aead.decrypt(raw[:12], raw[12:], f"{path}\n{binding}".encode()).decode()
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
            return None


def binding_of(request: Request) -> str | None:
    """What authenticates this request, for its CSRF token (see the module's text)."""
    path = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    local = path[len(root) :] if root and path.startswith(root) else path
    if local.startswith("/link/"):
        return "link:" + local.split("/", 3)[2]
    if local == "/login":
        anon = request.cookies.get(ANON_COOKIE)
        return "anon:" + anon if anon else None
    session = request.cookies.get(SESSION_COOKIE)
    return "session:" + session if session else None


def set_session(response: Response, token: str, expires_at: datetime, policy: CookiePolicy) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=policy.session_seconds,
        expires=expires_at,
        path=COOKIE_PATH,
        secure=policy.secure,
        httponly=True,
        samesite="lax",
    )


def clear_session(response: Response, policy: CookiePolicy) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=policy.secure, httponly=True, samesite="lax")
