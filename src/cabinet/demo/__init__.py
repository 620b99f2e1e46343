"""Demo data for the embedded profile: idempotent, printed on start."""

from __future__ import annotations

from dataclasses import dataclass

from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
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
    DemoUser("demo_admin", "demo_admin_password", (Role.ADMIN,), "Demo platform operator"),
    DemoUser("demo_owner", "demo_owner_password", (Role.COMPANYOWNER,), "Demo company owner"),
    DemoUser("demo_user", "demo_user_password", (Role.USER,), "Demo contractor"),
    DemoUser("demo_erp", "demo_erp_password", (Role.BOT,), "Demo external system (ERP)"),
    DemoUser("demo_agent", "demo_agent_password", (Role.PARTNER,), "Demo agent (Data API user_id)", DEMO_AGENCY),
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
    return DemoData(list(DEMO_USERS), issued.key)
