"""Errors stay on the form. A form sent from a page that fails on what was typed (400, 409, 422, 429)
goes back to that page (Post/Redirect/Get) instead of to an error page: the typed values (never a password or a
token) and the messages travel in a cookie sealed for that page and session (``session.OnceSealer`` under its own
label, two minutes, read once). The page shows a summary of the problems above the form; ``static/app.js`` puts
the values back into the form that was sent, each message beside its field (``aria-invalid``,
``aria-describedby``) and the focus on the first one. Without a usable referring page (none sent, another
site's, an htmx request) the error page stays; so it does for a file upload (its body is a stream the route
has read, or refused part way: it is never read again).

Messages are in the person's words and language: a validation failure is described by its kind ("at most 256
characters"), never by the field's wire name; the field it belongs to is found by name in the form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.session import FORM_COOKIE, FORM_COOKIE_MAX, OnceSealer, binding_of
from cabinet.core.errors import FieldIssue

FORM_SECONDS = 120
KEPT_STATUSES = frozenset({400, 409, 422, 429})
NEVER_KEPT = ("password", "secret", "token", "csrf")  # a field whose name holds one of these is not echoed back
VALUE_MAX = 2000  # characters of one value carried back
ISSUES_MAX = 20


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic/FastAPI validation error in the person's words and language (its kind and limits only)."""
    kind = str(error.get("type") or "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("Please fill this in")
    if kind == "string_too_long":
        return _("At most %(count)s characters", count=ctx.get("max_length", "?"))
    if kind == "string_too_short":
        return _("At least %(count)s characters", count=ctx.get("min_length", "?"))
    if kind == "too_long":
        return _("At most %(count)s values", count=ctx.get("max_length", "?"))
    if kind == "string_pattern_mismatch":
        return _("This is not in the expected form")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number")
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number"):
        return _("Enter a number")
    if kind in ("greater_than_equal", "greater_than"):
        return _("At least %(limit)s", limit=ctx.get("ge", ctx.get("gt", "?")))
    if kind in ("less_than_equal", "less_than"):
        return _("At most %(limit)s", limit=ctx.get("le", ctx.get("lt", "?")))
    if kind.startswith(("datetime", "date", "time")):
        return _("Enter a date and time") if kind.startswith("datetime") else _("Enter a date")
    if kind in ("enum", "literal_error", "bool_parsing", "bool_type"):
        return _("Choose one of the offered values")
    if kind == "value_error":
        return _(str(error.get("msg", "")).removeprefix("Value error, ")) or _("This value is not valid")
    return _("This value is not valid")


def person_issues(errors: Sequence[Mapping[str, Any]]) -> list[FieldIssue]:
    """Validation errors as issues naming the form field (the last part of the location) in a person's words."""
    issues = []
    for error in list(errors)[:ISSUES_MAX]:
        loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int) and part != ""]
        issues.append(FieldIssue(entity=loc[-1] if loc else None, message=validation_message(error)))
    return issues


def referring_page(request: Request) -> str | None:
    """The same-site page (path and query) the request came from, when it is one of the pages."""
    referer = request.headers.get("referer") or ""
    parts = urlsplit(referer)
    if parts.netloc != request.url.netloc or parts.scheme not in ("http", "https"):
        return None
    if not parts.path.startswith("/ui/") or "\\" in parts.path or "//" in parts.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def typed_values(request: Request) -> dict[str, list[str]] | None:
    """What the person typed (a GET form: its query), without secrets and files; None when it cannot be read."""
    if request.method == "GET":
        items: Sequence[tuple[str, Any]] = list(request.query_params.multi_items())
    else:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return None  # an upload (multipart): the error page
        try:
            items = list((await request.form()).multi_items())
        except Exception:  # the form itself was the problem (too many parts, broken multipart)
            return None
    values: dict[str, list[str]] = {}
    for name, value in items:
        if isinstance(value, UploadFile) or any(word in name.lower() for word in NEVER_KEPT):
            continue
        values.setdefault(name[:100], []).append(str(value)[:VALUE_MAX])
    return values


async def back_to_the_form(
    request: Request, sealer: OnceSealer, secure: bool, status: int, message: str, issues: Sequence[FieldIssue]
) -> Response | None:
    """The redirect back to the form's page carrying its input and errors, or None (the error page answers)."""
    if status not in KEPT_STATUSES or request.headers.get("hx-request") == "true":
        return None
    back, binding = referring_page(request), binding_of(request)
    if back is None or binding is None:
        return None
    back_path = back.split("?", 1)[0]
    if request.method == "GET" and back_path != request.url.path:
        return None  # a GET form is sent to its own page; another GET is a link, not a form
    if request.method not in ("GET", "POST"):
        return None
    values = await typed_values(request)
    if values is None:
        return None
    errors: dict[str, str] = {}
    others: list[str] = []
    for issue in issues:
        field = (issue.entity or "").rsplit(".", 1)[-1]
        if field and (field in values or f"{field}[]" in values) and field not in errors:
            errors[field] = issue.message[:300]
        else:
            others.append(issue.message[:300])  # never the field's wire name: the summary says it in words
    if message in errors.values() or message in others:
        message = ""  # said once, in the list
    state: dict[str, Any] = {
        "action": request.url.path,
        "method": request.method,
        "message": message[:500],
        "issues": others[:ISSUES_MAX],
        "errors": errors,
        "values": values,
    }
    cookie = _seal(sealer, state, back_path, binding)
    if cookie is None:
        return None
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        FORM_COOKIE,
        cookie,
        max_age=FORM_SECONDS,
        path=back_path,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return response


def _seal(sealer: OnceSealer, state: dict[str, Any], path: str, binding: str) -> str | None:
    """The sealed state, dropping the longest values until it fits a cookie (the messages always go)."""
    values: dict[str, list[str]] = state["values"]
    while True:
        cookie = sealer.seal(orjson.dumps(state).decode(), path, binding)
        if len(cookie) <= FORM_COOKIE_MAX:
            return cookie
        if not values:
            return None
        del values[max(values, key=lambda name: sum(len(v) for v in values[name]))]


def form_state(request: Request, sealer: OnceSealer) -> dict[str, Any] | None:
    """The state a failed form left for this page (shown once: ``deps.page`` deletes the cookie)."""
    opened = sealer.open(request.cookies.get(FORM_COOKIE), request.url.path, binding_of(request))
    if opened is None:
        return None
    try:
        state = orjson.loads(opened)
    except orjson.JSONDecodeError:
        return None
    return state if isinstance(state, dict) else None
