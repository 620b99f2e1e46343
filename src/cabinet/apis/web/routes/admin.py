"""The operator's pages (ADMIN, OVERLORD, SUPPORT read-only, COMPANYOWNER for its own company): companies,
allowed networks, users (create, edit, lock, roles), API keys (shown once), quotas, audit with payload
download, usage with its chart and XLSX report. The directory, credentials, quotas, audit and usage services
apply the same scope rules as the Admin API: another company's objects are not found."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import Form, Path, Query, Request
from fastapi.responses import FileResponse, Response

from cabinet.apis.shared.params import INT64_MAX, OUT_OF_RANGE, checked_day, checked_moment, parse_datetime, plain_text
from cabinet.apis.web.deps import (
    OperatorReader,
    OperatorWriter,
    ServicesDep,
    admin_read_op,
    admin_write_op,
    page,
    redirect,
    redirect_with_secret,
    regional_of,
    secret_once,
    web_of,
)
from cabinet.apis.web.i18n import N_, operations_labelled
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.apis.web.views import period_of, usage_chart, usage_report_file, usage_summary
from cabinet.core import regional
from cabinet.core.errors import FieldIssue, InvalidInput
from cabinet.core.metering import METERED_SERVICES, ProcessType, Service, declared_operations, set_result_elements
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission, Role
from cabinet.domains.audit.schemas import AuditQuery, FlowType
from cabinet.domains.credentials.schemas import KeyRequest
from cabinet.domains.identity.policies import read_scope, roles_not_grantable
from cabinet.domains.identity.schemas import UNSET, ListQuery, Regional, UserCreate, UserUpdate
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.domains.usage.schemas import UsageQuery

router = page_router(prefix="/admin")

PAGE_SIZE = 50
AUDIT_PAGE = 100
Key = Annotated[str, Path(min_length=3, max_length=256, pattern=r"^\w+$")]
Username = Annotated[str, Path(min_length=2, max_length=256, pattern=r"^\w+$")]
KeyId = Annotated[int, Path(ge=1, le=INT64_MAX)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
SearchText = Annotated[str, Query(max_length=64)]
CompanyKeyParam = Annotated[str, Query(max_length=256, pattern=r"^\w*$")]  # a company's users (empty: every one)
Short = Annotated[str, Form(max_length=256)]
# The roles an operator may give, in the groups a person thinks of them in, each with what it lets one do.
ROLE_GROUPS: list[tuple[str, list[Role]]] = [
    (N_("Platform"), [Role.ADMIN, Role.OVERLORD, Role.SUPPORT]),
    (N_("Company"), [Role.COMPANYOWNER, Role.BOT, Role.PARTNER]),
    (N_("Field work"), [Role.USER, Role.CREWMANAGER, Role.CREW]),
]
ROLE_HINTS = {
    Role.ADMIN: N_("Manages every company, user, key and quota."),
    Role.OVERLORD: N_("An administrator who may also give the platform roles."),
    Role.SUPPORT: N_("Sees every company's users, audit and usage; changes nothing."),
    Role.COMPANYOWNER: N_("Manages its own company's users, keys and quotas, and works its calls."),
    Role.BOT: N_("An external system (an ERP) that uses the APIs with a key."),
    Role.PARTNER: N_("Uses the Data API on behalf of its client companies."),
    Role.USER: N_("A contractor: accepts and works its own calls."),
    Role.CREWMANAGER: N_("A contractor who sees and works all of its company's calls."),
    Role.CREW: N_("Field work only: the calls given to them, no API access."),
}


def _role_choices(principal: Principal) -> list[tuple[str, list[tuple[str, str]]]]:
    """The groups of roles ``principal`` may give (value, hint), without the ones they may not."""
    offered = []
    for group, roles in ROLE_GROUPS:
        mine = [(r.value, ROLE_HINTS[r]) for r in roles if not roles_not_grantable(principal, [r])]
        if mine:
            offered.append((group, mine))
    return offered


def _may_write(principal: Principal) -> bool:
    return principal.can(Permission.ADMIN_WRITE_ALL) or principal.can(Permission.ADMIN_WRITE_COMPANY)


def _optional(value: str) -> str | None:
    value = value.strip()
    return value or None


def _text(value: str, name: str) -> str | None:
    return plain_text(_optional(value), name=name)


def _listing(
    request: Request, template: str, found: tuple[Any, Any, Any], q: str, offset: int, **extra: Any
) -> Response:
    """A searchable, paged list page (companies, users) from the directory's (rows, overall, filtered)."""
    rows, overall, filtered = found
    set_result_elements(len(rows))
    context = {"rows": rows, "overall": overall, "filtered": filtered, "q": q, "offset": offset, "size": PAGE_SIZE}
    return page(request, template, **context, **extra)


# --- companies -----------------------------------------------------------------------------------------------
@router.get("/companies", **admin_read_op("read_companies", ProcessType.NOTRACE))
async def companies(
    request: Request, principal: OperatorReader, svc: ServicesDep, q: SearchText = "", offset: Offset = 0
) -> Response:
    found = await svc.directory.list_companies(principal, ListQuery(offset=offset, limit=PAGE_SIZE, text=_text(q, "q")))
    may_create = principal.can(Permission.ADMIN_WRITE_ALL)
    return _listing(
        request,
        "admin_companies.html",
        found,
        q,
        offset,
        may_create=may_create,
        zones=regional.known_zones(),
        defaults=svc.directory.defaults,
    )


@router.post("/companies", **admin_write_op("create_company", ProcessType.TRACE))
async def create_company(
    request: Request,
    principal: OperatorWriter,
    svc: ServicesDep,
    key: Short,
    detail: Annotated[str, Form(max_length=1024)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
    locale: Annotated[str, Form(max_length=8)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    settings = _regional(timezone, locale, currency)
    company = await svc.directory.create_company(principal, key.strip(), _optional(detail), settings)
    return redirect(request, f"/ui/admin/companies/{company.key}", _("Company %(key)s created.", key=company.key))


@router.get("/companies/{key}", **admin_read_op("read_company", ProcessType.NOTRACE))
async def company_page(request: Request, key: Key, principal: OperatorReader, svc: ServicesDep) -> Response:
    company = await svc.directory.get_company(principal, key)
    networks = await svc.credentials.list_networks(principal, key)
    ceiling = await svc.quotas.company_ceiling(company.id)
    return page(
        request,
        "admin_company.html",
        company=company,
        networks=networks,
        ceiling=ceiling,
        zones=regional.known_zones(),
        defaults=svc.directory.defaults,
        may_edit=principal.can(Permission.ADMIN_WRITE_ALL),  # the company's own settings: platform operators
        may_write=_may_write(principal),
    )


def _regional(timezone: str, locale: str, currency: str) -> Regional:
    """The form's regional settings (a field left empty keeps the current value, or takes the default)."""
    return Regional(
        zone=timezone.strip() or UNSET, locale=locale.strip() or UNSET, currency=currency.strip().upper() or UNSET
    )


@router.post("/companies/{key}", **admin_write_op("update_company", ProcessType.TRACE))
async def update_company(
    request: Request,
    key: Key,
    principal: OperatorWriter,
    svc: ServicesDep,
    detail: Annotated[str, Form(max_length=1024)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
    locale: Annotated[str, Form(max_length=8)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    await svc.directory.update_company(principal, key, _optional(detail), _regional(timezone, locale, currency))
    return redirect(request, f"/ui/admin/companies/{key}", _("Company saved."))


@router.post("/companies/{key}/networks", **admin_write_op("create_network", ProcessType.TRACE))
async def allow_network(
    request: Request, key: Key, principal: OperatorWriter, svc: ServicesDep, cidr: Annotated[str, Form(max_length=64)]
) -> Response:
    await svc.credentials.allow_network(principal, key, cidr)
    return redirect(request, f"/ui/admin/companies/{key}#networks", _("Network allowed."))


@router.post("/companies/{key}/networks/remove", **admin_write_op("delete_network", ProcessType.TRACE))
async def deny_network(
    request: Request, key: Key, principal: OperatorWriter, svc: ServicesDep, cidr: Annotated[str, Form(max_length=64)]
) -> Response:
    await svc.credentials.deny_network(principal, key, cidr)
    return redirect(request, f"/ui/admin/companies/{key}#networks", _("Network %(cidr)s removed.", cidr=cidr))


# --- users ---------------------------------------------------------------------------------------------------
COMPANY_CHOICES = 500  # company keys offered in the new user's form (more are typed in full)


@router.get("/users", **admin_read_op("read_users", ProcessType.NOTRACE))
async def users(
    request: Request,
    principal: OperatorReader,
    svc: ServicesDep,
    q: SearchText = "",
    offset: Offset = 0,
    company: CompanyKeyParam = "",
) -> Response:
    query = ListQuery(offset=offset, limit=PAGE_SIZE, text=_text(q, "q"), company_key=company or None)
    found = await svc.directory.list_users(principal, query)
    confined = read_scope(principal) is not None
    company_keys: list[str] = []
    if not confined and _may_write(principal):  # the new user's company offered as the operator types
        listed, _, _ = await svc.directory.list_companies(principal, ListQuery(limit=COMPANY_CHOICES, sort_field="key"))
        company_keys = [c.key for c in listed]
    return _listing(
        request,
        "admin_users.html",
        found,
        q,
        offset,
        company=company,
        company_keys=company_keys,
        role_groups=_role_choices(principal),
        zones=regional.known_zones(),
        confined=confined,
        may_write=_may_write(principal),
    )


def _roles(values: list[str]) -> list[Role]:
    try:
        return [Role(v) for v in values]
    except ValueError as exc:
        raise InvalidInput(_("Unknown role"), issues=[FieldIssue("roles", _("unknown role"))]) from exc


@router.post("/users", **admin_write_op("create_user", ProcessType.TRACE))
async def create_user(
    request: Request,
    principal: OperatorWriter,
    svc: ServicesDep,
    username: Short,
    password: Short,
    company_key: Short = "",
    name: Short = "",
    email: Short = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    zone: Annotated[str, Form(max_length=64)] = "",
    roles: Annotated[list[str] | None, Form(max_length=9)] = None,
) -> Response:
    user = await svc.directory.create_user(
        principal,
        UserCreate(
            username=username.strip(),
            password=password,
            company_key=company_key.strip() or principal.company_key,
            roles=_roles(roles or []),
            specification=_optional(name),
            email=_optional(email),
            phone=_optional(phone),
            zone=_optional(zone),
        ),
    )
    return redirect(
        request, f"/ui/admin/users/{user.username}", _("User %(username)s created.", username=user.username)
    )


async def _user_page(
    request: Request, principal: Principal, svc: ServicesDep, username: str, *, new_key: str | None = None
) -> Response:
    user = await svc.directory.get_user(principal, username)
    keys = await svc.credentials.list_keys(principal, username)
    quotas = await svc.quotas.list_for_user(user.id)
    window = next(((q.window_from, q.window_to) for q in quotas if q.window_from or q.window_to), (None, None))
    return page(
        request,
        "admin_user.html",
        user=user,
        keys=keys,
        quotas=quotas,
        window=window,
        new_key=new_key,
        role_groups=_role_choices(principal),
        zones=regional.known_zones(),
        services=sorted(s.value for s in METERED_SERVICES),
        process_types=[p.value for p in ProcessType],
        may_write=_may_write(principal),
    )


@router.get("/users/{username}", **admin_read_op("read_user", ProcessType.NOTRACE))
async def user_page(request: Request, username: Username, principal: OperatorReader, svc: ServicesDep) -> Response:
    return await _user_page(request, principal, svc, username, new_key=secret_once(request))


@router.post("/users/{username}", **admin_write_op("update_user", ProcessType.TRACE))
async def update_user(
    request: Request,
    username: Username,
    principal: OperatorWriter,
    svc: ServicesDep,
    name: Short = "",
    email: Short = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    zone: Annotated[str, Form(max_length=64)] = "",
    roles: Annotated[list[str] | None, Form(max_length=9)] = None,
    password: Short = "",
) -> Response:
    change = UserUpdate(username=username)
    change.specification = _optional(name)
    change.email = _optional(email)
    change.phone = _optional(phone)
    change.zone = _optional(zone)  # empty: the company's
    change.roles = _roles(roles or [])
    change.password = password if password else UNSET
    await svc.directory.update_user(principal, change)
    return redirect(request, f"/ui/admin/users/{username}", _("User saved."))


@router.post("/users/{username}/lock", **admin_write_op("lock_user", ProcessType.TRACE))
async def lock_user(request: Request, username: Username, principal: OperatorWriter, svc: ServicesDep) -> Response:
    await svc.directory.update_user(principal, UserUpdate(username=username, enabled=False))
    return redirect(request, f"/ui/admin/users/{username}", _("User locked: its sessions and tokens have ended."))


@router.post("/users/{username}/unlock", **admin_write_op("unlock_user", ProcessType.TRACE))
async def unlock_user(request: Request, username: Username, principal: OperatorWriter, svc: ServicesDep) -> Response:
    await svc.directory.update_user(principal, UserUpdate(username=username, enabled=True))
    return redirect(request, f"/ui/admin/users/{username}", _("User unlocked."))


@router.post("/users/{username}/quota", **admin_write_op("update_quota", ProcessType.TRACE))
async def update_quota(request: Request, username: Username, principal: OperatorWriter, svc: ServicesDep) -> Response:
    form = await request.form()
    window_from = _date(form.get("window_from"), "window_from")
    window_to = _date(form.get("window_to"), "window_to")
    columns = [form.getlist(n) for n in ("service", "process_type", "per_request", "per_day", "concurrent", "window")]
    specs: list[QuotaSpec] = []
    for index, (service, ptype, per_request, per_day, concurrent, window) in enumerate(zip(*columns, strict=False)):
        if not service:
            continue
        try:
            specs.append(
                QuotaSpec(
                    service=Service(service),
                    process_type=ProcessType(ptype),
                    points_per_request=int(per_request),
                    points_per_day=int(per_day),
                    max_concurrent_execution=int(concurrent),
                    points_per_date_window=int(window) if window else None,
                    window_from=window_from,
                    window_to=window_to,
                )
            )
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                _("Row %(row)s of the quota is not valid", row=index + 1),
                issues=[FieldIssue(f"row {index + 1}", _("a known service and method group, and whole numbers"))],
            ) from exc
    user = await svc.directory.find_user(principal, username, write=True)
    await svc.quotas.set_for_user(principal, user.id, user.company_id, specs, username=user.username)
    return redirect(request, f"/ui/admin/users/{username}#quota", _("Quota saved."))


DATE_FIELDS = {"window_from": N_("Window from"), "window_to": N_("Window to"), "expires_on": N_("Expires on")}


def _date(value: object, name: str) -> date | None:
    if not value:
        return None
    try:
        return checked_day(date.fromisoformat(str(value)))
    except ValueError as exc:
        raise InvalidInput(
            _("“%(field)s” is not a date", field=_(DATE_FIELDS.get(name, name))),
            issues=[FieldIssue(name, _("a date YYYY-MM-DD"))],
        ) from exc


# --- API keys ------------------------------------------------------------------------------------------------
@router.post("/users/{username}/keys", **admin_write_op("create_api_key", ProcessType.TRACE))
async def issue_key(
    request: Request,
    username: Username,
    principal: OperatorWriter,
    svc: ServicesDep,
    name: Short = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    expires = _date(expires_on, "expires_on")
    expires_at = datetime.combine(expires, datetime.min.time(), UTC) if expires else None
    issued = await svc.credentials.issue_key(
        principal, username, KeyRequest(name=_optional(name), expires_at=expires_at)
    )
    # shown once, on the page this redirects to (sealed for it: never in a URL or the audit's stored data)
    return redirect_with_secret(request, f"/ui/admin/users/{username}#keys", _("Key issued."), issued.key)


@router.post("/keys/{key_id}/{action}", **admin_write_op("change_api_key", ProcessType.TRACE))
async def change_key(
    request: Request,
    key_id: KeyId,
    action: Annotated[str, Path(pattern="^(block|unblock|delete)$")],
    principal: OperatorWriter,
    svc: ServicesDep,
) -> Response:
    if action == "delete":
        owned = await svc.credentials.get_key(principal, key_id)
        await svc.credentials.delete_key(principal, key_id)
        said = _("Key deleted.")
    else:
        owned = await svc.credentials.set_blocked(principal, key_id, action == "block")
        said = _("Key blocked.") if action == "block" else _("Key unblocked.")
    return redirect(request, f"/ui/admin/users/{owned.username}#keys", said)


# --- audit ---------------------------------------------------------------------------------------------------
# what the audit page lists: changes (writes, the default: what an operator looks for), reads, or everything
AUDIT_KINDS: dict[str, ProcessType | None] = {"changes": ProcessType.TRACE, "reads": ProcessType.NOTRACE, "all": None}


@router.get("/audit", **admin_read_op("read_audit", ProcessType.NOTRACE))
async def audit(
    request: Request,
    principal: OperatorReader,
    svc: ServicesDep,
    date_from: Annotated[str, Query(max_length=32)] = "",
    date_to: Annotated[str, Query(max_length=32)] = "",
    username: Annotated[str, Query(max_length=256, pattern=r"^\w*$")] = "",
    company_key: Annotated[str, Query(max_length=256, pattern=r"^\w*$")] = "",
    service: Annotated[str, Query(pattern="^(|" + "|".join(Service) + ")$")] = "",
    operation: Annotated[str, Query(max_length=256)] = "",
    kind: Annotated[str, Query(pattern="^(changes|reads|all)$")] = "changes",
    offset: Offset = 0,
) -> Response:
    zone = regional_of(principal, web_of(request).runtime.settings).zone  # the zone the page shows times in
    now = svc.audit.clock.now()
    start = _moment(date_from, "date_from", zone)
    end = _moment(date_to, "date_to", zone) or now
    if start is None:
        start = end - timedelta(days=1)
    rows, overall, filtered = await svc.audit.search(
        AuditQuery(
            date_from=start,
            date_to=end,
            company_id=read_scope(principal),
            company_key=company_key or None,
            username=username or None,
            services=(Service(service),) if service else None,
            operation_contains=_text(operation, "operation"),
            operation_matches=operations_labelled(operation, {op.name for op in declared_operations()}),
            process_type=AUDIT_KINDS[kind],
            descending=True,
            offset=offset,
            limit=AUDIT_PAGE,
        )
    )
    set_result_elements(len(rows))
    form = {
        "date_from": start.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "date_to": end.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "username": username,
        "company_key": company_key,
        "service": service,
        "operation": operation,
        "kind": kind,
    }
    return page(
        request,
        "admin_audit.html",
        kinds=list(AUDIT_KINDS),
        rows=rows,
        overall=overall,
        filtered=filtered,
        form=form,
        services=[s.value for s in Service],
        offset=offset,
        size=AUDIT_PAGE,
    )


@router.get("/audit/{code}/{flow}", **admin_read_op("read_data", ProcessType.NOTRACE))
async def audit_payload(
    request: Request,
    code: uuid.UUID,
    flow: Annotated[str, Path(pattern="^(input|output)$")],
    principal: OperatorReader,
    svc: ServicesDep,
) -> Response:
    """The data a process received or sent, as a file named after its operation and time (in the viewer's zone):
    JSON indented and in UTF-8 (Cyrillic as letters, not escapes), anything else as it was stored."""
    scope = read_scope(principal)
    action = await svc.audit.get_action(code, company_id=scope, user_id=None)
    data = await svc.audit.read_payload(code, FlowType(flow.upper()), company_id=scope, user_id=None)
    set_result_elements(1)
    zone = regional_of(principal, web_of(request).runtime.settings).zone
    stem = f"{action.operation}_{action.started_at.astimezone(zone):%Y-%m-%d_%H-%M-%S}_{flow}"
    try:
        readable = json.dumps(json.loads(data), ensure_ascii=False, indent=2).encode()
    except (ValueError, RecursionError):
        readable = None
    if readable is not None:
        body, media_type, filename = readable, "application/json; charset=utf-8", f"{stem}.json"
    else:
        body, media_type, filename = data, "application/octet-stream", f"{stem}.bin"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# --- usage ---------------------------------------------------------------------------------------------------
async def _usage_query(
    principal: Principal, svc: ServicesDep, username: str, date_from: str | None, date_to: str | None
) -> UsageQuery:
    user_id, tz = None, principal.timezone
    if username:
        user = await svc.directory.find_user(principal, username, write=False)
        user_id, tz = user.id, user.timezone
    today = (svc.usage.clock.now() + timedelta(hours=tz)).date()
    period = period_of(today, date_from, date_to)
    return UsageQuery(date_from=period.start, date_to=period.end, user_id=user_id, company_id=read_scope(principal))


UsernameFilter = Annotated[str, Query(max_length=256, pattern=r"^\w*$")]
DateParam = Annotated[str | None, Query(max_length=10)]


@router.get("/usage", **admin_read_op("generate_statistics", ProcessType.NOTRACE))
async def usage(
    request: Request,
    principal: OperatorReader,
    svc: ServicesDep,
    username: UsernameFilter = "",
    date_from: DateParam = None,
    date_to: DateParam = None,
) -> Response:
    query = await _usage_query(principal, svc, username, date_from, date_to)
    rows = await svc.usage.daily(query)
    who = username or (principal.company_key if query.company_id is not None else _("all users"))
    chart = usage_chart(rows, query.date_from, query.date_to, _("Daily points per service: %(who)s", who=who))
    set_result_elements(len(rows))
    summary = usage_summary(rows)
    return page(request, "admin_usage.html", chart=chart, summary=summary, query=query, username=username, who=who)


@router.get("/usage/report", **admin_read_op("generate_report", ProcessType.NOTRACE))
async def usage_report(
    principal: OperatorReader,
    svc: ServicesDep,
    username: UsernameFilter = "",
    date_from: DateParam = None,
    date_to: DateParam = None,
) -> FileResponse:
    query = await _usage_query(principal, svc, username, date_from, date_to)
    label = username or (principal.company_key if query.company_id is not None else "all")
    return await usage_report_file(svc.usage, query, label)


def _moment(value: str, name: str, zone: tzinfo) -> datetime | None:
    """A moment typed in a form: without an offset it is a time in the page's zone (a datetime-local field)."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError:
        naive = None
    if naive is not None and naive.tzinfo is None:
        try:
            return checked_moment(naive.replace(tzinfo=zone))
        except (ValueError, OverflowError) as exc:
            raise InvalidInput(f"'{name}' is {OUT_OF_RANGE}", issues=[FieldIssue(name, OUT_OF_RANGE)]) from exc
    return parse_datetime(value, name=name, tz_hours=0)
