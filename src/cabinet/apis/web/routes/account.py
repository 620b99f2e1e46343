"""Every person's own account: profile, password, own keys, own quota and usage (the Account API's services)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import FileResponse, Response

from cabinet.apis.web.deps import ServicesDep, Viewer, account_op, page, redirect, secret_once, web_of
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.apis.web.routes.locale import local_page, remember_locale
from cabinet.apis.web.session import set_session
from cabinet.apis.web.views import period_of, usage_chart, usage_report_file, usage_summary
from cabinet.core import regional
from cabinet.core.errors import FieldIssue, InvalidInput
from cabinet.core.metering import ProcessType
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.domains.identity.schemas import AccountPatch
from cabinet.domains.usage.schemas import UsageQuery

router = page_router(prefix="/account")

DateParam = Annotated[str | None, Query(max_length=10)]


def _usage_query(principal: Principal, svc: ServicesDep, date_from: str | None, date_to: str | None) -> UsageQuery:
    today = (svc.usage.clock.now() + timedelta(hours=principal.timezone)).date()
    period = period_of(today, date_from, date_to)
    return UsageQuery(
        date_from=period.start, date_to=period.end, user_id=principal.user_id, company_id=principal.company_id
    )


@router.get("", **account_op("read_account", ProcessType.NOTRACE))
async def account_page(
    request: Request, principal: Viewer, svc: ServicesDep, date_from: DateParam = None, date_to: DateParam = None
) -> Response:
    user = await svc.identity.get_account(principal)
    keys = await svc.credentials.own_keys(principal)
    quotas = await svc.quotas.list_for_user(principal.user_id)
    # a contractor (registered by its company's system through the contractor API) works on these pages and in
    # the contractor area: API keys, quotas and points mean nothing to them, so their page shows none (a
    # contractor an operator did give a key or a quota sees them)
    api_user = not principal.can(Permission.CONTRACTOR_WORK) or bool(keys) or bool(quotas)
    query = _usage_query(principal, svc, date_from, date_to)
    rows = await svc.usage.daily(query) if api_user else []
    chart = usage_chart(rows, query.date_from, query.date_to, _("My daily points per service"))
    return page(
        request,
        "account.html",
        user=user,
        api_user=api_user,
        keys=keys,
        new_key=secret_once(request),
        quotas=quotas,
        chart=chart,
        summary=usage_summary(rows),
        query=query,
        zones=regional.known_zones(),
        company_zone=user.company.zone or web_of(request).runtime.settings.default_timezone,
    )


def _optional(value: str) -> str | None:
    value = value.strip()
    return value or None


@router.post("/profile", **account_op("update_info", ProcessType.TRACE))
async def update_profile(
    request: Request,
    principal: Viewer,
    svc: ServicesDep,
    name: Annotated[str, Form(max_length=256)] = "",
    email: Annotated[str, Form(max_length=256)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    patch = AccountPatch(specification=_optional(name), email=_optional(email), phone=_optional(phone))
    await svc.identity.update_account(principal, patch)
    return redirect(request, "/ui/account", _("Your profile was saved."))


@router.post("/regional", **account_op("update_info", ProcessType.TRACE))
async def update_regional(
    request: Request,
    principal: Viewer,
    svc: ServicesDep,
    zone: Annotated[str, Form(max_length=64)] = "",
    locale: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The person's own time zone (empty: the company's) and language (empty: the browser's)."""
    patch = AccountPatch(zone=_optional(zone), locale=_optional(locale))
    await svc.identity.update_account(principal, patch)
    response = redirect(request, "/ui/account", _("Your time zone and language were saved."))
    if patch.locale:
        remember_locale(request, response, patch.locale)
    return response


@router.post("/locale", **account_op("update_info", ProcessType.TRACE))
async def switch_own_locale(
    request: Request,
    principal: Viewer,
    svc: ServicesDep,
    locale: Annotated[str, Form(max_length=8)],
    next_page: Annotated[str, Form(alias="next", max_length=2000)] = "/ui/",
) -> Response:
    """The language switch of a signed-in person: saved as their preference (it outranks the cookie)."""
    await svc.identity.update_account(principal, AccountPatch(locale=locale))
    response = redirect(request, local_page(next_page))
    remember_locale(request, response, locale)
    return response


@router.post("/password", **account_op("change_password", ProcessType.TRACE))
async def change_password(
    request: Request,
    principal: Viewer,
    svc: ServicesDep,
    current_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
    repeat_password: Annotated[str, Form(max_length=256)],
) -> Response:
    if new_password != repeat_password:
        raise InvalidInput(
            _("The new password and its repetition differ"),
            issues=[FieldIssue("repeat_password", "must equal the new password")],
        )
    issued = await svc.identity.change_password(principal, current_password, new_password)
    response = redirect(request, "/ui/account", _("Your password was changed; your other sessions have ended."))
    set_session(response, issued.token, issued.expires_at, web_of(request).cookies)
    return response


@router.get("/report", **account_op("generate_report", ProcessType.NOTRACE))
async def report(
    principal: Viewer, svc: ServicesDep, date_from: DateParam = None, date_to: DateParam = None
) -> FileResponse:
    query = _usage_query(principal, svc, date_from, date_to)
    return await usage_report_file(svc.usage, query, principal.username)
