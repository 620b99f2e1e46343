"""Demo data for the embedded profile: idempotent, printed on start."""

from __future__ import annotations

from dataclasses import dataclass

from cabinet.core.roles import Role
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
    return list(DEMO_USERS)
