"""The language switch on every page: remembers the chosen language in a cookie and returns to the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from cabinet.apis.web import i18n
from cabinet.apis.web.deps import web_of
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.apis.web.session import COOKIE_PATH
from cabinet.core.errors import ResourceNotFound

router = page_router()


def local_page(value: str | None) -> str:
    """``value`` if it is a page of this site (never another site: no scheme, no //, no backslash), else home."""
    if not value or len(value) > 2000 or not value.startswith("/ui/"):
        return "/ui/"
    if "//" in value or "\\" in value or any(ord(c) < 32 for c in value):
        return "/ui/"
    return value


@router.get("/locale/{code}")
async def switch_locale(
    request: Request, code: str, next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None
) -> Response:
    locale = i18n.supported(code)
    if locale is None or locale != code:
        raise ResourceNotFound(_("There is no such language"))
    response = RedirectResponse(local_page(next_page), status_code=303)
    remember_locale(request, response, locale)
    return response


def remember_locale(request: Request, response: Response, locale: str) -> None:
    response.set_cookie(
        i18n.LOCALE_COOKIE,
        locale,
        max_age=i18n.LOCALE_COOKIE_SECONDS,
        path=COOKIE_PATH,
        secure=web_of(request).cookies.secure,
        httponly=True,
        samesite="lax",
    )
