"""Demo data for the embedded profile: idempotent, printed on start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from html import escape

from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.fieldservice.errors import ContractorUserExists
from cabinet.domains.fieldservice.schemas import CallCreate
from cabinet.domains.identity.errors import UserAlreadyExists
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.registry import Services

DEMO_COMPANY = "demo_company"
DEMO_AGENCY = "demo_agency"  # an agent (PARTNER) company linked to the demo company
DEMO_NETWORKS = ("127.0.0.0/8", "::1/128")  # the Data API allow-list: loopback only
DEMO_KEY_NAME = "demo Data API key"
DEMO_KEY_OWNER = "demo_owner"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    roles: tuple[Role, ...]
    specification: str
    company: str = DEMO_COMPANY


DEMO_USERS = (
    DemoUser("demo_admin", "demo_admin_password", (Role.ADMIN,), "Алексей Смирнов"),
    DemoUser("demo_owner", "demo_owner_password", (Role.COMPANYOWNER,), "Ольга Кузнецова"),
    DemoUser("demo_user", "demo_user_password", (Role.USER,), "Сергей Волков"),
    DemoUser("demo_erp", "demo_erp_password", (Role.BOT,), "ERP диспетчерской службы"),
    DemoUser("demo_agent", "demo_agent_password", (Role.PARTNER,), "Агентство «Сервис-Партнёр»", DEMO_AGENCY),
)


@dataclass(frozen=True)
class DemoData:
    users: list[DemoUser]
    data_api_key: str  # a permanent key of demo_owner, issued afresh on each load (a key is shown only once)


async def load_demo_data(services: Services) -> DemoData:
    for demo in DEMO_USERS:
        try:
            await services.identity.create_user(
                UserCreate(
                    username=demo.username,
                    password=demo.password,
                    company_key=demo.company,
                    roles=list(demo.roles),
                    create_company=True,
                    specification=demo.specification,
                )
            )
        except UserAlreadyExists:
            pass
    credentials = services.credentials
    for company in (DEMO_COMPANY, DEMO_AGENCY):
        await credentials.replace_networks(PLATFORM_OPERATOR, company, list(DEMO_NETWORKS))
    await services.sessions.link_client(DEMO_AGENCY, DEMO_COMPANY)
    for key in await credentials.list_keys(PLATFORM_OPERATOR, DEMO_KEY_OWNER):
        if key.name == DEMO_KEY_NAME:
            await credentials.delete_key(PLATFORM_OPERATOR, key.id)
    issued = await credentials.issue_key(PLATFORM_OPERATOR, DEMO_KEY_OWNER, KeyRequest(name=DEMO_KEY_NAME))
    return DemoData([*DEMO_USERS, *await _load_contractor_demo(services)], issued.key)


DEMO_CONTRACTOR = DemoUser(
    "demo_contractor", "demo_contractor_password", (Role.USER,), "Demo contractor (salted-hash sign-in)"
)


@dataclass(frozen=True)
class DemoCall:
    client: str
    object_name: str
    object_type: str
    address: str
    latitude: float
    longitude: float
    contact: str
    phone: str
    description: str
    critical: bool
    tasks: tuple[str, ...]


# what an ERP of a Moscow bank's service contractor would send (the seeds' people and data are Russian)
DEMO_CALLS = (
    DemoCall(
        "ПАО «Банк Восток»",
        "Банкомат №\u00a042",
        "Банкомат",
        "Москва, ул. Тверская, д. 7",
        55.7643,
        37.6059,
        "Ирина Петрова",
        "+7 495 123-45-67",
        "Банкомат не выдаёт наличные: ошибка E-301 диспенсера.\nКлюч от зоны инкассации у охраны, пропуск заказан.",
        True,
        ("Диагностика", "Замена диспенсера"),
    ),
    DemoCall(
        "ООО «Городские киоски»",
        "Киоск филиала №\u00a07",
        "Платёжный терминал",
        "Москва, Ленинградский пр-т, д. 39",
        55.7906,
        37.5296,
        "Сергей Иванов",
        "+7 916 555-01-02",
        "Картридер заедает, карты не возвращаются.\nТерминал в холле первого этажа, работает с 9:00.",
        False,
        ("Очистить картридер", "Проверить тестовой картой"),
    ),
    DemoCall(
        "ПАО «Банк Восток»",
        "Банкомат №\u00a013",
        "Банкомат",
        "Москва, ул. Новый Арбат, д. 15",
        55.7522,
        37.5887,
        "Ирина Петрова",
        "+7 495 123-45-67",
        "Мерцает экран, клиенты жалуются с утра.",
        False,
        ("Заменить шлейф экрана",),
    ),
)
DEMO_EXPENDITURE_ITEMS = ["Топливо", "Парковка"]


async def _load_contractor_demo(services: Services) -> list[DemoUser]:
    """A contractor registered by the demo ERP (so it can sign in with the salted hash) and three calls for it."""
    erp_login = next(u for u in DEMO_USERS if Role.BOT in u.roles)
    token = await services.identity.sign_in(
        erp_login.username, erp_login.password, client_ip=None, ttl=timedelta(minutes=5)
    )
    erp = await services.identity.resolve_access_token(token.token)
    try:
        contractor = await services.contractors.register(erp, DEMO_CONTRACTOR.username, DEMO_CONTRACTOR.password)
    except ContractorUserExists:
        return [DEMO_CONTRACTOR]
    now = services.calls.clock.now()
    for n, call in enumerate(DEMO_CALLS):
        await services.calls.create_call(
            erp,
            CallCreate(
                owner_id=contractor.id,
                client_name=call.client,
                created=now,
                description_html=(
                    f"<p>Обращение клиента: {escape(call.description.splitlines()[0])}</p>"
                    f"<p>Договор обслуживания № СО-2026/{117 + n}, устранение в течение {24 * (n + 1)} ч.</p>"
                ),
                description_for_field_employee=call.description,
                contact_person_name=call.contact,
                contact_person_phone=call.phone,
                service_object_address=call.address,
                service_object_latitude=call.latitude,
                service_object_longitude=call.longitude,
                service_object_name=call.object_name,
                service_object_type=call.object_type,
                tasks=list(call.tasks),
                expenditure_items=DEMO_EXPENDITURE_ITEMS,
                critical=call.critical,
                tto=now + timedelta(hours=4 + n),
                ttf=now + timedelta(days=1 + n),
            ),
        )
    return [DEMO_CONTRACTOR]
