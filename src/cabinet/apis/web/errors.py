"""Errors on the web pages: a person sees a page (or, for an htmx request, a message in the page's flash area)
with the HTTP status of the error's kind. A lost session sends them to the login page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cabinet.apis.web.deps import is_htmx, locale_of, page, web_of
from cabinet.apis.web.i18n import N_
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.session import clear_session
from cabinet.core.errors import CabinetError, ErrorKind, InvalidInput, PermissionDenied, ResourceNotFound
from cabinet.core.http.errors import (
    cabinet_cause,
    handle_backing_service_errors,
    issues_from_validation,
    status_of,
    unavailable_cause,
)
from cabinet.core.logging import get_logger
from cabinet.core.metering import note_failure

log = get_logger("cabinet.web")

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


def render_error(request: Request, error: CabinetError) -> Response:
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
    issues = [_(i.message) if not i.entity else f"{i.entity}: {_(i.message)}" for i in error.issues][:20]
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
        )
    response.headers.update(headers)
    return response


def _same_site_referer(request: Request) -> str | None:
    referer = request.headers.get("referer") or ""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    if referer.startswith(origin + "/ui/"):
        return referer[len(origin) :]
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CabinetError)
    async def _cabinet(request: Request, exc: CabinetError) -> Response:
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        cause = cabinet_cause(exc)
        if cause is not None:
            return render_error(request, cause)
        issues = issues_from_validation(exc.errors(), limit=20)
        return render_error(request, InvalidInput(_("Some fields are not valid"), issues=issues))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        cause = cabinet_cause(exc)
        if cause is not None:
            return render_error(request, cause)
        if exc.status_code == 404:
            return render_error(request, ResourceNotFound(_("There is no such page")))
        if exc.status_code == 405:
            error = PermissionDenied(_("This address does not take that kind of request"))
            response = render_error(request, error)
            response.status_code = 405
            return response
        return render_error(request, InvalidInput(str(exc.detail) if exc.detail else _("Bad request")))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        unavailable = unavailable_cause(exc)
        if unavailable is not None:
            log.warning("backing service unavailable", error=repr(exc))
            return render_error(request, unavailable)
        log.exception("unexpected error", error=repr(exc))
        error = CabinetError(_("Something went wrong on our side; the trace code below helps us find it"))
        return render_error(request, error)

    handle_backing_service_errors(app, _unexpected)
