"""The pages in Russian and English: complete catalogs, the language each visitor gets, labels instead of raw
API values, and numbers, money and times in the language's formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from starlette.requests import Request

from cabinet.apis.web import formats, i18n
from cabinet.core.metering import ProcessType, Service
from cabinet.core.roles import Role
from cabinet.domains.fieldservice.schemas import NOTIFICATION_KINDS
from cabinet.domains.fieldservice.states import CallStatus, CostStatus, LineStatus, MaterialOwner, TaskStatus
from cabinet.domains.identity.schemas import UserUpdate
from cabinet.domains.webhooks.schemas import EVENT_TYPES
from tests.apis.web.support import csrf_of, sign_in, web_client
from tests.helpers import UserFactory

WEB = Path(i18n.__file__).parent
PACKAGE = WEB.parent.parent  # src/cabinet: what `./dev i18n` extracts from, with the same mapping


def _source_messages() -> set[str]:
    with (WEB / "locale" / "babel.cfg").open(encoding="utf-8") as cfg:
        methods, options = parse_mapping_cfg(cfg)
    found = extract_from_dir(
        str(PACKAGE), methods, options_map=options, keywords={**_keywords()}, strip_comment_tags=True
    )
    return {message if isinstance(message, str) else message[0] for _f, _l, message, _c, _x in found}


def _keywords() -> dict[str, Any]:
    from babel.messages.extract import DEFAULT_KEYWORDS

    return {**DEFAULT_KEYWORDS, "N_": None}


def _catalog(locale: str) -> Any:
    with (WEB / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def test_every_message_of_the_pages_is_in_both_catalogs_and_translated_to_russian() -> None:
    source = _source_messages()
    assert len(source) > 100
    for locale in i18n.LOCALES:
        catalog = _catalog(locale)
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        missing = source - ids
        assert not missing, f"{locale} catalog misses {sorted(missing)} (run ./dev i18n)"
        stale = ids - source
        assert not stale, f"{locale} catalog keeps messages no page uses: {sorted(stale)} (run ./dev i18n)"
    untranslated = [m.id for m in _catalog("ru") if m.id and not (all(m.string) if m.pluralizable else m.string)]
    assert not untranslated, f"ru catalog has no translation for {untranslated}"
    fuzzy = [m.id for m in _catalog("ru") if m.id and m.fuzzy]
    assert not fuzzy, f"ru catalog has unchecked (fuzzy) translations: {fuzzy}"


def test_translations_keep_the_placeholders_of_their_message() -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    for message in _catalog("ru"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set().union(*(placeholder.findall(i) for i in ids))
        for text in strings:
            assert set(placeholder.findall(text)) <= wanted | {"num"}, (message.id, text)
            assert set(placeholder.findall(text)) >= wanted - {"num"}, (message.id, text)


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("call_status", list(CallStatus)),
        ("task_status", list(TaskStatus)),
        ("cost_status", list(CostStatus)),
        ("line_status", list(LineStatus)),
        ("material_owner", list(MaterialOwner)),
        ("role", list(Role)),
        ("service", list(Service)),
        ("quota_group", list(ProcessType)),
        ("notification", list(NOTIFICATION_KINDS)),
        ("webhook_event", list(EVENT_TYPES)),
    ],
)
def test_every_api_value_shown_to_people_has_a_label_in_both_languages(kind: str, values: list[Any]) -> None:
    for locale in i18n.LOCALES:
        i18n.activate(locale)
        for value in values:
            raw = getattr(value, "value", value)
            assert str(raw) in i18n.LABELS[kind], f"{kind} {raw} has no label"
            if locale == "ru":
                assert not re.search("[A-Za-z]{4,}", i18n.label(kind, value).replace("Data API", "")), (kind, raw)
    i18n.activate("ru")
    assert i18n.label("call_status", CallStatus.COMMITTED) == "В работе"
    i18n.activate("en")
    assert i18n.label("call_status", "Committed") == "In progress"
    assert i18n.label("call_status", "SomethingNew") == "SomethingNew"  # an unknown value is shown as it is


def test_every_audited_operation_has_a_label_in_both_languages(app: Any) -> None:
    """The audit page names each operation in words: every operation the apps declared (the app fixture built them
    all), from each API and page, has a label, and the Russian one is Russian."""
    from cabinet.core.metering import declared_operations

    operations = {op.name for op in declared_operations()}
    assert {"ui_create_user", "createCallCost", "get.calls", "read_info"} <= operations
    for name in operations:
        assert i18n.operation_key(name) in i18n.LABELS["operation"], f"operation {name} has no label"
    assert i18n.operation_key("ui_createCallCost") == i18n.operation_key("createCallCost") == "create_call_cost"
    i18n.activate("ru")
    for name in operations:
        words = re.sub(r"\b(API|PDF|XLSX)\b", "", i18n.operation_label(name))
        assert not re.search("[A-Za-z]{3,}", words), name
    assert i18n.operation_label("ui_lock_user") == "Блокировка пользователя"
    assert "ui_create_user" in i18n.operations_labelled("создание ПОЛЬЗ", operations)
    i18n.activate("en")
    assert i18n.operation_label("get.calls") == "List calls"
    assert i18n.operation_label("someNewThing") == "someNewThing"  # one not labelled is shown as it is


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/ui/", "headers": raw, "query_string": b""})


def test_negotiation_order_preference_cookie_browser_default() -> None:
    both = {"cookie": "cabinet_locale=en", "accept-language": "ru-RU,ru;q=0.9"}
    assert i18n.negotiate(_request(both), "ru", "en") == "ru"  # the saved preference first
    assert i18n.negotiate(_request(both), None, "ru") == "en"  # then the switch's cookie
    assert i18n.negotiate(_request({"accept-language": "de-DE, en;q=0.8, ru;q=0.9"}), None, "en") == "ru"
    assert i18n.negotiate(_request({"accept-language": "de, fr;q=0.5"}), None, "en") == "en"  # the default
    assert i18n.negotiate(_request({"cookie": "cabinet_locale=xx"}), None, "ru") == "ru"
    assert i18n.from_accept_language("en-GB;q=0, ru;q=bad, en-US") == "en"
    assert i18n.from_accept_language("*") is None
    assert i18n.supported("ru_RU") == "ru" and i18n.supported("") is None


async def test_html_lang_follows_the_browser_then_the_switch(app: Any, settings: Any) -> None:
    async with web_client(app, language="ru-RU,ru;q=0.9,en;q=0.8") as russian:
        login = await russian.get("/ui/login")
        assert '<html lang="ru">' in login.text and "Войти" in login.text and ">Sign in<" not in login.text
        switch = await russian.get("/ui/locale/en", params={"next": "/ui/login"})
        assert switch.status_code == 303 and switch.headers["location"] == "/ui/login"
        cookie = switch.headers["set-cookie"].lower()
        assert "cabinet_locale=en" in cookie and "path=/ui" in cookie and "samesite=lax" in cookie
        english = await russian.get("/ui/login")
        assert '<html lang="en">' in english.text and ">Sign in<" in english.text
        # the switch links back to the page it is on, and never to another site
        assert 'href="/ui/locale/ru?next=%2Fui%2Flogin"' in english.text
        away = await russian.get("/ui/locale/ru", params={"next": "//evil.example/"})
        assert away.headers["location"] == "/ui/"
        assert (await russian.get("/ui/locale/de")).status_code == 404
    async with web_client(app, language=None) as plain:  # no Accept-Language: the deployment's default
        assert f'<html lang="{settings.default_locale}">' in (await plain.get("/ui/login")).text


class _Text(HTMLParser):
    """The text a person reads on a page: text nodes and the attributes read aloud or shown."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "alt", "title", "placeholder") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _english_on(html: str) -> list[str]:
    """Catalog messages shown in English although Russian has its own words for them."""
    parser = _Text()
    parser.feed(html)
    shown = set(parser.texts)
    english = []
    for message in _catalog("ru"):
        source = message.id if isinstance(message.id, str) else message.id[0]
        translated = message.string if isinstance(message.string, str) else message.string[0]
        if source and "%(" not in source and translated != source and source in shown:
            english.append(source)
    return english


async def test_a_russian_page_shows_no_english_catalog_string(app: Any, make_user: UserFactory) -> None:
    owner = await make_user(roles=[Role.COMPANYOWNER, Role.USER], company="i18n_ru_co")
    async with web_client(app, language="ru") as browser:
        login = await browser.get("/ui/login")
        assert _english_on(login.text) == []
        await sign_in(browser, owner.username, owner.password)
        for path in ("/ui/account", "/ui/calls", "/ui/notifications", "/ui/admin/users", "/ui/no-such-page"):
            answer = await browser.get(path)
            assert '<html lang="ru">' in answer.text, path
            assert _english_on(answer.text) == [], path
        # the bait: the same page in English does show them (the check is not blind)
        await browser.get("/ui/locale/en")
        assert _english_on((await browser.get("/ui/account")).text)


def test_numbers_money_and_deadlines_in_russian_and_english() -> None:
    i18n.activate("ru")
    assert formats.number(Decimal("12345.5")) == "12\xa0345,5"
    assert formats.number(Decimal("2.5"), 2) == "2,50"
    assert formats.money(Decimal("12345.5"), "RUB") == "12\xa0345,50\xa0₽"
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert formats.relative(now + timedelta(hours=3), now) == "через 3 ч"
    assert formats.relative(now - timedelta(hours=2, minutes=10), now) == "просрочено на 2 ч 10 мин"
    assert formats.relative(now + timedelta(days=2, hours=5, minutes=7), now) == "через 2 дн. 5 ч"
    # an address never breaks between "д." and its number, nor "№" and its number; other words still wrap
    assert (
        formats.kept_together("г. Москва, ул. Тверская, д. 7, корп. 2")
        == "г.\xa0Москва, ул.\xa0Тверская, д.\xa07, корп.\xa02"
    )
    assert formats.kept_together("Банкомат № 42") == "Банкомат №\xa042"
    assert formats.kept_together("Москва, под. 5, Ленинградский пр-т") == "Москва, под. 5, Ленинградский пр-т"
    assert formats.kept_together(None) == ""
    moscow = ZoneInfo("Europe/Moscow")
    assert formats.when(now, moscow) == "4 дек. 2026, 12:00 МСК"
    assert formats.when(now, moscow, now=now) == "4 дек., 12:00 МСК"  # the current year goes without saying
    assert formats.when(now, moscow, seconds=True, now=now) == "4 дек., 12:00:00 МСК"
    assert formats.when(now, moscow, now=now + timedelta(days=400)) == "4 дек. 2026, 12:00 МСК"
    new_year = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)  # already 2027 in Moscow
    assert formats.when(new_year, moscow, now=datetime(2026, 12, 31, 12, 0, tzinfo=UTC)) == "1 янв. 2027, 00:30 МСК"
    assert formats.zone_label(ZoneInfo("Asia/Yekaterinburg"), now) == "UTC+5"
    assert formats.zone_label(ZoneInfo("Asia/Kolkata"), now) == "UTC+5:30"
    assert formats.zone_label(ZoneInfo("America/New_York"), now) == "UTC−5"
    assert formats.zone_label(ZoneInfo("UTC"), now) == "UTC"
    i18n.activate("en")
    assert formats.number(Decimal("12345.5")) == "12,345.5"
    assert formats.money(Decimal("12345.5"), "USD") == "$12,345.50"
    assert formats.relative(now + timedelta(hours=3), now) == "in 3 hr"
    assert formats.relative(now - timedelta(hours=2, minutes=10), now) == "overdue by 2 hr 10 min"
    assert formats.when(now, moscow) == "Dec 4, 2026, 12:00 PM MSK"
    assert formats.when(now, moscow, now=now) == "Dec 4, 12:00 PM MSK"
    i18n.activate("ru")
    assert i18n.ngettext("%(num)s point", "%(num)s points", 1) == "1 балл"
    assert i18n.ngettext("%(num)s point", "%(num)s points", 3) == "3 балла"
    assert i18n.ngettext("%(num)s point", "%(num)s points", 25) == "25 баллов"
    i18n.activate("en")
    assert i18n.ngettext("%(num)s point", "%(num)s points", 1) == "1 point"
    assert i18n.ngettext("%(num)s point", "%(num)s points", 2) == "2 points"


async def test_the_account_page_in_russian_formats_its_times(app: Any, make_user: UserFactory) -> None:
    user = await make_user(roles=[Role.USER], company="i18n_fmt_co")
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, user.username, user.password)
        account = await browser.get("/ui/account")
        assert "Мой аккаунт" in account.text and "Часовой пояс" in account.text
    assert isinstance(account, httpx.Response)


async def test_a_person_chooses_a_time_zone_and_language_kept_in_step_with_the_offset(
    app: Any, make_user: UserFactory, services: Any
) -> None:
    user = await make_user(roles=[Role.USER], company="i18n_zone_co")
    async with web_client(app, language="en") as browser:
        await sign_in(browser, user.username, user.password)
        account = await browser.get("/ui/account")
        # never chosen: the company's zone, which is the deployment's default (the company predates the settings)
        assert "Moscow (UTC+3) · Europe/Moscow" in account.text  # named as the zone list names it
        token = csrf_of(account.text)
        saved = await browser.post(
            "/ui/account/regional", data={"zone": "Asia/Yekaterinburg", "locale": "ru", "csrf_token": token}
        )
        assert saved.status_code == 303
        row = await services.identity.get_account_by_id(user.id)
        assert (row.zone, row.locale, row.timezone) == ("Asia/Yekaterinburg", "ru", 5)  # the integer in step
        russian = await browser.get("/ui/account")  # the saved preference outranks the browser's English
        assert '<html lang="ru">' in russian.text and "Екатеринбург (UTC+5) · Asia/Yekaterinburg" in russian.text
        bad = await browser.post("/ui/account/regional", data={"zone": "Mars/Base", "csrf_token": token})
        assert bad.status_code == 400
        # the switch of a signed-in person saves the preference too (a cookie alone would lose to it)
        switched = await browser.post(
            "/ui/account/locale", data={"locale": "en", "next": "/ui/account", "csrf_token": token}
        )
        assert switched.status_code == 303 and switched.headers["location"] == "/ui/account"
        assert (await services.identity.get_account_by_id(user.id)).locale == "en"
        assert '<html lang="en">' in (await browser.get("/ui/account")).text
        # an API writing the integer offset moves the zone to that offset when they disagree
        await services.directory.update_user(await _operator(services), UserUpdate(username=user.username, timezone=2))
        row = await services.identity.get_account_by_id(user.id)
        assert (row.zone, row.timezone) == ("Etc/GMT-2", 2)
        assert "UTC+2 · Etc/GMT-2" in (await browser.get("/ui/account")).text  # no place, no "GMT-2 (UTC+2)"
        # back to the company's zone
        await browser.post("/ui/account/regional", data={"zone": "", "locale": "", "csrf_token": token})
        row = await services.identity.get_account_by_id(user.id)
        assert (row.zone, row.locale) == (None, None)


async def _operator(services: Any) -> Any:
    from cabinet.core.principal import CredentialKind, Principal

    return Principal(0, "root", 0, "root_co", (Role.ADMIN,), 0, CredentialKind.ACCESS)


async def test_times_carry_their_zone_and_a_company_sets_zone_and_currency(
    app: Any, make_user: UserFactory, services: Any
) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="i18n_admin_co")
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, admin.username, admin.password)
        listing = await browser.get("/ui/admin/companies")
        token = csrf_of(listing.text)
        created = await browser.post(
            "/ui/admin/companies",
            data={
                "key": "i18n_new_co",
                "timezone": "Asia/Kolkata",
                "locale": "en",
                "currency": "inr",
                "csrf_token": token,
            },
        )
        assert created.status_code == 303
        company = await services.directory.get_company(await _operator(services), "i18n_new_co")
        assert (company.zone, company.locale, company.currency) == ("Asia/Kolkata", "en", "INR")
        bad = await browser.post(
            "/ui/admin/companies/i18n_new_co", data={"timezone": "Nowhere/Town", "csrf_token": token}
        )
        assert bad.status_code == 400
        users = await browser.get(f"/ui/admin/users/{admin.username}")
        # the operator's own times: the company's zone is the deployment's Moscow, labelled in Russian
        assert "МСК" in users.text


def _error_classes(root: type) -> list[type]:
    found = []
    for sub in root.__subclasses__():
        found += [sub, *_error_classes(sub)]
    return found


def test_every_default_error_message_has_words_in_russian() -> None:
    import importlib
    import pkgutil

    import cabinet
    from cabinet.core.errors import CabinetError

    for module in pkgutil.walk_packages(cabinet.__path__, "cabinet."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    defaults = {c.default_message for c in [CabinetError, *_error_classes(CabinetError)]}
    # the extraction finds every one of them (the catalogs' own completeness is the test above)
    missing = defaults - _source_messages()
    assert not missing, f"the extraction (apis/web/error_messages.py) misses {sorted(missing)}"
    i18n.activate("ru")
    assert i18n.gettext("The current password is wrong") == "Текущий пароль указан неверно"


def test_the_extraction_reads_error_messages_and_refuses_what_it_cannot_read() -> None:
    from cabinet.apis.web.error_messages import error_messages

    source = """
WORDS = "Too far away"
class Far(CabinetError):
    default_message = WORDS
    other_message: str = "Nearer, please"
    error_message: str | None = None
class Near(CabinetError):
    default_message: ClassVar[str] = "Here"
"""
    assert [text for _line, text in error_messages(source)] == ["Too far away", "Nearer, please", "Here"]
    with pytest.raises(ValueError, match="Odd.default_message"):
        list(error_messages("class Odd(CabinetError):\n    default_message = make()\n"))


async def test_a_domain_error_reads_in_russian(app: Any, make_user: UserFactory) -> None:
    user = await make_user(roles=[Role.USER], company="i18n_err_co")
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, user.username, user.password)
        token = csrf_of((await browser.get("/ui/account")).text)
        wrong = await browser.post(
            "/ui/account/password",
            data={
                "current_password": "not-it-at-all",
                "new_password": "fresh-one-1",
                "repeat_password": "fresh-one-1",
                "csrf_token": token,
            },
        )
        assert wrong.status_code in (400, 401, 403) and "Текущий пароль указан неверно" in wrong.text
        assert _english_on(wrong.text) == []


async def test_every_page_of_a_call_reads_in_russian(app: Any, client: httpx.AsyncClient, services: Any) -> None:
    from tests.apis.contractor.support import PASSWORD, make_tenant

    tenant = await make_tenant(services)
    name, user_id = await tenant.register(client)
    call = await tenant.dispatch(client, user_id)
    async with web_client(app, language="ru-RU,ru;q=0.9") as browser:
        await sign_in(browser, name, PASSWORD)
        page = await browser.get(f"/ui/calls/{call['id']}")
        assert _english_on(page.text) == [] and "Принять заявку" in page.text
        token = csrf_of(page.text)
        await browser.post(f"/ui/calls/{call['id']}/status", data={"status": "Committed", "csrf_token": token})
        accepted = await browser.get(f"/ui/calls/{call['id']}")
        assert _english_on(accepted.text) == [] and "В работе" in accepted.text
        assert re.search(r"\d{1,2} [а-я]{3}\.?( \d{4})?, \d\d:\d\d (МСК|UTC)", accepted.text), "times carry their zone"
        await browser.post(f"/ui/calls/{call['id']}/link", data={"csrf_token": token})
        issued = await browser.get(f"/ui/calls/{call['id']}")  # the link is shown once, after the redirect
        assert _english_on(issued.text) == [] and "QR-код ссылки для выезда" in issued.text
        link = re.search(r'id="new-link" href="https?://[^/]+(/ui/link/[A-Za-z0-9_.-]+)"', issued.text)
        assert link
        cost = await browser.get(f"/ui/calls/{call['id']}/cost")
        assert _english_on(cost.text) == []
        await browser.post(f"/ui/calls/{call['id']}/cost", data={"csrf_token": token})
        editor = await browser.get(f"/ui/calls/{call['id']}/cost")
        assert _english_on(editor.text) == [] and "Черновик" in editor.text
        notifications = await browser.get("/ui/notifications")
        assert _english_on(notifications.text) == []
    async with web_client(app, language="ru") as phone:  # the field employee: no account, the browser's language
        visit = await phone.get(link.group(1))
        assert visit.status_code == 200 and '<html lang="ru">' in visit.text
        assert _english_on(visit.text) == [] and "Отчёт о выезде" in visit.text
        assert 'href="/ui/locale/en?next=' in visit.text  # the switch is on the field page too


async def test_a_field_link_visitor_without_a_language_gets_the_company_s(
    app: Any, client: httpx.AsyncClient, services: Any, settings: Any
) -> None:
    from cabinet.domains.identity.schemas import Regional
    from tests.apis.web.test_field_and_costs import _accepted_call, _issue_link

    assert settings.default_locale == "ru"
    async with web_client(app) as browser:
        tenant, call = await _accepted_call(client, browser, services)
        link = await _issue_link(browser, call["id"])
    async with web_client(app, language=None) as phone:  # a browser that states no language, no cookie
        assert '<html lang="ru">' in (await phone.get(link)).text
        await services.directory.update_company(await _operator(services), tenant.company, None, Regional(locale="en"))
        visit = await phone.get(link)
        assert visit.status_code == 200 and '<html lang="en">' in visit.text and "Report the visit" in visit.text
    async with web_client(app, language="ru") as russian:  # the visitor's own language still comes first
        assert '<html lang="ru">' in (await russian.get(link)).text


async def test_operator_pages_read_in_russian(app: Any, make_user: UserFactory) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="i18n_ops_co")
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, admin.username, admin.password)
        for path in (
            "/ui/admin/companies",
            "/ui/admin/companies/i18n_ops_co",
            f"/ui/admin/users/{admin.username}",
            "/ui/admin/audit",
            "/ui/admin/usage",
        ):
            answer = await browser.get(path)
            assert answer.status_code == 200, path
            assert _english_on(answer.text) == [], path
        # a key's "Expires" and "Last used" say different things when empty (not "never" for both)
        issued = await browser.post(
            f"/ui/admin/users/{admin.username}/keys",
            data={"name": "erp", "csrf_token": csrf_of((await browser.get(f"/ui/admin/users/{admin.username}")).text)},
        )
        assert issued.status_code == 303
        keys = (await browser.get(f"/ui/admin/users/{admin.username}")).text
        assert "бессрочно" in keys and "не использовался" in keys


async def test_operator_confirmations_and_refusals_read_in_russian(app: Any, make_user: UserFactory) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="i18n_flash_co")
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, admin.username, admin.password)
        token = csrf_of((await browser.get("/ui/admin/companies/i18n_flash_co")).text)
        allowed = await browser.post(
            "/ui/admin/companies/i18n_flash_co/networks", data={"cidr": "203.0.113.0/24", "csrf_token": token}
        )
        assert allowed.status_code == 303
        assert "Сеть разрешена." in (await browser.get(allowed.headers["location"])).text
        removed = await browser.post(
            "/ui/admin/companies/i18n_flash_co/networks/remove", data={"cidr": "203.0.113.0/24", "csrf_token": token}
        )
        assert "Сеть 203.0.113.0/24 удалена." in (await browser.get(removed.headers["location"])).text
        bad = await browser.post(
            f"/ui/admin/users/{admin.username}/keys", data={"expires_on": "someday", "csrf_token": token}
        )
        assert bad.status_code == 400 and "«Действует до» — не дата" in bad.text
        assert _english_on(bad.text) == []


async def test_a_page_that_is_not_there_says_so_in_the_visitor_s_language(app: Any) -> None:
    """The 404, 405 and malformed-address pages are rendered by error handlers that run before any page's own
    code: they must still speak the visitor's language (they said it in Russian, the default, to everyone)."""
    async with web_client(app, language="en") as english, web_client(app, language="ru") as russian:
        missing = await english.get("/ui/nowhere")
        assert missing.status_code == 404 and "There is no such page" in missing.text
        assert "Такой страницы нет" not in missing.text and '<html lang="en"' in missing.text
        refused = await english.delete("/ui/login")
        assert refused.status_code == 405 and "This address does not take that kind of request" in refused.text
        assert "Такой страницы нет" in (await russian.get("/ui/nowhere")).text


def test_time_zones_are_offered_by_place_in_the_pages_language() -> None:
    zones = ["Europe/Moscow", "Asia/Kolkata", "America/Argentina/Buenos_Aires", "Europe/Samara", "Etc/Unknown_Zone"]
    before = i18n.current_locale()
    try:
        i18n.activate("ru")
        russian = dict(formats.zone_choices(zones))
        order = [name for name, _ in formats.zone_choices(zones)]
        i18n.activate("en")
        english = dict(formats.zone_choices(zones))
    finally:
        i18n.activate(before)
    assert russian["Europe/Moscow"] == "Москва (UTC+3) · Europe/Moscow"
    assert russian["Asia/Kolkata"] == "Калькутта (UTC+5:30) · Asia/Kolkata"
    assert english["Europe/Samara"] == "Samara (UTC+4) · Europe/Samara"
    assert english["America/Argentina/Buenos_Aires"] == "Buenos Aires (UTC−3) · America/Argentina/Buenos_Aires"
    assert english["Etc/Unknown_Zone"].startswith("Unknown Zone (UTC) · ")  # no data for it: its own name, UTC
    for offset_zone, title in (
        ("Etc/GMT-2", "UTC+2 · Etc/GMT-2"),
        ("UTC", "UTC · UTC"),
        ("Etc/GMT+5", "UTC−5 · Etc/GMT+5"),
    ):
        assert formats.zone_title(offset_zone) == title  # a zone of no place is titled by its offset alone
    named = [name for name in order if not name.startswith("Etc/")]
    assert named == ["America/Argentina/Buenos_Aires", "Asia/Kolkata", "Europe/Moscow", "Europe/Samara"]  # Б К М С


async def test_a_passed_deadline_reads_in_red_and_a_critical_call_has_its_edge(
    app: Any, client: httpx.AsyncClient, services: Any
) -> None:
    """The words "overdue by ..." carry the ``late`` mark (red) in the queue and on the call; a deadline still
    ahead does not; a critical call's row is marked beside its badge."""
    from tests.apis.contractor.support import PASSWORD, make_tenant

    tenant = await make_tenant(services)
    name, user_id = await tenant.register(client)
    now = datetime.now(UTC)
    late = await tenant.dispatch(
        client,
        user_id,
        ttf=(now - timedelta(hours=2)).isoformat(),
        tto=(now - timedelta(hours=3)).isoformat(),
        critical=True,
    )
    ahead = await tenant.dispatch(client, user_id, ttf=(now + timedelta(days=2)).isoformat(), critical=False)
    async with web_client(app, language="ru") as browser:
        await sign_in(browser, name, PASSWORD)
        queue = (await browser.get("/ui/calls")).text
        rows = {
            number: row
            for row, number in re.findall(r'(<tr[^>]*>\s*<td class="call-no">.*?>(\d{8})</a>.*?</tr>)', queue, re.S)
        }
        marked = re.findall(r'<span class="muted rel late">(просрочено на [^<]+)</span>', rows[late["number"]])
        assert len(marked) == 2, rows[late["number"]]  # respond by and fix by, both passed
        assert "late" not in rows[ahead["number"]] and "через" in rows[ahead["number"]]
        assert rows[late["number"]].startswith('<tr class="critical">')
        assert 'class="critical"' not in rows[ahead["number"]]
        page = (await browser.get(f"/ui/calls/{late['id']}")).text
        assert re.search(r'<span class="muted rel late">\(просрочено на [^<]+\)</span>', page)
