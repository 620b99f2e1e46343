"""One password policy (10..256 characters, identity's ``password_issue``) for every way a password is set; the
issue: Admin, Data API ``create.users`` and contractor ``register`` took 5-character passwords that the Account
API's token generation (10 at least) then refused, so such a user could never sign in there."""

from __future__ import annotations

import httpx

from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import PASSWORD_MIN, password_issue
from cabinet.domains.registry import Services
from tests.apis.contractor.support import make_tenant
from tests.apis.data.support import make_caller, mnemonic, ok, rpc
from tests.apis.web.support import page_token, sign_in, web_client
from tests.helpers import UserFactory, login

SHORT = "nine_char"  # 9
FITS = "ten_chars1"  # 10


def test_the_policy() -> None:
    assert PASSWORD_MIN == 10
    assert password_issue(SHORT) == "a password must be 10..256 characters"
    assert password_issue(FITS) is None and password_issue("p" * 256) is None
    assert password_issue("p" * 257) is not None


async def _signs_in_on_the_account_api(api: httpx.AsyncClient, username: str, password: str) -> None:
    answer = await api.post("/account/token/generation", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text


async def test_admin_api(api: httpx.AsyncClient, make_user: UserFactory) -> None:
    admin = await make_user(roles=[Role.ADMIN], company="pw_platform")
    headers = {"Authorization": f"Bearer {await login(api, admin)}"}
    body = {"username": "pw_admin_made", "company_key": "pw_platform", "roles": ["USER"], "password": SHORT}
    refused = await api.post("/admin/users", json=body, headers=headers)
    assert refused.status_code == 400 and "password" in refused.text, refused.text
    created = await api.post("/admin/users", json={**body, "password": FITS}, headers=headers)
    assert created.status_code == 200, created.text
    await _signs_in_on_the_account_api(api, "pw_admin_made", FITS)
    changed = await api.put("/admin/users", json={**body, "password": SHORT}, headers=headers)
    assert changed.status_code == 400, changed.text


async def test_data_api(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    owner = await make_caller(services, make_user, roles=[Role.COMPANYOWNER], company="pw_data_co")
    short = await rpc(client, "create.users", owner.params(login="pw_data_made", password=SHORT))
    assert (mnemonic(short), short["error"]["data"]["field"]) == ("invalid_parameter_value", "password")
    made = ok(await rpc(client, "create.users", owner.params(login="pw_data_made", password=FITS)))
    await _signs_in_on_the_account_api(api, "pw_data_made", FITS)
    update = await rpc(client, "update.users", owner.params(id=made["id"], password=SHORT))
    assert (mnemonic(update), update["error"]["data"]["field"]) == ("invalid_parameter_value", "password")


async def test_contractor_api(api: httpx.AsyncClient, services: Services) -> None:
    tenant = await make_tenant(services)
    refused = await api.post(
        "/user/register", json={"userName": "pw_contractor", "password": SHORT}, headers=tenant.erp
    )
    assert (refused.status_code, refused.json()) == (400, {"errorCode": 0})
    registered = await api.post(
        "/user/register", json={"userName": "pw_contractor", "password": FITS}, headers=tenant.erp
    )
    assert registered.status_code == 200, registered.text
    await _signs_in_on_the_account_api(api, "pw_contractor", FITS)
    user_id = registered.json()["id"]
    change = await api.post(f"/user/{user_id}/changePassword", json={"newPassword": SHORT}, headers=tenant.erp)
    assert (change.status_code, change.json()) == (400, {"errorCode": 0})


async def test_the_pages(app: object, api: httpx.AsyncClient, make_user: UserFactory) -> None:
    owner = await make_user(roles=[Role.COMPANYOWNER], company="pw_web_co")
    async with web_client(app) as browser:
        await sign_in(browser, owner.username, owner.password)
        token = await page_token(browser, "/ui/admin/users")
        form = {"username": "pw_web_made", "password": SHORT, "roles": ["USER"], "csrf_token": token}
        refused = await browser.post("/ui/admin/users", data=form)
        assert refused.status_code == 400, refused.status_code
        created = await browser.post("/ui/admin/users", data={**form, "password": FITS})
        assert created.status_code == 303, created.text
        own = await browser.post(
            "/ui/account/password",
            data={
                "current_password": owner.password,
                "new_password": SHORT,
                "repeat_password": SHORT,
                "csrf_token": await page_token(browser, "/ui/account"),
            },
        )
        assert own.status_code == 400, own.status_code
    await _signs_in_on_the_account_api(api, "pw_web_made", FITS)
