"""The pages' languages: message catalogs (gettext ``.po`` files under ``locale/``, read with Babel at start and
compiled in memory, so there is no build step and no generated file), the visitor's language, and the gettext
the templates and the routes translate with.

The language of a request, first found: the person's saved preference, the ``cabinet_locale`` cookie the switch
on every page sets, the browser's ``Accept-Language``, the deployment default (``CABINET_DEFAULT_LOCALE``).
"""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Iterable
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LOCALES = ("ru", "en")
LOCALE_NAMES = {"ru": "Русский", "en": "English"}
LOCALE_COOKIE = "cabinet_locale"
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600

_current: ContextVar[str] = ContextVar("cabinet_web_locale", default="ru")


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The catalog of ``locale``, compiled from its ``.po`` in memory (English is the source language: its
    catalog only carries plural forms and the few wordings that differ from the source)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def supported(value: str | None) -> str | None:
    """``value`` as one of the supported languages (``ru-RU`` → ``ru``), or None."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return code if code in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an ``Accept-Language`` header, by quality then order."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        code = supported(tag)
        if code and quality > 0:
            ranked.append((-quality, index, code))
    return min(ranked)[2] if ranked else None


def negotiate(request: Request, preference: str | None, default: str) -> str:
    """The language of this request (see the module's text)."""
    return (
        supported(preference)
        or supported(request.cookies.get(LOCALE_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or supported(default)
        or LOCALES[0]
    )


def activate(locale: str) -> None:
    """Translate what this request renders from now on into ``locale``."""
    _current.set(locale)


def current_locale() -> str:
    return _current.get()


def gettext(message: str, **variables: Any) -> str:
    text = translations(_current.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(_current.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def template_gettext(message: str) -> str:
    """The templates' ``_``/``gettext`` (Jinja's newstyle wrapper escapes and fills in the variables)."""
    return translations(_current.get()).gettext(message)


def template_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def template_pgettext(context: str, message: str) -> str:
    """``pgettext("material", "Name")``: one English word that reads differently in Russian by what it names."""
    return translations(_current.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Marks ``message`` for extraction where it is defined; it is translated when shown (``gettext(message)``)."""
    return message


# What people read for the values the APIs exchange (the values themselves never change).
LABELS: dict[str, dict[str, str]] = {
    "call_status": {"New": N_("New"), "Committed": N_("In progress"), "Done": N_("Done"), "Closed": N_("Closed")},
    "task_status": {"New": N_("Open"), "Done": N_("Done"), "Canceled": N_("Canceled")},
    "cost_status": {"Draft": N_("Draft"), "InProgress": N_("Sent for review"), "Processed": N_("Reviewed")},
    "line_status": {
        "New": N_("Awaiting review"),
        "Approved": N_("Approved"),
        "ApprovedWithCorrection": N_("Approved with correction"),
        "Rejected": N_("Rejected"),
    },
    "material_owner": {
        "Unknown": N_("Unknown"),
        "Contractor": N_("Contractor's"),
        "ContractHolders": N_("Contract holder's"),
    },
    "role": {
        "ADMIN": N_("Platform administrator"),
        "PARTNER": N_("Partner agent"),
        "USER": N_("Contractor employee"),
        "BOT": N_("Integration (bot)"),
        "COMPANYOWNER": N_("Company administrator"),
        "OVERLORD": N_("Platform owner"),
        "CREW": N_("Field crew member"),
        "CREWMANAGER": N_("Crew manager"),
        "SUPPORT": N_("Support (read-only)"),
    },
    "service": {
        "UNIVERSAL": N_("Universal"),
        "ROUTING": N_("Routing"),
        "ACCOUNT": N_("Account"),
        "ADMIN": N_("Administration"),
        "STUDIO": N_("Field service"),
        "MONITOR": N_("Monitoring"),
        "PACKER": N_("Packing"),
        "AGRO": N_("Agro"),
        "REGISTRY": N_("Data API"),
        "SUPPORT": N_("Support"),
    },
    "quota_group": {
        "NOTRACE": N_("Reads"),
        "TRACE": N_("Changes"),
        "PLAN": N_("Planning"),
        "CONVERT": N_("Conversions"),
        "VALIDATE": N_("Validation (dry runs)"),
        "ROUTE": N_("Routing"),
        "MATRIX": N_("Distance matrices"),
    },
    "notification": {
        "call_assigned": N_("New call assigned"),
        "call_closed": N_("Call closed"),
        "call_cost_processed": N_("Cost estimate reviewed"),
        "dispatcher_message": N_("Message from the dispatcher"),
        "field_report": N_("Report from the field"),
        "jeopardy_answered": N_("Answer to a deadline risk"),
    },
    "webhook_event": {
        "company.created": N_("A company was created"),
        "company.updated": N_("A company was changed"),
        "company.deleted": N_("A company was deleted"),
        "user.created": N_("A user was created"),
        "user.updated": N_("A user was changed"),
        "user.locked": N_("A user was locked"),
        "user.unlocked": N_("A user was unlocked"),
        "user.deleted": N_("A user was deleted"),
        "call.created": N_("A call was created"),
        "call.updated": N_("A call was changed"),
        "call.status_changed": N_("A call's status changed"),
        "call.message_created": N_("A message on a call"),
        "call.jeopardy_raised": N_("A deadline risk was raised"),
        "call.jeopardy_answered": N_("A deadline risk was answered"),
        "call.field_report_submitted": N_("A field report was sent"),
        "call.attachment_created": N_("A file was attached to a task"),
        "call_cost.sent": N_("An estimate was sent for review"),
        "call_cost.processed": N_("An estimate was reviewed"),
        "webhook.test": N_("A test event"),
    },
    "audit_kind": {"changes": N_("Changes"), "reads": N_("Reads"), "all": N_("Everything")},
    "audit_target": {
        "user": N_("user"),
        "company": N_("company"),
        "key": N_("API key"),
        "webhook": N_("webhook"),
        "call": N_("call"),
        "task": N_("task"),
        "notification": N_("notification"),
        "estimate": N_("estimate of call"),
    },
    "key_state": {"active": N_("Active"), "blocked": N_("Blocked"), "replaced": N_("Replaced, in grace period")},
    "user_state": {"active": N_("Active"), "locked": N_("Locked")},
    # an operation as the audit records it, by its action: a page's ``ui_createCallCost`` and the contractor API's
    # ``createCallCost`` name the same action, as do the Data API's ``get.calls`` and ``getCalls`` (``operation_key``)
    "operation": {
        "add_call_cost_expense": N_("Add an expense to an estimate"),
        "add_call_cost_material": N_("Add a material to an estimate"),
        "answer_call_jeopardy": N_("Answer a deadline risk"),
        "attach_call_task_file": N_("Attach a file to a task"),
        "attach_shared_call_task_file": N_("Attach a photo by field link"),
        "block_api_key": N_("Block an API key"),
        "change_api_key": N_("Change an API key"),
        "change_call_cost_approval_status": N_("Review estimate lines"),
        "change_password": N_("Change password"),
        "close_call": N_("Close a call"),
        "create_api_key": N_("Create an API key"),
        "create_call": N_("Create a call"),
        "create_call_cost": N_("Start an estimate"),
        "create_call_messages": N_("Post call messages"),
        "create_call_temp_link": N_("Issue a field link"),
        "create_company": N_("Create a company"),
        "create_network": N_("Allow a network"),
        "create_user": N_("Create a user"),
        "create_users": N_("Create users"),
        "create_webhook": N_("Create a webhook"),
        "delete_api_key": N_("Delete an API key"),
        "delete_call_cost_expense": N_("Remove an expense from an estimate"),
        "delete_call_cost_material": N_("Remove a material from an estimate"),
        "delete_company": N_("Delete a company"),
        "delete_company_quota": N_("Reset a company's quota"),
        "delete_network": N_("Remove an allowed network"),
        "delete_quota": N_("Reset a user's quota"),
        "delete_user": N_("Delete a user"),
        "delete_users": N_("Delete users"),
        "delete_webhook": N_("Delete a webhook"),
        "disable_users": N_("Lock users"),
        "download_call_signature": N_("Download a signature"),
        "download_call_task_file": N_("Download a task file"),
        "download_shared_call_task_file": N_("Download a file by field link"),
        "enable_users": N_("Unlock users"),
        "generate_report": N_("Usage report (XLSX)"),
        "generate_statistics": N_("Usage statistics"),
        "get_account": N_("Read the account"),
        "get_api_keys": N_("List API keys"),
        "get_audit_actions": N_("Read the audit"),
        "get_call": N_("Open a call"),
        "get_call_cost": N_("Open an estimate"),
        "get_call_cost_modifications": N_("Sync estimates"),
        "get_call_costs": N_("List estimates"),
        "get_call_evidence": N_("Download the evidence bundle"),
        "get_call_jeopardies": N_("List deadline risks"),
        "get_call_jeopardy_modifications": N_("Sync deadline risks"),
        "get_call_message_modifications": N_("Sync messages"),
        "get_call_messages": N_("List messages"),
        "get_call_modifications": N_("Sync calls"),
        "get_call_task": N_("Open a task"),
        "get_call_task_file": N_("Read a task file's details"),
        "get_call_task_modifications": N_("Sync tasks"),
        "get_call_task_result": N_("Read a task's result"),
        "get_call_tasks": N_("List tasks"),
        "get_call_work_report": N_("Download the work report (PDF)"),
        "get_calls": N_("List calls"),
        "get_companies": N_("List companies"),
        "get_customer_users": N_("List customer users"),
        "get_notifications": N_("List notifications"),
        "get_self": N_("Read own profile"),
        "get_shared_call": N_("Open a call by field link"),
        "get_shared_call_task_result": N_("Read a task's result by field link"),
        "get_usage_statistics": N_("Usage statistics"),
        "get_users": N_("List users"),
        "getobj_account": N_("Read the account"),
        "list_call_tasks": N_("List tasks"),
        "list_calls": N_("List calls"),
        "list_notifications": N_("List notifications"),
        "lock_user": N_("Lock a user"),
        "login_user": N_("Sign in"),
        "logout_user": N_("Sign out"),
        "patch_call": N_("Edit a call"),
        "patch_call_cost_expense": N_("Edit an estimate's expense"),
        "patch_call_cost_material": N_("Edit an estimate's material"),
        "patch_system_settings": N_("Change system settings"),
        "post_call_message": N_("Write a message"),
        "post_dispatcher_message": N_("Dispatcher's message"),
        "post_shared_call_signature": N_("Customer's signature by field link"),
        "post_shared_call_visit": N_("Check in or out on site"),
        "raise_call_jeopardy": N_("Raise a deadline risk"),
        "read_account": N_("Open the account"),
        "read_all_notifications": N_("Mark all notifications read"),
        "read_api_keys": N_("List API keys"),
        "read_audit": N_("Read the audit"),
        "read_companies": N_("List companies"),
        "read_company": N_("Open a company"),
        "read_company_quota": N_("Read a company's quota"),
        "read_data": N_("Download stored request data"),
        "read_info": N_("Read account info"),
        "read_networks": N_("List allowed networks"),
        "read_notification": N_("Mark a notification read"),
        "read_quota": N_("Read a quota"),
        "read_user": N_("Open a user"),
        "read_users": N_("List users"),
        "read_webhook": N_("Open a webhook"),
        "read_webhook_deliveries": N_("List webhook deliveries"),
        "read_webhooks": N_("List webhooks"),
        "refresh_token": N_("Refresh a token"),
        "register_user": N_("Register a contractor user"),
        "replay_webhook_delivery": N_("Resend a webhook delivery"),
        "report_shared_call_done": N_("Field report: work done"),
        "revoke_api_keys": N_("Revoke all API keys"),
        "revoke_own_api_keys": N_("Revoke own API keys"),
        "rotate_api_key": N_("Rotate an API key"),
        "rotate_own_api_key": N_("Rotate own API key"),
        "rotate_webhook_secret": N_("Rotate a webhook secret"),
        "send_call_cost": N_("Send an estimate for review"),
        "set_call_status": N_("Change a call's status"),
        "set_call_task_status": N_("Change a task's status"),
        "test_webhook": N_("Send a test webhook"),
        "thumb_call_task_file": N_("Photo preview"),
        "thumb_shared_file": N_("Photo preview by field link"),
        "unblock_api_key": N_("Unblock an API key"),
        "unlock_user": N_("Unlock a user"),
        "update_company": N_("Edit a company"),
        "update_company_quota": N_("Set a company's quota"),
        "update_info": N_("Edit account info"),
        "update_networks": N_("Replace allowed networks"),
        "update_quota": N_("Set a user's quota"),
        "update_user": N_("Edit a user"),
        "update_users": N_("Edit users"),
        "update_webhook": N_("Edit a webhook"),
    },
    "run_status": {
        "WAITING": N_("Waiting"),
        "IN_PROGRESS": N_("Running"),
        "FINISHED_IN_TIME": N_("Finished"),
        "FINISHED_OUT_OF_TIME": N_("Finished late"),
        "CANCELED": N_("Canceled"),
        "CANCELED_BY_TIMEOUT": N_("Canceled: time-out"),
        "CANCELED_BY_QUOTA": N_("Canceled: quota"),
        "FAILED": N_("Failed"),
    },
}


def label(kind: str, value: object) -> str:
    """The translated label of an API value of ``kind`` (an unknown value is shown as it is)."""
    raw = getattr(value, "value", value)
    text = LABELS.get(kind, {}).get(str(raw))
    return gettext(text) if text else str(raw if raw is not None else "")


def operation_key(operation: str) -> str:
    """The action an audited operation names, whichever API or page ran it: ``ui_createCallCost``,
    ``createCallCost`` and ``create_call_cost`` are all ``create_call_cost``; ``get.calls`` is ``get_calls``."""
    name = operation.removeprefix("ui_").replace(".", "_")
    return _CAMEL_HUMP.sub("_", name).lower()


_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


def operation_label(operation: str) -> str:
    """An audited operation in the reader's language ("Создание пользователя"); one not labelled is shown as it
    is (the table's test keeps every declared operation labelled)."""
    text = LABELS["operation"].get(operation_key(operation))
    return gettext(text) if text else operation


def operations_labelled(text: str, operations: Iterable[str]) -> tuple[str, ...]:
    """Those of ``operations`` whose label, in the reader's language, has ``text`` in it (ignoring case): the audit
    page's operation search finds "пользоват" as well as "create_user"."""
    wanted = text.strip().casefold()
    if not wanted:
        return ()
    return tuple(sorted({op for op in operations if wanted in operation_label(op).casefold()}))


def target_label(target: str | None) -> str:
    """An audit record's target ("user petrov_ivan") in the reader's language ("пользователь petrov_ivan")."""
    if not target:
        return ""
    kind, _space, name = target.partition(" ")
    return f"{label('audit_target', kind)} {name}".strip()


def display_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(LOCALES[0])


# The domain writes a notification's text once, in English (the contractor API serves it as it is); the pages say
# the same in the reader's language from the parts of that text.
_NOTICES: dict[str, tuple[re.Pattern[str], str]] = {
    "call_assigned": (
        re.compile(r"Call (?P<number>\S+) was assigned to you: (?P<client>.*)\Z", re.S),
        N_("%(number)s · %(client)s"),
    ),
    "call_closed": (re.compile(r"Call (?P<number>\S+) was closed\Z"), N_("Call %(number)s was closed")),
    "dispatcher_message": (
        re.compile(r"New message on call (?P<number>\S+): (?P<text>.*)\Z", re.S),
        N_("New message on call %(number)s: %(text)s"),
    ),
    "jeopardy_answered": (
        re.compile(r"Your jeopardy on call (?P<number>\S+) was answered: (?P<answer>.*)\Z", re.S),
        N_("The deadline risk you raised on call %(number)s was answered: %(answer)s"),
    ),
    "field_report": (
        re.compile(r"The field employee reported call (?P<number>\S+) done: (?P<comment>.*)\Z", re.S),
        N_("The field employee reported call %(number)s done: %(comment)s"),
    ),
    "call_cost_processed": (
        re.compile(
            r"The cost estimate of call (?P<number>\S+) was processed: (?P<approved>\d+) approved, "
            r"(?P<corrected>\d+) approved with correction, (?P<rejected>\d+) rejected\Z"
        ),
        N_(
            "The cost estimate of call %(number)s was reviewed: %(approved)s approved, %(corrected)s approved "
            "with correction, %(rejected)s rejected"
        ),
    ),
}


def notification_text(kind: str, text: str) -> str:
    """A notification's text in the reader's language (a text of an unknown shape is shown as it is)."""
    known = _NOTICES.get(kind)
    match = known[0].match(text) if known else None
    if known is None or match is None:
        return text
    return gettext(known[1], **match.groupdict())
