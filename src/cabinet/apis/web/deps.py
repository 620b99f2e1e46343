"""Web dependencies: the signed-in person (session cookie), the operators' coarse check, metered operations,
and the page/redirect helpers every route uses."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from cabinet.apis.shared.auth import require_operator, services, services_of
from cabinet.apis.web import formats, i18n
from cabinet.apis.web.forms import form_state
from cabinet.apis.web.session import (
    ANON_COOKIE,
    COOKIE_PATH,
    CSRF_FIELD,
    CSRF_HEADER,
    FLASH_COOKIE,
    FORM_COOKIE,
    FORM_COOKIE_MAX,
    FORM_LABEL,
    ONCE_COOKIE,
    ONCE_SECONDS,
    SAFE_METHODS,
    SESSION_COOKIE,
    CookiePolicy,
    CsrfGuard,
    CsrfRejected,
    OnceSealer,
    binding_of,
)
from cabinet.core.errors import NotAuthenticated
from cabinet.core.http.metering import metered_operation
from cabinet.core.metering import TARGET_MAX, ProcessType, Service
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.core.tracing import current_trace
from cabinet.domains.registry import Services
from cabinet.runtime import Runtime
from cabinet.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
FLASH_MAX = 300


class Web:
    """What the pages share: templates, the CSRF guard and the cookie policy (the guard is built on first use:
    the server secret is read by the lifespan)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"], auto_reload=False
        )
        self.templates = Jinja2Templates(env=env)
        env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
            gettext=i18n.template_gettext,
            ngettext=i18n.template_ngettext,
            pgettext=i18n.template_pgettext,
            newstyle=True,
        )
        env.filters["local"] = local_time
        env.filters["when"] = _when
        env.filters["day"] = _day
        env.filters["relative"] = _relative
        env.tests["overdue"] = _overdue
        env.filters["kept"] = formats.kept_together
        env.filters["number"] = formats.number
        env.filters["money"] = formats.money
        env.filters["input_number"] = formats.input_number
        env.filters["html_text"] = formats.html_text
        env.globals["zone_choices"] = formats.zone_choices
        env.globals["zone_title"] = formats.zone_title
        env.globals["currency_choices"] = formats.currency_choices
        env.globals["label"] = i18n.label
        env.globals["locale_names"] = i18n.LOCALE_NAMES  # each language in its own name, as the switch shows it
        env.globals["target_label"] = i18n.target_label
        env.globals["operation_label"] = i18n.operation_label
        env.globals["zone_label"] = formats.zone_label
        env.globals["notification_text"] = i18n.notification_text
        self._csrf: CsrfGuard | None = None
        self._once: OnceSealer | None = None
        self._forms: OnceSealer | None = None
        settings = runtime.settings
        self.cookies = CookiePolicy(
            secure=settings.web_cookie_secure, session_seconds=settings.web_session_hours * 3600
        )

    @property
    def csrf(self) -> CsrfGuard:
        if self._csrf is None:
            self._csrf = CsrfGuard(self.runtime.resources.secret)
        return self._csrf

    @property
    def once(self) -> OnceSealer:
        if self._once is None:
            self._once = OnceSealer(self.runtime.resources.secret)
        return self._once

    @property
    def forms(self) -> OnceSealer:
        """Seals a failed form's input and errors for its page (``forms``)."""
        if self._forms is None:
            self._forms = OnceSealer(self.runtime.resources.secret, FORM_LABEL, FORM_COOKIE_MAX)
        return self._forms


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


@pass_context
def _when(context: Context, moment: datetime | None, label: bool = True, seconds: bool = False) -> str:
    """A time in the viewer's zone, with the zone's label (the page's ``zone``); the year only when it is not the
    current one."""
    return formats.when(moment, context["zone"], label=label, seconds=seconds, now=context.get("now"))


@pass_context
def _day(context: Context, moment: datetime | None) -> str:
    return formats.day(moment, context["zone"])


@pass_context
def _relative(context: Context, deadline: datetime | None) -> str:
    return formats.relative(deadline, context["now"])


@pass_context
def _overdue(context: Context, deadline: datetime | None) -> bool:
    """``{% if call.ttf is overdue %}``: the page marks a passed deadline (red, beside its words)."""
    return formats.overdue(deadline, context["now"])


def local_time(moment: datetime | None, tz_hours: int = 0, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return (moment.astimezone(UTC) + timedelta(hours=tz_hours)).strftime(fmt)
    except OverflowError:  # at the very end of what a datetime holds: shown in UTC rather than failing the page
        return moment.astimezone(UTC).strftime(fmt)


# --- who is calling -----------------------------------------------------------------------------------------
async def session_principal(request: Request) -> Principal:
    """The person behind the session cookie (NotAuthenticated sends them to the login page)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated(i18n.gettext("Please sign in"))
    principal = await services_of(request).identity.resolve_web_session(token)
    trace = current_trace()
    trace.username = principal.username
    trace.company = principal.company_key
    request.state.principal = principal
    return principal


async def operator_reader(principal: Annotated[Principal, Depends(session_principal)]) -> Principal:
    return require_operator(principal, write=False)


async def operator_writer(principal: Annotated[Principal, Depends(session_principal)]) -> Principal:
    return require_operator(principal, write=True)


async def check_csrf(request: Request) -> None:
    """Every unsafe request carries the token of what authenticates it (session, field link, login form)."""
    if request.method in SAFE_METHODS:
        return
    presented = request.headers.get(CSRF_HEADER)
    if not presented and request.headers.get("content-type", "").startswith("multipart/form-data"):
        # a file upload streams its body into the blob store (never spooled here): its form names the token in its
        # action's query instead (the token is no credential: it is useless without the session or link)
        presented = request.query_params.get(CSRF_FIELD)
    elif not presented:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not web_of(request).csrf.valid(binding_of(request), presented):
        raise CsrfRejected()


# A change's audit record names its object from the page's address (a domain that knows a better name, such as a
# call's number, names it itself: ``core.metering.note_target``)
TARGET_PARAMS = (("username", "user"), ("key", "company"), ("key_id", "key"), ("hook", "webhook"), ("task_id", "task"))
ID_TARGETS = (("/ui/calls/", "call"), ("/ui/notifications/", "notification"))


def bind_operation(request: Request) -> None:
    trace = current_trace()
    trace.api = "web"
    route = request.scope.get("route")
    trace.operation = getattr(route, "operation_id", None) or trace.operation
    if request.method not in SAFE_METHODS:
        trace.target = _target_of(request.url.path, request.path_params)


def _target_of(path: str, params: dict[str, Any]) -> str | None:
    for name, kind in TARGET_PARAMS:
        if name in params:
            return f"{kind} {params[name]}"[:TARGET_MAX]
    if "id" in params:
        for prefix, word in ID_TARGETS:
            if path.startswith(prefix):
                return f"{word} {params['id']}"[:TARGET_MAX]
    return None


ServicesDep = Annotated[Services, Depends(services)]
Viewer = Annotated[Principal, Depends(session_principal)]
OperatorReader = Annotated[Principal, Depends(operator_reader)]
OperatorWriter = Annotated[Principal, Depends(operator_writer)]


def _declare(service: Service, dependency: Callable[..., Any]) -> Callable[[str, ProcessType], dict[str, Any]]:
    """Web operations are metered like the APIs' (quotas, audit, statistics) under the service whose work they
    do, named ``ui_<name>``. They keep no payloads: the bodies are forms carrying the CSRF token, the answers
    are pages. Looking at a page (a read) is audited but free: it takes no points from the person's quota, so
    browsing never locks them out of the APIs their quota is for."""
    declare = metered_operation(service, dependency)

    def operation(name: str, process_type: ProcessType) -> dict[str, Any]:
        charged = process_type is not ProcessType.NOTRACE
        declared = declare(f"ui_{name}", process_type, store_payloads=False, charged=charged)
        return {**declared, "include_in_schema": False}

    return operation


account_op = _declare(Service.ACCOUNT, session_principal)
contractor_op = _declare(Service.STUDIO, session_principal)
admin_read_op = _declare(Service.ADMIN, operator_reader)
admin_write_op = _declare(Service.ADMIN, operator_writer)


# --- language ----------------------------------------------------------------------------------------------
def locale_of(request: Request) -> str:
    """The language of this request (see ``i18n``), made the one this request translates into."""
    principal: Principal | None = getattr(request.state, "principal", None)
    account = principal.account if principal else None
    preference = getattr(account, "locale", None)
    # a field-link visitor has no account: the company of the call's contractor speaks for them
    company_default = getattr(getattr(account, "company", None), "locale", None) or getattr(
        request.state, "company_locale", None
    )
    locale = i18n.negotiate(request, preference, company_default or web_of(request).runtime.settings.default_locale)
    i18n.activate(locale)
    return locale


@dataclass(frozen=True, slots=True)
class Regional:
    """Where a page's times and amounts are read: the zone (and its name) and the currency."""

    zone: tzinfo
    zone_name: str | None
    currency: str


def regional_of(subject: Principal | None, settings: Settings) -> Regional:
    """``subject``'s own zone, else its company's, else the deployment's; its company's currency, else the
    deployment's. A subject without a loaded account keeps its integer offset."""
    account = subject.account if subject else None
    company = getattr(account, "company", None)
    name = getattr(account, "zone", None) or getattr(company, "zone", None)
    currency = getattr(company, "currency", None) or settings.default_currency
    if name is None and subject is not None and account is None:
        return Regional(formats.fixed_zone(subject.timezone), None, currency)
    name = name or settings.default_timezone
    return Regional(formats.zone_of(name), name, currency)


async def bind_locale(request: Request) -> None:
    """Before the route runs, so what it says (a flash message, an error) is in the visitor's language."""
    locale_of(request)


def switch_links(request: Request) -> list[dict[str, Any]]:
    """The language switch: a link per language back to this page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or is_htmx(request):
        here = "/ui/"
    return [
        {
            "code": code,
            "name": i18n.LOCALE_NAMES[code],
            "href": f"/ui/locale/{code}?next={quote(here, safe='')}",
            "here": here,
        }
        for code in i18n.LOCALES
    ]


# --- answers ------------------------------------------------------------------------------------------------
def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def home_of(principal: Principal) -> str:
    """Where a person lands after signing in: their work."""
    if principal.can(Permission.CONTRACTOR_WORK):
        return "/ui/calls"
    if principal.can(Permission.ADMIN_READ_ALL) or principal.can(Permission.ADMIN_READ_COMPANY):
        return "/ui/admin/users"
    return "/ui/account"


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page (or fragment) with what every template may use: the viewer, its CSRF token, the flash message."""
    web = web_of(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    binding = binding_of(request)
    flash = unquote(request.cookies.get(FLASH_COOKIE, ""))[:FLASH_MAX]
    failed_form = form_state(request, web.forms) if FORM_COOKIE in request.cookies else None
    locale = locale_of(request)
    where = regional_of(context.pop("regional_of", None) or principal, web.runtime.settings)
    response = web.templates.TemplateResponse(
        request,
        template,
        {
            "viewer": principal,
            "tz": principal.timezone if principal else 0,
            "zone": where.zone,
            "zone_name": where.zone_name,
            "now": datetime.now(UTC),
            "currency": where.currency,
            "csrf": web.csrf.token(binding) if binding else "",
            "flash": flash,
            "form_state": failed_form,
            "locale": locale,
            "languages": switch_links(request),
            "is_operator": bool(
                principal and (principal.can(Permission.ADMIN_READ_ALL) or principal.can(Permission.ADMIN_READ_COMPANY))
            ),
            "is_contractor": bool(principal and principal.can(Permission.CONTRACTOR_WORK)),
            "brand_name": web.runtime.settings.brand_name,
            "brand_logo": web.runtime.settings.brand_logo_path is not None,
            **context,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
    if flash and not is_htmx(request):
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    if ONCE_COOKIE in request.cookies and not is_htmx(request):  # shown (or stale): never again
        response.delete_cookie(ONCE_COOKIE, path=request.url.path)
    if FORM_COOKIE in request.cookies and not is_htmx(request):
        response.delete_cookie(FORM_COOKIE, path=request.url.path)
    return response


def redirect_with_secret(request: Request, url: str, flash: str, secret: str) -> Response:
    """See-other to ``url`` (a path, maybe with a #fragment), which shows ``secret`` once (``secret_once``)."""
    response = redirect(request, url, flash)
    path = url.split("#", 1)[0]
    web = web_of(request)
    response.set_cookie(
        ONCE_COOKIE,
        web.once.seal(secret, path, binding_of(request) or ""),
        max_age=ONCE_SECONDS,
        path=path,
        secure=web.cookies.secure,
        httponly=True,
        samesite="strict",
    )
    return response


def secret_once(request: Request) -> str | None:
    """The secret the POST before this page sealed for it, or None (the page's answer deletes the cookie)."""
    return web_of(request).once.open(request.cookies.get(ONCE_COOKIE), request.url.path, binding_of(request))


def redirect(request: Request, url: str, flash: str | None = None) -> Response:
    """See-other to ``url`` (Post/Redirect/Get), with a message shown once on the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        web = web_of(request)
        response.set_cookie(
            FLASH_COOKIE,
            quote(flash[:FLASH_MAX]),
            max_age=60,
            path=COOKIE_PATH,
            secure=web.cookies.secure,
            httponly=True,
            samesite="lax",
        )
    return response


def new_anon_value() -> str:
    return secrets.token_urlsafe(24)


def anon_cookie(request: Request) -> tuple[str, bool]:
    """The login form's anonymous binding: (value, whether it must be set now)."""
    value = request.cookies.get(ANON_COOKIE)
    if value and len(value) <= 64:
        return value, False
    return new_anon_value(), True
