"""The pages' languages: message catalogs (gettext ``.po`` files under ``locale/``, read with Babel at start and
compiled in memory, so there is no build step and no generated file), the visitor's language, and the gettext
the templates and the routes translate with.

The language of a request, first found: the person's saved preference, the ``cabinet_locale`` cookie the switch
on every page sets, the browser's ``Accept-Language``, the deployment default (``CABINET_DEFAULT_LOCALE``).
"""

from __future__ import annotations

import gettext as _gettext
import re
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
