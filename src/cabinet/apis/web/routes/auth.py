"""Signing in and out. Sign-in is the identity core's (argon2, throttling per username and per address)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from cabinet.apis.web.deps import ServicesDep, anon_cookie, home_of, page, redirect, web_of
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.apis.web.session import ANON_COOKIE, COOKIE_PATH, SESSION_COOKIE, clear_session, set_session
from cabinet.core.errors import CabinetError, ErrorKind
from cabinet.core.principal import Principal
from cabinet.domains.identity.errors import AccessTokenExpired, AccessTokenInvalid, AccessTokenRevoked, AccountInactive

router = page_router()

USERNAME_MAX = 256
PASSWORD_MAX = 256


def safe_next(value: str | None) -> str | None:
    """A local page to return to after sign-in (never another site: no scheme, no //, no backslash)."""
    if not value or len(value) > 2000 or not value.startswith("/ui/") or value.startswith("/ui/login"):
        return None
    if "//" in value or "\\" in value or any(ord(c) < 32 for c in value):
        return None
    return value


async def _current(request: Request, svc: ServicesDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await svc.identity.resolve_web_session(token)
    except (AccessTokenInvalid, AccessTokenExpired, AccessTokenRevoked, AccountInactive):
        return None


@router.get("/", operation_id="ui_home")
async def home(request: Request, svc: ServicesDep) -> Response:
    principal = await _current(request, svc)
    return RedirectResponse(home_of(principal) if principal else "/ui/login", status_code=303)


def _login_page(request: Request, *, status: int = 200, error: str | None = None, username: str = "") -> Response:
    anon, fresh = anon_cookie(request)
    web = web_of(request)
    response = page(
        request,
        "login.html",
        status,
        csrf=web.csrf.token("anon:" + anon),
        error=error,
        username=username,
        next=safe_next(request.query_params.get("next")) or "",
    )
    if fresh:
        response.set_cookie(
            ANON_COOKIE, anon, path=COOKIE_PATH, secure=web.cookies.secure, httponly=True, samesite="lax"
        )
    return response


@router.get("/login", operation_id="ui_login_page")
async def login_page(request: Request, svc: ServicesDep) -> Response:
    principal = await _current(request, svc)
    if principal is not None:
        return RedirectResponse(home_of(principal), status_code=303)
    return _login_page(request)


@router.post("/login", operation_id="ui_login")
async def login(
    request: Request,
    svc: ServicesDep,
    username: Annotated[str, Form(max_length=USERNAME_MAX)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_MAX)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    web = web_of(request)
    client = request.client.host if request.client else None
    try:
        issued = await svc.identity.start_web_session(
            username.strip(), password, client_ip=client, ttl=timedelta(seconds=web.cookies.session_seconds)
        )
        principal = await svc.identity.resolve_web_session(issued.token)
    except CabinetError as exc:
        if exc.kind is ErrorKind.THROTTLED:
            response = _login_page(
                request, status=429, error=_("Too many failed attempts: wait a while and try again.")
            )
            response.headers["Retry-After"] = str(exc.retry_after or 60)
            return response
        if exc.kind in (ErrorKind.UNAUTHENTICATED, ErrorKind.FORBIDDEN):
            message = (
                _("This account is locked.") if isinstance(exc, AccountInactive) else _("Wrong username or password.")
            )
            return _login_page(request, status=401, error=message, username=username[:USERNAME_MAX])
        raise
    response = redirect(request, safe_next(next) or home_of(principal))
    set_session(response, issued.token, issued.expires_at, web.cookies)
    response.delete_cookie(ANON_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout", operation_id="ui_logout")
async def logout(request: Request, svc: ServicesDep) -> Response:
    """Sign out: the session token is ended on the server (a copy of the cookie is refused from now on)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await svc.identity.end_web_session(token)
    response = redirect(request, "/ui/login", _("You are signed out."))
    clear_session(response, web_of(request).cookies)
    return response
