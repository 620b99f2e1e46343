"""A field employee's work through real HTTP (uvicorn on a loopback port): the contractor accepts a call and gives
a field employee a link; the field employee, with no account, opens the call, reports it done with the expenses
and materials used (they land in the call's cost estimate) and attaches photos and a scan; the contractor
downloads them; the external system sees them in its feed, fetches them (which marks them downloaded) and closes
the call, which ends the link. Every step through the link is metered as the call's owner."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from cabinet.core.metering import Service
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.settings import Settings
from tests.apis.contractor.files_support import blob_files, isolated_settings, jpeg, pdf
from tests.apis.contractor.support import Tenant, bearer, call_body, make_tenant, signin_body
from tests.helpers import LiveServer

T = TypeVar("T")


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path)


def on_server(server: LiveServer, coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(coro, server.server.servers[0].get_loop()).result(timeout=60)


def test_a_field_employee_reports_and_attaches_through_a_link(live_server: LiveServer, settings: Settings) -> None:
    tenant: Tenant = on_server(live_server, make_tenant(live_server.services))
    erp = tenant.erp
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        ivan = http.post("/user/register", json={"userName": "ivan", "password": "ivan_pw_123"}, headers=erp).json()[
            "id"
        ]
        call = http.post("/call", json=call_body(ivan), headers=erp).json()
        cid, (diagnose, repair) = call["id"], [t["id"] for t in call["tasks"]]
        me = bearer(http.post("/user/signin", json=signin_body("ivan", "ivan_pw_123")).json()["access"]["token"])
        assert http.post(f"/call/{cid}/status", json={"status": "Committed"}, headers=me).status_code == 200
        cursor = http.get("/call/modifications/0", headers=erp).json()[-1]
        call_items = [item["id"] for item in cursor["availableExpenditureItems"]]
        cursor = cursor["timestamp"]

        # the contractor gives the field employee a link (a JSON string)
        issued = http.post(f"/call/{cid}/templink", headers=me)
        assert issued.status_code == 200 and issued.headers["content-type"] == "application/json"
        link = {"token": issued.json()}

        with httpx.Client(base_url=live_server.url, timeout=30) as phone:  # no account, no header
            seen = phone.get("/shared/call", params=link)
            assert seen.status_code == 200 and seen.json()["id"] == cid and seen.json()["status"] == "Committed"
            report = {
                "comments": "Card reader replaced, tested with 3 cards",
                "callTaskResults": [
                    {"taskId": diagnose, "newStatus": "Done"},
                    {"taskId": repair, "newStatus": "Done"},
                ],
                "expenses": [{"count": 12, "expenditureItemId": call_items[0]}],
                "materials": [
                    {"count": 2, "name": "Fuse 5A", "ownerType": "ContractHolders", "price": 0.35, "serialNumber": ""},
                    {"count": 1, "name": "Reader", "ownerType": "Contractor", "price": 99.99, "serialNumber": "X"},
                ],
            }
            done = phone.post("/shared/call/done", params=link, json=report)
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "Done" and done.json()["comments"] == report["comments"]

            photos = {"before.jpg": jpeg((640, 480)), "after.jpg": jpeg((480, 640))}
            attached: dict[str, dict[str, Any]] = {}
            for name, data in photos.items():
                answer = phone.post(
                    f"/shared/callTask/{repair}/attachment",
                    params=link,
                    files={"Attachment": (name, data, "image/jpeg")},
                )
                assert answer.status_code == 200, answer.text
                attached[name] = answer.json()
            scan = pdf()
            act = phone.post(
                f"/shared/callTask/{diagnose}/attachment",
                params=link,
                files={"Attachment": ("акт выполненных работ.pdf", scan, "application/pdf")},
            ).json()
            assert [a["type"] for a in attached.values()] == ["JPEG", "JPEG"] and act["type"] == "PDF"
            result = phone.get(f"/shared/callTask/{repair}/result", params=link).json()
            assert result == {"attachments": list(attached.values())}
            back = phone.get(
                f"/shared/callTask/{repair}/attachment/{attached['after.jpg']['id']}/download", params=link
            )
            assert back.content == photos["after.jpg"]
            # the link opens nothing but /shared, and nothing of another call
            assert phone.get(f"/call/{cid}", headers={"Authorization": f"Bearer {link['token']}"}).status_code == 401
            assert phone.get("/calltask", params=link).status_code == 401

        # the contractor downloads the field employee's files
        listed = http.get(f"/calltask/{repair}/result", headers=me).json()["attachments"]
        assert [a["name"] for a in listed] == ["before.jpg", "after.jpg"]
        for item in listed:
            got = http.get(f"/calltask/{repair}/attachment/{item['id']}/download", headers=me)
            assert got.status_code == 200 and got.content == photos[item["name"]]
            assert got.headers["content-type"] == "image/jpeg"
            assert got.headers["content-disposition"].startswith("attachment;")

        # the reported costs are in the call's estimate, a Draft the contractor may still edit and send
        cost = http.get(f"/callCost/call/{cid}", headers=erp).json()
        assert cost["status"] == "Draft" and cost["materialsTotal"] == "100.69"
        assert [(e["expenditureItemId"], e["count"]) for e in cost["expenses"]] == [(call_items[0], 12)]
        assert [m["name"] for m in cost["materials"]] == ["Fuse 5A", "Reader"]

        # the external system sees them in its feed, fetches them (first fetch: downloaded), closes the call
        feed = http.get(f"/call/modifications/{cursor}", headers=erp).json()
        latest = feed[-1]
        assert latest["id"] == cid and latest["status"] == "Done"
        files = {a["name"]: a for t in latest["tasks"] for a in t["result"]["attachments"]}
        assert set(files) == {"before.jpg", "after.jpg", "акт выполненных работ.pdf"}
        assert all(a["downloaded"] is None for a in files.values())
        for task_id, item in ((repair, attached["before.jpg"]), (repair, attached["after.jpg"]), (diagnose, act)):
            got = http.get(f"/calltask/{task_id}/attachment/{item['id']}", headers=erp)
            assert got.status_code == 200
        assert http.get(f"/calltask/{diagnose}/attachment/{act['id']}", headers=erp).content == scan
        refreshed = http.get(f"/call/modifications/{latest['timestamp']}", headers=erp).json()
        assert all(a["downloaded"] for t in refreshed[-1]["tasks"] for a in t["result"]["attachments"])
        assert http.post(f"/call/{cid}/close", headers=erp).status_code == 204
        assert http.get("/shared/call", params=link).json() == {"errorCode": 20}
    assert len(blob_files(settings)) == 3

    async def audited() -> list[tuple[str, str]]:
        await live_server.services.audit.flush()
        now = datetime.now(UTC)
        query = AuditQuery(
            date_from=now - timedelta(hours=1),
            date_to=now + timedelta(hours=1),
            services=(Service.STUDIO,),
            limit=1000,
        )
        actions, _, _ = await live_server.services.audit.search(query)
        return [(a.operation, a.username) for a in actions]

    operations = on_server(live_server, audited())
    for name in ("getSharedCall", "reportSharedCallDone", "attachSharedCallTaskFile", "downloadSharedCallTaskFile"):
        assert (name, "ivan") in operations, name
    for name in ("createCallTempLink", "downloadCallTaskFile", "getCallTaskFile"):
        assert any(op == name for op, _ in operations), name
