"""The production profile end to end: nginx (the shipped `deploy/nginx/cabinet.conf`) in front of three
`cabinet serve` processes on a private PostgreSQL cluster and a private redis-server (never the machine's own).

It proves, through the balancer: quotas exact across processes, the sync feeds skip nothing, a process killed
with SIGKILL in the middle of writes leaves no partial write and a consistent audit while nginx routes around
it, and the whole stack rides out Redis and PostgreSQL going away and coming back (REST 503 + Retry-After,
Data API `internal_error` with the reason in an HTTP 200 JSON-RPC body) without restarting anything, and a
process killed while a webhook receiver holds its request loses no event (another process delivers it, in order).

The stack starts once for the module; these tests bring their own services, so `.ci/run` runs them in one pass
only (marker `production`)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook

from cabinet.core.metering import ProcessType, Service
from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.quotas.schemas import QuotaSpec
from cabinet.domains.registry import Services
from cabinet.domains.webhooks.schemas import CLAIM_SECONDS, EndpointCommand
from cabinet.settings import Settings
from tests.apis.admin.test_directory import PLATFORM
from tests.apis.contractor.support import make_tenant, sync_proof
from tests.e2e.private_services import CabinetProcess, ProductionStack
from tests.helpers import TEST_SECRET, UserFactory, bearer, login
from tests.system_packages import require_nginx, require_postgresql, require_redis_server

# one xdist worker runs them all (tests/conftest.py: pytest_xdist_make_scheduler), so the stack starts once
pytestmark = pytest.mark.production

PROCESSES = 3
CUT = -1  # a write whose connection nginx closed before a complete answer


@pytest.fixture(scope="module")
def stack() -> Iterator[ProductionStack]:
    nginx = require_nginx()
    require_postgresql()
    require_redis_server()
    private_hooks = {"CABINET_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}  # the webhook receiver is on loopback
    with ProductionStack(nginx, processes=PROCESSES, extra_env=private_hooks) as running:
        yield running


@pytest.fixture
def settings(stack: ProductionStack) -> Settings:
    """The test's own app (for fixtures and checks) on the stack's database and Redis."""
    assert stack.postgres is not None
    return Settings(
        data_dir=stack.data_dir,
        database_url=stack.postgres.url,
        redis_url=stack.redis.url,
        secret_key=TEST_SECRET,
        log_json=True,
        log_level="CRITICAL",
    )


@pytest.fixture
async def front(stack: ProductionStack) -> Any:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client


def upstream_ports(stack: ProductionStack, since: int, path_prefix: str) -> set[int]:
    """Ports of the processes nginx handed requests for ``path_prefix`` to (access log from line ``since``)."""
    assert stack.nginx is not None
    ports: set[int] = set()
    for line in stack.nginx.upstreams_logged()[since:]:
        _method, uri, _status, *upstreams = line.split(" ", 3)
        if uri.startswith(path_prefix) and upstreams:
            for address in upstreams[0].replace(",", " ").replace(":", " ").split():
                if address.isdigit() and address != "127.0.0.1":
                    ports.add(int(address))
    return ports & {c.port for c in stack.cabinets}


def log_mark(stack: ProductionStack) -> int:
    assert stack.nginx is not None
    return len(stack.nginx.upstreams_logged())


async def rows(app: Any, sql: str, **params: Any) -> list[Any]:
    async with app.state.runtime.resources.db.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def eventually(check: Callable[[], Awaitable[bool]], what: str | Callable[[], str], within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, what() if callable(what) else what
        await asyncio.sleep(0.2)


async def test_quota_is_exact_across_processes_behind_nginx(
    stack: ProductionStack, front: httpx.AsyncClient, make_user: UserFactory, services: Services, app: Any
) -> None:
    made = await make_user()
    user = await services.identity.get_account_by_id(made.id)
    spec = QuotaSpec(
        Service.ACCOUNT, ProcessType.NOTRACE, points_per_request=1, points_per_day=13, max_concurrent_execution=1000
    )
    await services.quotas.replace_for_user(user.id, user.company_id, [spec])
    headers = bearer(await login(front, made))
    mark = log_mark(stack)

    responses = await asyncio.gather(*(front.get("/account/info", headers=headers) for _ in range(60)))

    codes = [r.status_code for r in responses]
    assert codes.count(200) == 13 and codes.count(402) == 47, codes  # not one point overspent
    assert len(upstream_ports(stack, mark, "/account/info")) >= 2  # the race ran on several processes

    async def audited() -> bool:  # read audits are batched per process: each flushes within 0.5 s
        found = await rows(
            app,
            "select count(*) from audit_action where user_id = :u and operation = 'read_info' and http_status = 200",
            u=made.id,
        )
        return bool(found[0][0] == 13)

    await eventually(audited, "the 13 answered reads are not all audited")


async def test_no_change_is_skipped_behind_nginx(stack: ProductionStack, services: Services) -> None:
    tenant = await make_tenant(services)
    mark = log_mark(stack)
    clients = [httpx.AsyncClient(base_url=stack.url, timeout=30) for _ in range(2)]
    try:
        polls = await sync_proof(clients, tenant, calls=10, page=5, rounds=3)
    finally:
        for client in clients:
            await client.aclose()
    assert polls > 3
    assert len(upstream_ports(stack, mark, "/call/messages/modifications/")) >= 2  # readers met several processes
    assert len(upstream_ports(stack, mark, "/call/")) == PROCESSES  # writers too


async def test_sigkill_in_the_middle_of_writes(
    stack: ProductionStack, front: httpx.AsyncClient, services: Services, app: Any
) -> None:
    """Writers post messages through nginx; one process is killed (SIGKILL) while they run. Each write is
    either acknowledged (200) or a clean 502 from nginx; stored messages are exactly the acknowledged ones plus
    possibly some of the 502 ones (committed just before the kill), never twice; every stored message has its
    audit record and no audit record lacks its message; and requests after the kill all succeed."""
    tenant = await make_tenant(services)
    owner_id, _ = await tenant.contractor(front)
    cid = (await tenant.dispatch(front, owner_id))["id"]
    victim = stack.cabinets[0]
    mark = log_mark(stack)
    outcomes: dict[str, tuple[int, float]] = {}  # message -> (status or -1 on a transport error, sent at)
    stop = asyncio.Event()

    async def writer(w: int) -> None:
        n = 0
        while not stop.is_set():
            message, sent = f"writer {w} message {n}", time.monotonic()
            n += 1
            try:
                answer = await front.post(
                    f"/call/{cid}/dispatcher/message",
                    json={"message": message, "date": "2026-11-27T12:00:00Z"},
                    headers=tenant.erp,
                )
                outcomes[message] = (answer.status_code, sent)
                if answer.status_code not in (200, 502):
                    raise AssertionError(f"{answer.status_code}: {answer.text}")
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # the process died after its answer had begun: nginx can only cut the client's connection
                outcomes[message] = (CUT, sent)

    writers = [asyncio.create_task(writer(w)) for w in range(6)]
    await asyncio.sleep(1.5)
    victim.kill()
    killed_at = time.monotonic()
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.gather(*writers)
    try:
        assert victim.port in upstream_ports(stack, mark, f"/call/{cid}/"), "the victim took no writes before dying"
        statuses = [status for status, _ in outcomes.values()]
        assert set(statuses) <= {200, 502, CUT}, statuses
        # the balancer routes around the dead process: nothing sent after the kill failed
        late = [status for status, sent in outcomes.values() if sent > killed_at + 0.1]
        assert late and set(late) == {200}, late

        stored = [m for (m,) in await rows(app, "select message from contractor_message where call_id = :c", c=cid)]
        acknowledged = {m for m, (status, _) in outcomes.items() if status == 200}
        assert len(stored) == len(set(stored))  # never twice
        assert acknowledged <= set(stored)  # every acknowledged write is there
        assert set(stored) - acknowledged <= {m for m, (s, _) in outcomes.items() if s in (502, CUT)}  # no phantom
        company = await rows(app, "select id from company where key = :k", k=tenant.company)
        (audited,) = await rows(
            app,
            "select count(*) from audit_action where company_id = :co and operation = 'postDispatcherMessage' "
            "and http_status = 200",
            co=company[0][0],
        )
        assert audited[0] == len(stored)  # a write and its audit record commit together or not at all
        again = await asyncio.gather(*(front.get(f"/call/{cid}", headers=tenant.erp) for _ in range(12)))
        assert {r.status_code for r in again} == {200}
        print(
            f"\nSIGKILL mid-writes: {statuses.count(200)} acknowledged, {statuses.count(502)} answered 502, "
            f"{statuses.count(CUT)} cut, {len(stored) - len(acknowledged)} unacknowledged but committed"
        )
    finally:
        victim.start()  # the next tests get the full stack back
        victim.wait_ready()


def _limited_spec() -> QuotaSpec:
    return QuotaSpec(
        Service.ACCOUNT, ProcessType.NOTRACE, points_per_request=1, points_per_day=1000, max_concurrent_execution=5
    )


async def _data_api_caller(services: Services, make_user: UserFactory, company: str) -> str:
    user = await make_user(roles=[Role.COMPANYOWNER], company=company)
    issued = await services.credentials.issue_key(PLATFORM_OPERATOR, user.username, KeyRequest(name="prod"))
    await services.credentials.allow_network(PLATFORM_OPERATOR, company, "127.0.0.0/8")
    return issued.key


async def _rpc(front: httpx.AsyncClient, key: str) -> tuple[dict[str, Any], str]:
    """One Data API call through nginx: always HTTP 200 with a JSON-RPC body, whatever is away.
    Returns the body and the call's process code."""
    answer = await front.post(
        "/v2.0", json={"jsonrpc": "2.0", "id": 7, "method": "get.users", "params": {"access_token": key}}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == 7 and ("result" in body) != ("error" in body)
    return body, answer.headers["X-Process-Code"]


def _logged_reason(stack: ProductionStack, process_code: str) -> str:
    """The reason the process that served ``process_code`` logged for a backing service being away."""
    for cabinet in stack.cabinets:
        for line in cabinet.log_path.read_text(errors="replace").splitlines():
            if process_code in line and line.startswith("{"):
                record = json.loads(line)
                if record.get("event") == "backing service unavailable" and record["level"] == "warning":
                    return str(record["reason"])
    raise AssertionError(f"no process logged a backing service away for {process_code}")


async def _assert_unavailable(stack: ProductionStack, front: httpx.AsyncClient, key: str, reason: str) -> str:
    """The Data API's answer while a backing service is away: the seed's verbatim ``internal_error`` (the wire
    never shows internals), with the reason in the process's log; returns the call's process code."""
    body, process_code = await _rpc(front, key)
    error = body["error"]
    assert (error["code"], error["data"]["mnemonic"]) == (-32603, "internal_error"), body
    assert error["message"] == "Internal error, contact the support service"
    assert reason in _logged_reason(stack, process_code)
    return process_code


async def _recovers_by_itself(cabinet: CabinetProcess, headers: dict[str, str]) -> None:
    """One process, asked directly (not through nginx), serves an authenticated read and is ready again."""
    answers: list[str] = []
    async with httpx.AsyncClient(base_url=cabinet.url, timeout=30) as direct:

        async def serves() -> bool:
            try:
                info, ready = await direct.get("/account/info", headers=headers), await direct.get("/ready")
            except httpx.TransportError as exc:
                answers.append(f"{type(exc).__name__}: {exc}")
                return False
            answers.append(f"{info.status_code} {info.text[:300]} / ready {ready.status_code} {ready.text}")
            return info.status_code == ready.status_code == 200

        await eventually(
            serves, lambda: f"{cabinet.url} did not recover by itself: {answers[-3:]}\n{cabinet.log_tail(60)}"
        )
    assert not [a for a in answers if "Error" in a], (answers, cabinet.log_tail(60))


async def _two_on_one_connection(port: int, path: str, headers: dict[str, str]) -> list[int]:
    """Two GETs sent one after the other on one keep-alive connection; the statuses of the answers read, an
    answer missing when the server closed the connection after the first."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    statuses: list[int] = []
    try:
        for _ in range(2):
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{request}\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            statuses.append(int(head.split(b" ", 2)[1]))
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
    return statuses


async def test_redis_stopped_and_restarted(
    stack: ProductionStack, front: httpx.AsyncClient, make_user: UserFactory, services: Services, app: Any
) -> None:
    made = await make_user("redis_victim")
    user = await services.identity.get_account_by_id(made.id)
    await services.quotas.replace_for_user(user.id, user.company_id, [_limited_spec()])
    headers = bearer(await login(front, made))
    key = await _data_api_caller(services, make_user, "redis_data_co")
    assert (await front.get("/account/info", headers=headers)).status_code == 200
    assert "result" in (await _rpc(front, key))[0]

    stack.redis.stop()
    try:
        refused = await front.get("/account/info", headers=headers)
        assert refused.status_code == 503, refused.text  # fail closed, in the Account API's format
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["tracedata"]["operation"] == "read_info" and "Redis" in refused.json()["message"]
        process_code = await _assert_unavailable(stack, front, key, "Redis")
        # the 503 keeps the keep-alive connection (nginx's to the process) open for the next request
        statuses = await _two_on_one_connection(stack.cabinets[1].port, "/account/info", headers)
        assert statuses == [503, 503], statuses
    finally:
        stack.redis.start()  # same port, empty store

    async def recovered() -> bool:
        info = await front.get("/account/info", headers=headers)
        return info.status_code == 200 and "result" in (await _rpc(front, key))[0]

    await eventually(recovered, "no recovery after Redis came back")
    for cabinet in stack.cabinets:  # every process recovered by itself, not just the one nginx picked
        await _recovers_by_itself(cabinet, headers)

    async def audited() -> bool:  # the refused Data API call's audit record says why
        found = await rows(app, "select message from audit_action where process_code = :p", p=uuid.UUID(process_code))
        return bool(found) and "Redis" in str(found[0][0])

    await eventually(audited, "the Data API call refused while Redis was away has no audit record with the reason")


async def test_postgresql_restarted(
    stack: ProductionStack, front: httpx.AsyncClient, make_user: UserFactory, services: Services, app: Any
) -> None:
    made = await make_user("pg_victim")
    headers = bearer(await login(front, made))
    key = await _data_api_caller(services, make_user, "pg_data_co")
    assert (await front.put("/account/info", headers=headers, json={"specification": "before"})).status_code == 200
    assert stack.postgres is not None

    stack.postgres.stop()
    try:
        refused = await front.put("/account/info", headers=headers, json={"specification": "while away"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["tracedata"]["operation"] and "database" in refused.json()["message"]
        read = await front.get("/account/info", headers=headers)
        assert read.status_code == 503, read.text
        await _assert_unavailable(stack, front, key, "database")
    finally:
        stack.postgres.start()

    async def recovered() -> bool:
        answers = [await front.get("/account/info", headers=headers)]
        for cabinet in stack.cabinets:  # each process's pool, not just the one nginx picked
            async with httpx.AsyncClient(base_url=cabinet.url, timeout=30) as direct:
                answers.append(await direct.get("/account/info", headers=headers))
        return {a.status_code for a in answers} == {200} and "result" in (await _rpc(front, key))[0]

    # pg_ctl returned once PostgreSQL accepts connections: the pools dropped the connections the stop closed
    # (no pre-ping, asyncpg saw each socket end), so not even the first request after the restart may fail
    assert await recovered(), "a request failed after PostgreSQL came back"
    for cabinet in stack.cabinets:  # every process writes again without a restart
        async with httpx.AsyncClient(base_url=cabinet.url, timeout=30) as direct:
            put = await direct.put("/account/info", headers=headers, json={"specification": f"after {cabinet.port}"})
            assert put.status_code == 200, put.text
    (spec,) = await rows(app, "select specification from user_account where id = :u", u=made.id)
    assert spec[0] == f"after {stack.cabinets[-1].port}"  # the refused write left nothing behind


# --- webhooks: a process killed mid-delivery ------------------------------------------------------------------
def _socket_owner(peer_port: int, candidates: list[int]) -> int | None:
    """The process (among ``candidates`` and their children) whose TCP socket has local port ``peer_port``."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == peer_port:
                    inodes.add(fields[9])
    pids = list(candidates)
    for pid in candidates:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                pids += [int(c) for c in children.read().split()]
        except OSError:
            continue
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            return pid
    return None


class HoldingReceiver:
    """A webhook receiver on loopback that holds the first request it gets (never answers it) and answers 200 to
    every later one; each request is kept with the pid of the process that sent it."""

    def __init__(self, stack: ProductionStack) -> None:
        self.stack = stack
        self.received: list[tuple[dict[str, str], bytes, int | None]] = []
        self.held = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender = _socket_owner(writer.get_extra_info("peername")[1], [c.pid for c in self.stack.cabinets])
        try:
            while True:  # keep-alive: one connection may carry a run of deliveries
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append((headers, body, sender))
                if not self.held.is_set():
                    self.held.set()
                    await asyncio.Event().wait()  # held until the sender dies (the test's end closes it)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.CancelledError, ConnectionError):
            return
        finally:
            writer.close()


async def test_sigkill_mid_delivery_loses_no_webhook_event(
    stack: ProductionStack, front: httpx.AsyncClient, services: Services, app: Any
) -> None:
    """An endpoint receives call.message_created events. The receiver holds the first delivery; the process
    sending it is killed (SIGKILL) while it waits and more events are committed behind it. Its claim lapses
    (CLAIM_SECONDS; the test moves it back by that much rather than wait) and another process delivers
    everything: every event arrives, once per ``webhook-id`` after dedup, in commit order, and nothing is
    delivered by the dead process after its death."""
    for task in asyncio.all_tasks():  # the test's own app would deliver too: only the stack's processes may
        if task.get_name() == "webhook-deliveries":
            task.cancel()
    receiver = HoldingReceiver(stack)
    await receiver.start()
    services.webhooks.allow_private = True
    tenant = await make_tenant(services)
    owner_id, _ = await tenant.contractor(front)
    cid = (await tenant.dispatch(front, owner_id))["id"]
    company = tenant.company
    created = await services.webhooks.create_endpoint(
        PLATFORM,
        company,
        EndpointCommand(url=f"http://127.0.0.1:{receiver.port}/hook", events=["call.message_created"]),
    )
    verifier = Webhook(created.secret)
    sent: list[str] = []

    async def post(text: str) -> None:
        answer = await front.post(
            f"/call/{cid}/dispatcher/message",
            json={"message": text, "date": "2026-12-04T12:00:00Z"},
            headers=tenant.erp,
        )
        assert answer.status_code == 200, answer.text
        sent.append(text)

    victim: CabinetProcess | None = None
    try:
        await post("message 0")
        await asyncio.wait_for(receiver.held.wait(), timeout=15)
        holder = receiver.received[0][2]
        victim = next((c for c in stack.cabinets if c.pid == holder), None)
        assert victim is not None, f"the held delivery came from no stack process ({holder})"
        for n in range(1, 6):  # committed behind the held one: they must wait for it
            await post(f"message {n}")
        victim.kill()
        killed = time.monotonic()
        # A minute passes for the dead process's claim (CLAIM_SECONDS; waiting for it was a minute of the suite):
        # its deliveries' claims now lie in the past, so the live processes' next round may take them.
        async with app.state.runtime.resources.db.engine.begin() as conn:
            lapsed = await conn.execute(
                text(
                    "UPDATE webhook_delivery SET locked_until = locked_until - make_interval(secs => :claim) "
                    "WHERE endpoint_id = :endpoint AND status = 'pending' AND locked_until IS NOT NULL"
                ),
                {"claim": CLAIM_SECONDS, "endpoint": created.endpoint.id},
            )
        assert lapsed.rowcount >= 1  # the held delivery (and the run behind it) was claimed by the dead process

        def unique() -> list[str]:
            return list(dict.fromkeys(h["webhook-id"] for h, _, _ in receiver.received))

        async def all_arrived() -> bool:
            return len(unique()) == len(sent) and len(receiver.received) > len(sent)

        await eventually(all_arrived, lambda: f"{len(unique())} of {len(sent)} events arrived", within=120)
        waited = time.monotonic() - killed
        first_by_id: dict[str, bytes] = {}
        for headers, body, _ in receiver.received:
            verifier.verify(body, headers)  # every attempt is signed
            assert first_by_id.setdefault(headers["webhook-id"], body) == body  # an id is always the same event
        texts = [json.loads(first_by_id[i])["data"]["message"] for i in unique()]
        assert texts == sent  # in commit order
        redelivered = receiver.received[1:]
        assert [json.loads(b)["data"]["message"] for _, b, _ in redelivered] == sent  # the rest: once each, in order
        assert all(pid is not None and pid != holder for _, _, pid in redelivered)  # by another process

        async def statuses() -> list[str]:  # the receiver answers before the sender records the delivery
            return [d.delivery.status for d in await services.webhooks.deliveries(PLATFORM, created.endpoint.id)]

        async def all_recorded() -> bool:
            return await statuses() == ["delivered"] * len(sent)

        await eventually(all_recorded, "deliveries not all recorded as delivered", within=30)
        print(f"\nSIGKILL mid-delivery: {len(sent)} events delivered by another process {waited:.1f} s after the kill")
    finally:
        await receiver.stop()
        if victim is not None:
            victim.start()  # the next tests get the full stack back
            victim.wait_ready()


async def test_attachments_larger_than_a_json_body_pass_nginx(stack: ProductionStack, services: Services) -> None:
    """deploy/nginx/cabinet.conf capped every body at 1 MB, so attachments cabinet allows (25 MiB) were refused
    in production with nginx's HTML 413. The upload locations now take cabinet's cap; elsewhere 1 MiB stays."""
    from tests.apis.contractor.files_support import jpeg, multipart

    tenant = await make_tenant(services)
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as front:
        owner_id, me = await tenant.contractor(front)
        call = await tenant.dispatch(front, owner_id)
        task_id = call["tasks"][0]["id"]
        committed = await front.post(f"/call/{call['id']}/status", json={"status": "Committed"}, headers=me)
        assert committed.status_code == 200, committed.text
        done = await front.post(f"/calltask/{task_id}/status", json={"status": "Done"}, headers=me)
        assert done.status_code == 204, done.text
        photo = jpeg((2600, 2000))
        assert len(photo) > 2 * 1024 * 1024
        attached = await front.post(f"/calltask/{task_id}/attachment", headers=me, **multipart(photo, "site.jpg"))
        assert attached.status_code == 200, attached.text[:500]
        assert attached.json()["size"] == len(photo)
        # any other body stays capped at 1 MiB (CABINET_MAX_BODY_BYTES)
        message = json.dumps({"message": "x" * (2 * 1024 * 1024)})
        too_big = await front.post(
            f"/call/{call['id']}/message", content=message, headers={**me, "Content-Type": "application/json"}
        )
        assert too_big.status_code == 413
