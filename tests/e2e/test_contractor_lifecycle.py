"""A call's whole life through real HTTP (uvicorn on a loopback port): the external system registers a
contractor and dispatches a call with tasks; the contractor signs in with the salted hash, accepts, writes,
raises a jeopardy that the dispatcher answers, completes the tasks and finishes the call; the dispatcher
closes it. The feeds return each change once, notifications arrive and are read, and every step is metered
(CONTRACTOR) in the audit trail."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from cabinet.core.metering import Service
from cabinet.domains.audit.schemas import AuditQuery
from tests.apis.contractor.support import Tenant, bearer, call_body, make_tenant, signin_body
from tests.helpers import LiveServer

T = TypeVar("T")


def on_server(server: LiveServer, coro: Coroutine[Any, Any, T]) -> T:
    loop = server.server.servers[0].get_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)


class Feeds:
    """The external system's sync client: one cursor per feed, each change collected once."""

    PATHS = {
        "calls": "/call/modifications/{}",
        "messages": "/call/messages/modifications/{}",
        "jeopardies": "/call/jeopardies/modifications/{}",
        "tasks": "/calltask/modifications/{}",
    }

    def __init__(self, http: httpx.Client, erp: dict[str, str]) -> None:
        self.http = http
        self.erp = erp
        self.cursors = dict.fromkeys(self.PATHS, 0)
        self.changes: dict[str, list[tuple[int, int]]] = {name: [] for name in self.PATHS}

    def pull(self) -> dict[str, list[dict[str, Any]]]:
        pulled: dict[str, list[dict[str, Any]]] = {}
        for name, template in self.PATHS.items():
            items = self.http.get(template.format(self.cursors[name]), headers=self.erp).json()
            for item in items:
                assert item["timestamp"] > self.cursors[name]
                self.cursors[name] = item["timestamp"]
                self.changes[name].append((item["id"], item["timestamp"]))
            pulled[name] = items
        return pulled


def test_whole_life_of_a_call(live_server: LiveServer) -> None:
    tenant: Tenant = on_server(live_server, make_tenant(live_server.services))
    erp = tenant.erp
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        feeds = Feeds(http, erp)
        assert feeds.pull() == {name: [] for name in Feeds.PATHS}

        # the external system registers a contractor and dispatches a call with two tasks
        registered = http.post(
            "/user/register", json={"userName": "ivan_petrov", "password": "ivan_pw_123"}, headers=erp
        )
        assert registered.status_code == 200
        ivan = registered.json()["id"]
        body = call_body(ivan, critical=True, tto="2030-01-01T10:00:00Z", ttf="2030-01-02T10:00:00Z")
        dispatched = http.post("/call", json=body, headers=erp)
        assert dispatched.status_code == 200, dispatched.text
        call = dispatched.json()
        cid = call["id"]
        assert call["number"] and len(call["tasks"]) == 2 and call["created"] == "2026-11-20T09:00:00Z"
        pulled = feeds.pull()
        assert [c["id"] for c in pulled["calls"]] == [cid] and pulled["calls"][0]["status"] == "New"
        assert [t["id"] for t in pulled["tasks"]] == [t["id"] for t in call["tasks"]]

        # the contractor signs in with the salted hash and finds the call (critical, not expired) on top
        tokens = http.post("/user/signin", json=signin_body("ivan_petrov", "ivan_pw_123")).json()
        me = bearer(tokens["access"]["token"])
        assert http.get("/user/self", headers=me).json() == {"id": ivan, "name": "ivan_petrov"}
        listed = http.get("/call", params={"status": "New"}, headers=me).json()
        assert [(c["id"], c["critical"], c["isExpired"]) for c in listed] == [(cid, True, False)]
        notes = http.get("/notification", headers=me)
        assert notes.headers["X-Unread-Count"] == "1" and notes.json()[0]["kind"] == "call_assigned"

        # accept; a message each way
        accepted = http.post(f"/call/{cid}/status", json={"status": "Committed"}, headers=me).json()
        assert accepted["commited"] and accepted["finished"] is None
        mine = http.post(f"/call/{cid}/message", json={"message": "On my way"}, headers=me).json()
        assert mine["owner"] == {"id": ivan, "name": "ivan_petrov"}
        theirs = http.post(
            f"/call/{cid}/dispatcher/message",
            json={"message": "Gate code 1234", "date": "2026-11-27T10:00:00Z"},
            headers=erp,
        ).json()
        pulled = feeds.pull()
        assert [(m["id"], m["owner"]) for m in pulled["messages"]] == [
            (mine["id"], {"id": ivan, "name": "ivan_petrov"}),
            (theirs["id"], None),
        ]
        assert [c["status"] for c in pulled["calls"]] == ["Committed"]

        # a jeopardy, answered by the dispatcher
        raised = http.post(f"/call/{cid}/jeopardy", json={"comment": "Spare part in 2 days"}, headers=me).json()
        assert http.get(f"/call/{cid}", headers=erp).json()["isJeopardy"] is True
        assert http.get("/call", params={"jeopardy": "true"}, headers=me).json()[0]["id"] == cid
        pulled = feeds.pull()
        assert [(j["id"], j["answerComment"]) for j in pulled["jeopardies"]] == [(raised["id"], None)]
        answered = http.post(f"/call/{cid}/unjeopardy", json={"answerComment": "Agreed, ttf moved"}, headers=erp)
        assert answered.status_code == 200
        assert http.patch(f"/call/{cid}", json={"ttf": "2030-01-04T10:00:00Z"}, headers=erp).json() == cid
        pulled = feeds.pull()
        assert [(j["id"], j["answerComment"]) for j in pulled["jeopardies"]] == [(raised["id"], "Agreed, ttf moved")]
        assert [(c["isJeopardy"], c["ttf"]) for c in pulled["calls"]] == [(False, "2030-01-04T10:00:00Z")]

        # the tasks, then the call is done; the dispatcher closes it
        first, second = (t["id"] for t in call["tasks"])
        assert http.post(f"/calltask/{first}/status", json={"status": "Done"}, headers=me).status_code == 204
        assert http.post(f"/calltask/{second}/status", json={"status": "Canceled"}, headers=me).status_code == 204
        assert http.get(f"/calltask/{first}/result", headers=me).json() == {"attachments": []}
        finished = http.post(
            f"/call/{cid}/status", json={"status": "Done", "comments": "Replaced the unit"}, headers=me
        )
        assert finished.json()["finished"] is not None
        assert http.post(f"/call/{cid}/close", headers=erp).status_code == 204
        late = http.post(f"/call/{cid}/message", json={"message": "one more thing"}, headers=me)
        assert (late.status_code, late.json()) == (409, {"errorCode": 7})
        pulled = feeds.pull()
        assert [(t["id"], t["status"]) for t in pulled["tasks"]] == [(first, "Done"), (second, "Canceled")]
        final = http.get(f"/call/{cid}", headers=erp).json()
        assert pulled["calls"] == [final]
        assert final["status"] == "Closed" and final["comments"] == "Replaced the unit"
        assert [t["status"] for t in final["tasks"]] == ["Done", "Canceled"]
        assert feeds.pull() == {name: [] for name in Feeds.PATHS}

        # every change came once: no (item, number) twice, numbers strictly growing per feed
        for name, seen in feeds.changes.items():
            numbers = [n for _, n in seen]
            assert numbers == sorted(set(numbers)), name

        # the notifications a contractor cares about arrived, unread first; read one, then all
        notes = http.get("/notification", headers=me)
        kinds = [n["kind"] for n in notes.json()]
        assert kinds == ["call_closed", "jeopardy_answered", "dispatcher_message", "call_assigned"]
        assert notes.headers["X-Unread-Count"] == "4"
        assert http.post(f"/notification/{notes.json()[-1]['id']}/read", headers=me).json() == 3
        reordered = http.get("/notification", headers=me).json()
        assert [n["isRead"] for n in reordered] == [False, False, False, True]
        assert http.post("/notification/readAll", headers=me).json() == 3
        assert http.get("/notification", params={"unreadOnly": "true"}, headers=me).json() == []

    # every operation was metered under CONTRACTOR: the writes in their own transaction
    async def audited() -> list[str]:
        await live_server.services.audit.flush()
        now = datetime.now(UTC)
        query = AuditQuery(
            date_from=now - timedelta(hours=1),
            date_to=now + timedelta(hours=1),
            services=(Service.STUDIO,),
            limit=1000,
        )
        actions, _, _ = await live_server.services.audit.search(query)
        return [a.operation for a in actions]

    operations = on_server(live_server, audited())
    for name in (
        "registerUser",
        "createCall",
        "setCallStatus",
        "postCallMessage",
        "postDispatcherMessage",
        "raiseCallJeopardy",
        "answerCallJeopardy",
        "patchCall",
        "setCallTaskStatus",
        "closeCall",
        "getCallModifications",
        "listCalls",
        "readAllNotifications",
    ):
        assert name in operations, name
