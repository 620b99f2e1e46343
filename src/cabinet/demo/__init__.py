"""Demo data for the embedded profile: idempotent, printed on start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cabinet.core.roles import Role
from cabinet.domains.fieldservice.errors import ContractorUserExists
from cabinet.domains.fieldservice.schemas import CallCreate
from cabinet.domains.identity.errors import UserAlreadyExists
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.registry import Services

DEMO_COMPANY = "demo_company"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    roles: tuple[Role, ...]
    specification: str


DEMO_USERS = (
    DemoUser("demo_admin", "demo_admin_password", (Role.ADMIN,), "Demo platform operator"),
    DemoUser("demo_owner", "demo_owner_password", (Role.COMPANYOWNER,), "Demo company owner"),
    DemoUser("demo_user", "demo_user_password", (Role.USER,), "Demo contractor"),
    DemoUser("demo_erp", "demo_erp_password", (Role.BOT,), "Demo external system (ERP)"),
)


async def load_demo_data(services: Services) -> list[DemoUser]:
    for demo in DEMO_USERS:
        try:
            await services.identity.create_user(
                UserCreate(
                    username=demo.username,
                    password=demo.password,
                    company_key=DEMO_COMPANY,
                    roles=list(demo.roles),
                    create_company=True,
                    specification=demo.specification,
                )
            )
        except UserAlreadyExists:
            pass
    return [*DEMO_USERS, *await _load_contractor_demo(services)]


DEMO_CONTRACTOR = DemoUser(
    "demo_contractor", "demo_contractor_password", (Role.USER,), "Demo contractor (salted-hash sign-in)"
)
DEMO_CALLS = (
    ("ATM 42 does not dispense cash", "ATM 42", True, ["Diagnose", "Replace the dispenser"]),
    ("Card reader jammed", "Branch 7 kiosk", False, ["Clear the reader", "Test with a card"]),
    ("Screen flickers", "ATM 13", False, ["Replace the cable"]),
)


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
    for n, (client_name, object_name, critical, tasks) in enumerate(DEMO_CALLS):
        await services.calls.create_call(
            erp,
            CallCreate(
                owner_id=contractor.id,
                client_name=client_name,
                created=now,
                description_html=f"<p>{client_name}</p>",
                description_for_field_employee=client_name,
                service_object_address=f"Main street {n + 1}",
                service_object_latitude=55.75,
                service_object_longitude=37.62,
                service_object_name=object_name,
                tasks=tasks,
                expenditure_items=["Fuel", "Parking"],
                critical=critical,
                tto=now + timedelta(hours=4 + n),
                ttf=now + timedelta(days=1 + n),
            ),
        )
    return [DEMO_CONTRACTOR]
