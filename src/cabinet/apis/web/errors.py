"""Errors on the web pages. What was typed wrong goes back to the form it came from, input kept and each message
beside its field (``forms``); an htmx request gets the message in the page's flash area; anything else (not
found, not allowed, our failure) is an error page with the HTTP status of the error's kind and a way out that
fits the visitor (a field link's holder back to their job, never to sign-in). A lost session sends a person to
the login page."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cabinet.apis.web.deps import home_of, is_htmx, locale_of, page, web_of
from cabinet.apis.web.forms import back_to_the_form, person_issues
from cabinet.apis.web.i18n import N_
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.session import clear_session
from cabinet.core.errors import CabinetError, ErrorKind, FieldIssue, InvalidInput, PermissionDenied, ResourceNotFound
from cabinet.core.http.errors import (
    cabinet_cause,
    handle_backing_service_errors,
    status_of,
    unavailable_cause,
)
from cabinet.core.logging import get_logger
from cabinet.core.metering import mark_failed, note_failure

log = get_logger("cabinet.web")
LINK_HOME = re.compile(r"/ui/link/[A-Za-z0-9_.-]{1,512}")

TITLES = {
    400: N_("Please check what you entered"),
    401: N_("Please sign in"),
    402: N_("Your quota is spent"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Not possible now"),
    413: N_("Too large"),
    415: N_("Unsupported file"),
    422: N_("This file cannot be taken"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("Temporarily unavailable"),
}


async def render_error(request: Request, error: CabinetError) -> Response:
    note_failure(error.message)
    locale_of(request)
    status = status_of(error)
    headers: dict[str, str] = {}
    if error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    if error.kind is ErrorKind.UNAUTHENTICATED and not request.url.path.startswith("/ui/link/"):
        target = "/ui/login"
        if request.method == "GET" and not is_htmx(request):
            target += "?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        response: Response
        if is_htmx(request):
            response = Response(status_code=401, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        clear_session(response, web_of(request).cookies)
        return response
    # messages the pages raise are translated already; the domains' are when the catalog knows them
    message = _(error.message)
    placed = [FieldIssue(i.entity, _(i.message)) for i in error.issues[:20]]
    web = web_of(request)
    back = await back_to_the_form(request, web.forms, web.cookies.secure, status, message, placed)
    if back is not None:  # a redirect, yet a failure: audited as one and not charged
        mark_failed(error.message)
        back.headers.update(headers)
        return back
    # a person's words only (a field's wire name means nothing to them), each said once
    issues = [i.message for i in placed if i.message != message]
    if is_htmx(request):
        headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        response = page(request, "_flash.html", status, message=message, issues=issues, error=True)
    else:
        response = page(
            request,
            "error.html",
            status,
            title=_(TITLES.get(status, N_("Error"))),
            message=message,
            issues=issues,
            back=_same_site_referer(request),
            home=_way_out(request),
        )
    response.headers.update(headers)
    return response


def _same_site_referer(request: Request) -> str | None:
    referer = request.headers.get("referer") or ""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    if referer.startswith(origin + "/ui/"):
        return referer[len(origin) :]
    return None


def _way_out(request: Request) -> tuple[str, str] | None:
    """(address, label) of the error page's way out: a field link's own page for its holder (who has no
    account: never the sign-in page; none when that page is the one failing), the person's start page when
    signed in, else the sign-in page."""
    link = LINK_HOME.match(request.url.path)
    if link is not None:
        return None if link.group(0) == request.url.path.rstrip("/") else (link.group(0), _("Back to the job"))
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return home_of(principal), _("Home")
    return "/ui/login", _("Sign in")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CabinetError)
    async def _cabinet(request: Request, exc: CabinetError) -> Response:
        return await render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        locale_of(request)  # this request's language before any message is translated (not the last request's)
        cause = cabinet_cause(exc)
        if cause is not None:
            return await render_error(request, cause)
        issues = person_issues(exc.errors())
        return await render_error(request, InvalidInput(_("Some fields are not valid"), issues=issues))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        locale_of(request)  # as above: a 404 said "Такой страницы нет" on an English page after a Russian one
        cause = cabinet_cause(exc)
        if cause is not None:
            return await render_error(request, cause)
        if exc.status_code == 404:
            return await render_error(request, ResourceNotFound(_("There is no such page")))
        if exc.status_code == 405:
            error = PermissionDenied(_("This address does not take that kind of request"))
            response = await render_error(request, error)
            response.status_code = 405
            return response
        return await render_error(request, InvalidInput(str(exc.detail) if exc.detail else _("Bad request")))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        unavailable = unavailable_cause(exc)
        if unavailable is not None:
            log.warning("backing service unavailable", error=repr(exc))
            return await render_error(request, unavailable)
        log.exception("unexpected error", error=repr(exc))
        error = CabinetError(_("Something went wrong on our side; the trace code below helps us find it"))
        return await render_error(request, error)

    handle_backing_service_errors(app, _unexpected)
