"""Webhooks (issue 20, item 1) on the Admin API with a real local HTTP receiver: endpoints and their rights, the
address guard, every delivery verified with the published ``standardwebhooks`` library, per-endpoint order,
retries while the receiver is down, once each by ``webhook-id``, replay, secret rotation, and the outbox's
transaction (a rolled-back change sends nothing). Both backends."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from cabinet.core.clock import OffsetClock
from cabinet.core.db.uow import unit_of_work
from cabinet.core.events import Events
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserUpdate
from cabinet.domains.registry import Services
from cabinet.domains.webhooks import delivery
from cabinet.domains.webhooks import service as webhook_service
from cabinet.domains.webhooks.delivery import refused_address
from cabinet.domains.webhooks.schemas import RETRY_SCHEDULE
from cabinet.models import AuditAction, WebhookEvent
from tests.apis.admin.test_directory import PLATFORM
from tests.apis.admin.webhook_support import Receiver, until
from tests.helpers import UserFactory, bearer, login

COMPANY = "hooked_co"


async def tried(client: httpx.AsyncClient, admin: dict[str, str], hook: int, services: Services) -> Any:
    """The endpoint's deliveries once its newest has been tried (by this test or the app's own worker)."""
    for _ in range(200):
        deliveries = (await client.get(f"/admin/webhooks/{hook}/deliveries", headers=admin)).json()["deliveries"]
        if deliveries[0]["attempts"] >= 1:
            return deliveries
        await services.webhooks.deliver_due()
        await asyncio.sleep(0.02)
    raise AssertionError("never tried")


async def create(client: httpx.AsyncClient, headers: dict[str, str], url: str, **extra: Any) -> httpx.Response:
    return await client.post(f"/admin/companies/{COMPANY}/webhooks", headers=headers, json={"url": url, **extra})


def test_guard_refuses_internal_addresses() -> None:
    import ipaddress

    for text in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.0.1", "169.254.169.254", "::1", "fe80::1", "0.0.0.0"):
        assert refused_address(ipaddress.ip_address(text)), text
    for text in ("::ffff:127.0.0.1", "fd00:ec2::254", "100.64.0.1"):
        assert refused_address(ipaddress.ip_address(text)), text
    assert not refused_address(ipaddress.ip_address("93.184.216.34"))


async def test_endpoint_api_rights_and_address_guard(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, admin: dict[str, str], receiver: Receiver
) -> None:
    owner = await make_user(company=COMPANY, roles=[Role.COMPANYOWNER])
    for url in (
        receiver.url,
        "http://localhost/x",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://10.0.0.1/",
    ):
        refused = await create(client, admin, url, events=["*"])
        assert refused.status_code == 400, (url, refused.text)
    for bad in ({"url": "ftp://example.com/", "events": ["*"]}, {"url": "https://example.com/", "events": ["nope"]}):
        answer = await client.post(f"/admin/companies/{COMPANY}/webhooks", headers=admin, json=bad)
        assert answer.status_code == 400, answer.text
    services.webhooks.allow_private = True
    created = await create(client, bearer(await login(client, owner)), receiver.url, events=["user.created"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["company_key"] == COMPANY and body["enabled"] is True
    hook = body["id"]
    listed = (await client.get(f"/admin/companies/{COMPANY}/webhooks", headers=admin)).json()["webhooks"]
    assert [w["id"] for w in listed] == [hook] and "secret" not in listed[0]
    stranger = bearer(await login(client, await make_user(company="other_co", roles=[Role.COMPANYOWNER])))
    assert (await client.get(f"/admin/webhooks/{hook}", headers=stranger)).status_code == 404
    assert (await client.delete(f"/admin/webhooks/{hook}", headers=stranger)).status_code == 404
    support = bearer(await login(client, await make_user(company="ops_co", roles=[Role.SUPPORT])))
    assert (await client.get(f"/admin/webhooks/{hook}", headers=support)).status_code == 200
    assert (await client.post(f"/admin/webhooks/{hook}/test", headers=support)).status_code == 403
    changed = await client.put(
        f"/admin/webhooks/{hook}",
        headers=admin,
        json={"url": receiver.url, "events": ["*"], "description": "erp", "enabled": False},
    )
    assert changed.status_code == 200 and changed.json()["events"] == ["*"] and changed.json()["enabled"] is False
    assert (await client.delete(f"/admin/webhooks/{hook}", headers=admin)).status_code == 204
    assert (await client.get(f"/admin/webhooks/{hook}", headers=admin)).status_code == 404


async def test_events_arrive_signed_in_order_once_each_with_retries_and_replay(
    client: httpx.AsyncClient,
    services: Services,
    make_user: UserFactory,
    admin: dict[str, str],
    receiver: Receiver,
    clock: OffsetClock,
) -> None:
    services.webhooks.allow_private = True
    await make_user(company=COMPANY, roles=[Role.COMPANYOWNER])
    created = (await create(client, admin, receiver.url, events=["*"])).json()
    hook, secret = created["id"], created["secret"]
    verifier = Webhook(secret)

    worker = await make_user(company=COMPANY, roles=[Role.USER])  # user.created
    await services.directory.update_user(PLATFORM, UserUpdate(username=worker.username, enabled=False))
    await services.directory.update_user(PLATFORM, UserUpdate(username=worker.username, enabled=True))
    put = await client.put("/admin/companies", headers=admin, json={"key": COMPANY, "detail": "changed"})
    assert put.status_code == 200, put.text
    test = await client.post(f"/admin/webhooks/{hook}/test", headers=admin)
    assert test.status_code == 202 and test.json()["delivery_id"] > 0
    expected = [
        "user.created",
        "user.updated",
        "user.locked",
        "user.updated",
        "user.unlocked",
        "company.updated",
        "webhook.test",
    ]
    await until(lambda: len(receiver.received) >= len(expected), services)
    assert receiver.types() == expected
    for headers, body in receiver.received:
        payload = verifier.verify(body, headers)  # the published library checks the signature and timestamp
        assert set(payload) == {"type", "timestamp", "data"}
    company_event = json.loads(receiver.received[5][1])
    assert company_event["data"]["key"] == COMPANY and company_event["data"]["detail"] == "changed"

    # the receiver is down: the delivery fails and is retried (the first retry within 30 s), then arrives once
    await receiver.stop()
    await services.directory.update_user(PLATFORM, UserUpdate(username=worker.username, email="w@x.org"))
    deliveries = await tried(client, admin, hook, services)
    failing = deliveries[0]
    assert failing["status"] == "pending" and failing["attempts"] == 1 and failing["last_error"]
    await receiver.start()
    await services.webhooks.deliver_due()  # not due yet: nothing sent
    assert len(receiver.received) == len(expected)
    clock.advance(seconds=30)
    await until(lambda: len(receiver.received) == len(expected) + 1, services)
    assert receiver.types()[-1] == "user.updated"
    assert len(set(receiver.ids())) == len(receiver.ids())  # once each by webhook-id

    # an endpoint answering 500: its answer is kept (at most 1 KB)
    receiver.status = 500
    await services.directory.update_user(PLATFORM, UserUpdate(username=worker.username, email="v@x.org"))
    head = (await tried(client, admin, hook, services))[0]
    assert head["last_status_code"] == 500 and len(head["last_response"]) == 1024
    receiver.status = 200
    clock.advance(seconds=30)
    await until(lambda: len(receiver.received) == len(expected) + 2, services)

    # replay: the same event again, with the same webhook-id
    first = deliveries[-1]
    replay = await client.post(f"/admin/webhooks/deliveries/{first['id']}/replay", headers=admin)
    assert replay.status_code == 202
    await until(lambda: len(receiver.received) == len(expected) + 3, services)
    assert receiver.ids()[-1] == first["webhook_id"] == receiver.ids()[0]

    # a new secret; the old one still verifies for 24 h (both sign)
    rotated = (await client.post(f"/admin/webhooks/{hook}/rotate-secret", headers=admin)).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    await client.post(f"/admin/webhooks/{hook}/test", headers=admin)
    await until(lambda: len(receiver.received) == len(expected) + 4, services)
    headers, body = receiver.received[-1]
    Webhook(rotated["secret"]).verify(body, headers)
    verifier.verify(body, headers)


async def test_a_rolled_back_change_sends_nothing(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, admin: dict[str, str], receiver: Receiver
) -> None:
    services.webhooks.allow_private = True
    owner = await make_user(company=COMPANY, roles=[Role.COMPANYOWNER])
    await create(client, admin, receiver.url, events=["*"])
    company_id = (await services.identity.get_account_by_id(owner.id)).company_id
    publish = Events(services.webhooks.record).publish
    before = await _events(services)
    with pytest.raises(RuntimeError):
        async with unit_of_work(services.webhooks.db):
            await publish("company.updated", company_id, {"key": COMPANY})
            raise RuntimeError("the change fails")
    assert await _events(services) == before
    async with unit_of_work(services.webhooks.db):
        await publish("company.updated", company_id, {"key": COMPANY})
    assert await _events(services) == before + 1
    other = await make_user(company="quiet_co")  # a company without endpoints keeps no events
    assert await _events(services) == before + 1
    del other


async def _events(services: Services) -> int:
    async with services.webhooks.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(WebhookEvent))).scalar_one())


async def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owners_are_told(
    client: httpx.AsyncClient,
    services: Services,
    make_user: UserFactory,
    admin: dict[str, str],
    receiver: Receiver,
    clock: OffsetClock,
) -> None:
    services.webhooks.allow_private = True
    owners = [await make_user(company=COMPANY, roles=[Role.COMPANYOWNER]) for _ in range(2)]
    await make_user(company=COMPANY, roles=[Role.USER])  # not an owner: not told
    await make_user(company="other_co", roles=[Role.COMPANYOWNER])  # another company's owner: not told
    hook = (await create(client, admin, receiver.url, events=["webhook.test"])).json()["id"]
    receiver.status = 503
    await client.post(f"/admin/webhooks/{hook}/test", headers=admin)
    attempts = 0
    for step in (*RETRY_SCHEDULE, RETRY_SCHEDULE[-1]):
        for _ in range(200):
            delivery = (await services.webhooks.deliveries(PLATFORM, hook))[0].delivery  # tokens age: no HTTP
            if delivery.attempts > attempts:
                break
            await services.webhooks.deliver_due()
            await asyncio.sleep(0.02)
        attempts = delivery.attempts
        endpoint = (await services.webhooks.get_endpoint(PLATFORM, hook)).endpoint
        if not endpoint.enabled:
            break
        assert await _told(services) == []  # still within the three days
        clock.advance(seconds=step.total_seconds())
    assert endpoint.enabled is False and (endpoint.disabled_reason or "").startswith("failing since")
    assert attempts == len(RETRY_SCHEDULE) + 1  # the last retry, past three days of failing, disabled it
    told = await _told(services)
    assert sorted(row.username for row in told) == sorted(o.username for o in owners)
    assert all(f"Webhook endpoint {hook} ({receiver.url})" in (row.message or "") for row in told)
    mine = await client.get("/account/audit", headers=bearer(await login(client, owners[0])))
    assert "webhook_endpoint_disabled" in mine.text  # the owner reads it in their own audit trail


async def _told(services: Services) -> list[AuditAction]:
    async with services.webhooks.db.engine.connect() as conn:
        stmt = select(AuditAction).where(AuditAction.operation == "webhook_endpoint_disabled")
        return list((await conn.execute(stmt)).all())  # type: ignore[arg-type]


async def test_dns_rebinding_the_send_connects_to_the_address_it_checked(
    client: httpx.AsyncClient,
    services: Services,
    make_user: UserFactory,
    admin: dict[str, str],
    receiver: Receiver,
    clock: OffsetClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert services.webhooks.allow_private is False
    await make_user(company=COMPANY, roles=[Role.COMPANYOWNER])
    answers: list[str] = []  # what the name resolves to, one entry per lookup

    async def resolver(host: str, port: int) -> list[Any]:
        assert host == "hooks.example.test"
        return [ipaddress.ip_address(answers.pop(0))]

    monkeypatch.setattr(delivery, "resolve", resolver)
    url = f"http://hooks.example.test:{receiver.port}/hook"
    answers.append("93.184.216.34")  # public when the endpoint is created
    hook = (await create(client, admin, url, events=["webhook.test"])).json()["id"]
    answers.append("127.0.0.1")  # rebound to loopback when the event is sent: refused, nothing connects
    await client.post(f"/admin/webhooks/{hook}/test", headers=admin)
    failed = (await tried(client, admin, hook, services))[0]
    assert failed["attempts"] == 1 and "loopback" in failed["last_error"] and receiver.received == []
    assert answers == []

    # one lookup per send, and the connection goes to that address (the receiver on loopback, standing in for a
    # public host) with the name as Host: were the name looked up again, it would not resolve at all
    monkeypatch.setattr(delivery, "refused_address", lambda address: False)
    answers.extend(["127.0.0.1", "127.0.0.1"])
    await client.post(f"/admin/webhooks/{hook}/test", headers=admin)  # queued after the failing one
    clock.advance(seconds=30)
    await until(lambda: len(receiver.received) == 2, services)
    assert answers == [] and receiver.types() == ["webhook.test", "webhook.test"]
    assert all(headers["host"] == f"hooks.example.test:{receiver.port}" for headers, _ in receiver.received)


async def test_a_pinned_https_request_keeps_the_name_for_sni_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    async def resolver(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("2606:4700:4700::1111")]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(delivery, "resolve", resolver)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        secret = delivery.new_secret()
        url = "https://hooks.example.test:8443/in?x=1"
        outcome = await delivery.send(client, url, "msg_1", 1, b"{}", (secret,), allow_private=False)
    assert outcome.ok
    request = seen[0]
    assert str(request.url) == "https://[2606:4700:4700::1111]:8443/in?x=1"
    assert request.headers["host"] == "hooks.example.test:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.test"  # TLS checks the name's certificate


async def test_a_long_run_stops_before_its_claim_could_lapse(
    client: httpx.AsyncClient,
    services: Services,
    make_user: UserFactory,
    admin: dict[str, str],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run stops starting sends after RUN_SECONDS (so its claim outlives it); the rest go next round, in
    order, once each."""
    services.webhooks.allow_private = True
    await make_user(company=COMPANY, roles=[Role.COMPANYOWNER])
    monkeypatch.setattr(webhook_service, "RUN_SECONDS", 0.15)
    receiver.delay = 0.1  # a slow receiver: two sends fill a run
    body = {"url": receiver.url, "events": ["webhook.test"], "enabled": False}
    hook = (await create(client, admin, **body)).json()["id"]
    for _ in range(5):  # queued while disabled: the first round claims all five at once
        assert (await client.post(f"/admin/webhooks/{hook}/test", headers=admin)).status_code == 202
    runs: list[tuple[int, int]] = []  # (claimed, tried) per recorded run
    record = services.webhooks._record

    async def spy(claim: Any, outcomes: list[Any]) -> None:
        runs.append((len(claim.messages), len(outcomes)))
        await record(claim, outcomes)

    monkeypatch.setattr(services.webhooks, "_record", spy)
    await client.put(f"/admin/webhooks/{hook}", headers=admin, json={**body, "enabled": True})
    await until(lambda: len(set(receiver.ids())) >= 5, services)
    for _ in range(200):  # the last run's record commits after its sends were received
        deliveries = (await client.get(f"/admin/webhooks/{hook}/deliveries", headers=admin)).json()["deliveries"]
        if all(d["status"] == "delivered" for d in deliveries):
            break
        await asyncio.sleep(0.02)
    assert runs[0][0] == 5 and all(tried <= 2 for _, tried in runs), runs  # cut short, not sent past the bound
    ids = [d["webhook_id"] for d in deliveries]
    received = receiver.ids()
    assert list(dict.fromkeys(received)) == ids[::-1]  # in order (the list is newest first)
    # once each, unless an attempt failed on the way back (at-least-once: a loaded CI machine saw one); such a
    # repeat is a recorded retry, never a second run sending the same event
    attempts = {d["webhook_id"]: d["attempts"] for d in deliveries}
    assert all(attempts[i] >= received.count(i) for i in ids), (received, attempts)


async def test_a_round_never_resends_what_another_round_is_recording(
    client: httpx.AsyncClient,
    services: Services,
    make_user: UserFactory,
    admin: dict[str, str],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two rounds of one process: the second reads the due heads while the first is sending them, and looks at
    what is in flight only after the first has recorded its run. It must not send that run again (it did, on a
    loaded machine: the first round had already let go of its claim)."""
    webhooks = services.webhooks
    webhooks.allow_private = True
    await make_user(company=COMPANY, roles=[Role.COMPANYOWNER])
    deliver = webhooks.deliver_due

    async def idle(client: Any = None) -> int:
        return 0

    monkeypatch.setattr(webhooks, "deliver_due", idle)  # the app's own worker stays out: the test runs the rounds
    body = {"url": receiver.url, "events": ["webhook.test"], "enabled": False}
    hook = (await create(client, admin, **body)).json()["id"]
    for _ in range(2):
        assert (await client.post(f"/admin/webhooks/{hook}/test", headers=admin)).status_code == 202
    await client.put(f"/admin/webhooks/{hook}", headers=admin, json={**body, "enabled": True})

    claimed, second_read, second_done, recorded = (asyncio.Event() for _ in range(4))
    claim, record, due_heads = webhooks._claim, webhooks._record, webhooks.repo.due_heads

    async def first_claim() -> Any:
        result = await claim()
        claimed.set()
        return result

    async def record_after_the_second_read(run: Any, outcomes: list[Any]) -> None:
        # PostgreSQL's second round finds nothing due (the claim is in the rows) and never reads the heads
        waits = [asyncio.create_task(second_read.wait()), asyncio.create_task(second_done.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        await record(run, outcomes)
        recorded.set()

    async def heads_read_before_the_record(*args: Any, **kwargs: Any) -> Any:
        rows = await due_heads(*args, **kwargs)
        second_read.set()
        await recorded.wait()
        return rows

    monkeypatch.setattr(webhooks, "_claim", first_claim)
    monkeypatch.setattr(webhooks, "_record", record_after_the_second_read)
    first = asyncio.create_task(deliver())
    await asyncio.wait_for(claimed.wait(), 10)
    monkeypatch.setattr(webhooks, "_claim", claim)
    monkeypatch.setattr(webhooks.repo, "due_heads", heads_read_before_the_record)
    second = asyncio.create_task(deliver())
    second.add_done_callback(lambda _: second_done.set())
    assert await asyncio.wait_for(first, 10) == 1
    await asyncio.wait_for(second, 10)
    monkeypatch.setattr(webhooks.repo, "due_heads", due_heads)
    monkeypatch.setattr(webhooks, "_record", record)
    assert await deliver() == 0  # nothing left
    deliveries = (await client.get(f"/admin/webhooks/{hook}/deliveries", headers=admin)).json()["deliveries"]
    assert sorted(receiver.ids()) == sorted(d["webhook_id"] for d in deliveries)  # each once
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 1)] * 2
