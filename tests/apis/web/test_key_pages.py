"""API key rotation and revoke-all on the pages (issue 20): on the operator's user page and on the Account page
for a person's own keys. The new key is shown once after the redirect; the old one keeps working through the
grace period; revoke-all ends every key, the one in its grace period too; another company's or another person's
key is not found. Both backends."""

from __future__ import annotations

import re

import httpx
import pytest

from cabinet.core.errors import CabinetError
from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.registry import Services
from tests.apis.web.support import page_token, sign_in
from tests.helpers import UserFactory

NEW_KEY_RE = re.compile(r'id="new-key">([^<]+)<')


async def _works(services: Services, key: str) -> bool:
    try:
        await services.credentials.authenticate_key(key)
    except CabinetError:
        return False
    return True


async def _shown_once(client: httpx.AsyncClient, path: str) -> str:
    shown = await client.get(path)
    key = NEW_KEY_RE.search(shown.text).group(1)  # type: ignore[union-attr]
    assert key not in (await client.get(path)).text  # a reload: shown once
    return key


@pytest.mark.parametrize("own", [False, True], ids=["operator", "account"])
async def test_rotate_and_revoke_all_keys_on_the_pages(
    browser_a: httpx.AsyncClient, browser_b: httpx.AsyncClient, make_user: UserFactory, services: Services, own: bool
) -> None:
    owner = await make_user(roles=[Role.COMPANYOWNER], company="rot_co")
    hand = await make_user(roles=[Role.USER], company="rot_co")
    old = (await services.credentials.issue_key(PLATFORM_OPERATOR, hand.username, KeyRequest(name="erp"))).key
    key_id = (await services.credentials.list_keys(PLATFORM_OPERATOR, hand.username))[0].id
    who = hand if own else owner
    await sign_in(browser_a, who.username, who.password)
    page = "/ui/account" if own else f"/ui/admin/users/{hand.username}"
    base = "/ui/account" if own else f"/ui/admin/users/{hand.username}"
    token = await page_token(browser_a, page)
    assert f"{base}/keys/{key_id}/rotate" in (await browser_a.get(page)).text

    rotated = await browser_a.post(f"{base}/keys/{key_id}/rotate", data={"csrf_token": token})
    assert rotated.status_code == 303 and rotated.headers["location"] == f"{page}#keys", rotated.text
    new = await _shown_once(browser_a, page)
    assert new != old and await _works(services, new) and await _works(services, old)  # old: 24 h of grace
    shown = (await browser_a.get(page)).text
    assert f"{base}/keys/{key_id}/rotate" not in shown and "Replaced, in grace period" in shown  # rotated once
    again = await browser_a.post(f"{base}/keys/{key_id}/rotate", data={"csrf_token": token})  # a stale page
    assert again.status_code == 409 and "rotate its successor" in again.text

    # someone else: another company's owner (operator page) or another person (Account page) finds no such key
    stranger = await make_user(roles=[Role.COMPANYOWNER] if not own else [Role.USER], company="elsewhere_co")
    await sign_in(browser_b, stranger.username, stranger.password)
    other_base = "/ui/account" if own else f"/ui/admin/users/{hand.username}"
    other_token = await page_token(browser_b, "/ui/account")
    refused = await browser_b.post(f"{other_base}/keys/{key_id}/rotate", data={"csrf_token": other_token})
    assert refused.status_code == 404
    refused = await browser_b.post(f"{other_base}/keys/revoke-all", data={"csrf_token": other_token})
    assert refused.status_code == (303 if own else 404)  # one's own (none here) / another company's user
    assert await _works(services, new) and await _works(services, old)

    revoked = await browser_a.post(f"{base}/keys/revoke-all", data={"csrf_token": token})
    assert revoked.status_code == 303 and "Keys revoked: 2." in (await browser_a.get(page)).text
    assert not await _works(services, new) and not await _works(services, old)  # the grace period too
