"""The operator's webhook pages (issue 20): a company owner creates an endpoint (the signing secret shown once
after the redirect, and it verifies a real delivery), edits, disables and enables it, sends a test, replays a
delivery, rotates the secret (shown once), deletes it; another company's endpoint is not found. Both backends."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from cabinet.core.roles import Role
from cabinet.domains.registry import Services
from tests.apis.admin.test_directory import PLATFORM
from tests.apis.admin.webhook_support import Receiver, until
from tests.apis.web.support import page_token, sign_in
from tests.helpers import UserFactory

SECRET_RE = re.compile(r'id="new-secret">([^<]+)<')


@pytest.fixture
async def hook_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_an_owner_manages_the_companys_webhooks_on_the_pages(
    browser_a: httpx.AsyncClient,
    browser_b: httpx.AsyncClient,
    make_user: UserFactory,
    services: Services,
    hook_receiver: Receiver,
) -> None:
    receiver = hook_receiver
    services.webhooks.allow_private = True
    owner = await make_user(roles=[Role.COMPANYOWNER], company="hooks_co")
    await sign_in(browser_a, owner.username, owner.password)
    listing = "/ui/admin/companies/hooks_co/webhooks"
    token = await page_token(browser_a, listing)
    assert "No webhook endpoints" in (await browser_a.get(listing)).text
    refused = await browser_a.post(listing, data={"url": "ftp://x/", "events": ["*"], "csrf_token": token})
    assert refused.status_code == 400 and "http or https" in refused.text

    created = await browser_a.post(
        listing, data={"url": receiver.url, "events": ["webhook.test"], "description": "erp", "csrf_token": token}
    )
    assert created.status_code == 303, created.text
    hook_page = created.headers["location"]
    assert re.fullmatch(r"/ui/admin/webhooks/\d+", hook_page) and "new-secret" not in created.text
    shown = await browser_a.get(hook_page)  # Post/Redirect/Get: the secret is on the next page, once
    secret = SECRET_RE.search(shown.text).group(1)  # type: ignore[union-attr]
    assert secret.startswith("whsec_") and "Copy the secret" in shown.text
    again = await browser_a.get(hook_page)
    assert secret not in again.text and "new-secret" not in again.text
    assert receiver.url in (await browser_a.get(listing)).text

    tested = await browser_a.post(f"{hook_page}/test", data={"csrf_token": token})
    assert tested.status_code == 303 and tested.headers["location"] == f"{hook_page}#deliveries"
    await until(lambda: len(receiver.received) == 1, services)
    Webhook(secret).verify(receiver.received[0][1], receiver.received[0][0])  # the secret shown signs
    # the receiver may have the request before the delivering worker has recorded its answer: the page shows it
    # once recorded
    for _ in range(100):
        deliveries = (await browser_a.get(hook_page)).text
        if "delivered" in deliveries:
            break
        await services.webhooks.deliver_due()
        await asyncio.sleep(0.02)
    assert "delivered" in deliveries
    delivery_id = re.search(r"/deliveries/(\d+)/replay", deliveries).group(1)  # type: ignore[union-attr]
    replayed = await browser_a.post(f"{hook_page}/deliveries/{delivery_id}/replay", data={"csrf_token": token})
    assert replayed.status_code == 303
    await until(lambda: len(receiver.received) == 2, services)
    assert receiver.ids()[0] == receiver.ids()[1]  # the same event, the same webhook-id

    edited = await browser_a.post(
        hook_page, data={"url": receiver.url, "events": ["*"], "description": "all", "csrf_token": token}
    )
    assert edited.status_code == 303
    hook_id = int(hook_page.rsplit("/", 1)[1])
    assert (await services.webhooks.get_endpoint(PLATFORM, hook_id)).endpoint.enabled  # the edit keeps the state
    switched = await browser_a.post(f"{hook_page}/enabled", data={"enabled": "off", "csrf_token": token})
    assert switched.status_code == 303
    assert "disabled" in (await browser_a.get(hook_page)).text
    edited = await browser_a.post(
        hook_page, data={"url": receiver.url, "events": ["*"], "description": "all", "csrf_token": token}
    )
    assert not (await services.webhooks.get_endpoint(PLATFORM, hook_id)).endpoint.enabled  # and a disabled one's
    switched = await browser_a.post(f"{hook_page}/enabled", data={"enabled": "on", "csrf_token": token})
    assert switched.status_code == 303
    endpoint = (await services.webhooks.get_endpoint(PLATFORM, int(hook_page.rsplit("/", 1)[1]))).endpoint
    assert endpoint.enabled and endpoint.events == ["*"] and endpoint.description == "all"

    rotated = await browser_a.post(f"{hook_page}/rotate-secret", data={"csrf_token": token})
    assert rotated.status_code == 303
    new_secret = SECRET_RE.search((await browser_a.get(hook_page)).text).group(1)  # type: ignore[union-attr]
    assert new_secret != secret and new_secret.startswith("whsec_")

    # another company's owner: not found
    stranger = await make_user(roles=[Role.COMPANYOWNER], company="other_hooks_co")
    await sign_in(browser_b, stranger.username, stranger.password)
    assert (await browser_b.get(hook_page)).status_code == 404
    assert (await browser_b.get(listing)).status_code == 404
    other_token = await page_token(browser_b, "/ui/admin/companies/other_hooks_co/webhooks")
    assert (await browser_b.post(f"{hook_page}/delete", data={"csrf_token": other_token})).status_code == 404

    deleted = await browser_a.post(f"{hook_page}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303 and deleted.headers["location"] == listing
    assert (await browser_a.get(hook_page)).status_code == 404
