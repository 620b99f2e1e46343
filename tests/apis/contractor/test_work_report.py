"""The work report PDF (GET /call/{callId}/report.pdf): parsed back with pypdf, the call number, the tasks'
results, the materials, the visits and the signer's name are there, in the company's language; the same callers
as the call may have it, anyone else gets the call's 404."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import Regional
from cabinet.domains.registry import Services
from cabinet.settings import Settings
from tests.apis.contractor.files_support import isolated_settings, jpeg
from tests.apis.contractor.support import Tenant, make_tenant
from tests.apis.contractor.test_proof import Link, png


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path)


async def finished_call(link: Link) -> None:
    """Checked in and out, reported done (one task Done, one Canceled, a material and an expense), a photo of the
    done task, signed."""
    assert (await link.visit("checkIn", latitude=55.751, longitude=37.621, accuracyMeters=10)).status_code == 200
    report = {
        "comments": "Замена диспенсера выполнена",
        "callTaskResults": [
            {"taskId": link.tasks[0], "newStatus": "Done"},
            {"taskId": link.tasks[1], "newStatus": "Canceled"},
        ],
        "materials": [
            {"name": "Dispenser belt", "serialNumber": "SN-77", "ownerType": "Contractor", "count": 2, "price": 150.5}
        ],
        "expenses": [{"expenditureItemId": (await link.erp_call())["availableExpenditureItems"][0]["id"], "count": 3}],
    }
    done = await link.client.post("/shared/call/done", params={"token": link.token}, json=report)
    assert done.status_code == 200, done.text
    assert (await link.visit("checkOut")).status_code == 200
    photo = await link.client.post(
        f"/shared/callTask/{link.tasks[0]}/attachment",
        params={"token": link.token},
        files={"Attachment": ("after.jpg", jpeg((800, 600)), "image/jpeg")},
    )
    assert photo.status_code == 200, photo.text
    assert (await link.sign(png(), name="Анна Петрова")).status_code == 201


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


async def set_locale(services: Services, company: str, locale: str) -> None:
    overlord = Principal(0, "root", 0, "platform", (Role.OVERLORD,), 0, CredentialKind.ACCESS)
    await services.directory.update_company(overlord, company, None, Regional(locale=locale, zone="Asia/Tokyo"))


async def test_the_report_in_russian_has_the_call_its_results_and_the_signature(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await Link(client, tenant).setup()
    await finished_call(link)
    call = await link.erp_call()
    answer = await client.get(f"/call/{link.call_id}/report.pdf", headers=tenant.erp)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert f"work-report-{call['number']}.pdf" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(answer.content))
    assert reader.metadata is not None and call["number"] in (reader.metadata.title or "")
    text = text_of(answer.content)
    assert "Акт выполненных работ" in text and call["number"] in text
    assert "Анна Петрова" in text  # the signer
    assert "Diagnose" in text and "Repair" in text
    assert "Выполнена" in text and "Отменена" in text  # the tasks' results
    assert "Замена диспенсера выполнена" in text  # the comment
    assert "Dispenser belt" in text and "SN-77" in text and "Fuel" in text
    assert "Europe/Moscow" in text  # the default zone names the times
    images = [image for page in reader.pages for image in page.images]
    assert len(images) >= 2  # the photo's thumbnail and the signature
    mine = await client.get(f"/call/{link.call_id}/report.pdf", headers=link.me)  # the contractor too
    assert mine.status_code == 200 and mine.content.startswith(b"%PDF-")


async def test_the_report_follows_the_companys_language_and_zone(
    client: httpx.AsyncClient, tenant: Tenant, services: Services
) -> None:
    link = await Link(client, tenant).setup()
    await finished_call(link)
    await set_locale(services, tenant.company, "en")
    answer = await client.get(f"/call/{link.call_id}/report.pdf", headers=tenant.erp)
    text = text_of(answer.content)
    assert "Work report" in text and "Акт" not in text
    assert "Done" in text and "Canceled" in text and "Asia/Tokyo" in text
    assert "Анна Петрова" in text  # Cyrillic in an English report still renders


async def test_an_unsigned_new_call_has_a_report_too(client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner_id, _ = await tenant.contractor(client)
    created = await tenant.dispatch(client, owner_id)
    answer = await client.get(f"/call/{created['id']}/report.pdf", headers=tenant.erp)
    assert answer.status_code == 200
    assert "Не подписано" in text_of(answer.content)


async def test_the_report_is_seen_only_by_those_who_see_the_call(
    client: httpx.AsyncClient, tenant: Tenant, services: Services
) -> None:
    link = await Link(client, tenant).setup()
    other = await make_tenant(services)
    foreign = await client.get(f"/call/{link.call_id}/report.pdf", headers=other.erp)
    assert foreign.status_code == 404 and foreign.json() == {"errorCode": 1}
    _, stranger = await tenant.contractor(client)  # a plain contractor sees only its own calls
    confined = await client.get(f"/call/{link.call_id}/report.pdf", headers=stranger)
    assert confined.status_code == 404 and confined.json() == {"errorCode": 1}
    missing = await client.get("/call/999999999/report.pdf", headers=tenant.erp)
    assert missing.status_code == 404 and missing.json() == {"errorCode": 1}
    anonymous = await client.get(f"/call/{link.call_id}/report.pdf")
    assert anonymous.status_code == 401


async def test_the_evidence_bundle_holds_every_file_with_its_hash(
    client: httpx.AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    link = await Link(client, tenant).setup()
    await finished_call(link)
    first_signature = (await link.erp_call())["signature"]
    replacement = png(5)
    assert (await link.sign(replacement, name="Иван Сидоров")).status_code == 201  # the old one stays in the bundle
    call = await link.erp_call()
    answer = await client.get(f"/call/{link.call_id}/evidence.zip", headers=tenant.erp)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert f"evidence-{call['number']}.zip" in answer.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[0] == "manifest.json"
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["call"] == {"id": link.call_id, "number": call["number"], "status": "Done"}
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json"}
    for name, entry in listed.items():
        data = archive.read(name)
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest(), name
    kinds = sorted(f["kind"] for f in manifest["files"])
    assert kinds == ["attachment", "signature", "signature", "workReport"]
    (photo,) = call["tasks"][0]["result"]["attachments"]
    (attachment,) = [f for f in manifest["files"] if f["kind"] == "attachment"]
    assert attachment["sha256"] == photo["sha256"] and attachment["attachmentId"] == photo["id"]
    signatures = {f["attachmentId"]: f for f in manifest["files"] if f["kind"] == "signature"}
    assert signatures[first_signature["attachmentId"]]["replacedAt"] is not None
    current = signatures[call["signature"]["attachmentId"]]
    assert current["signerName"] == "Иван Сидоров" and current["replacedAt"] is None
    assert archive.read(current["name"]) == replacement
    (report,) = [f for f in manifest["files"] if f["kind"] == "workReport"]
    assert "Иван Сидоров" in text_of(archive.read(report["name"]))
    assert [v["id"] for v in manifest["visits"]] == [v["id"] for v in call["visits"]]
    assert manifest["visits"][0]["checkInLocation"] == call["visits"][0]["checkInLocation"]
    assert manifest["visits"][0]["distanceMeters"] == call["visits"][0]["distanceMeters"]
    assert manifest["missing"] == []


async def test_a_file_gone_from_the_store_is_listed_as_missing(
    client: httpx.AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    link = await Link(client, tenant).setup()
    await finished_call(link)
    for photo in (Path(settings.blob_dir) / "attachments").rglob("*.jpg"):
        photo.unlink()
    answer = await client.get(f"/call/{link.call_id}/evidence.zip", headers=link.me)
    assert answer.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert [m["kind"] for m in manifest["missing"]] == ["attachment"]
    assert not [n for n in archive.namelist() if n.startswith("attachments/")]


async def test_the_evidence_is_seen_only_by_those_who_see_the_call(
    client: httpx.AsyncClient, tenant: Tenant, services: Services
) -> None:
    link = await Link(client, tenant).setup()
    other = await make_tenant(services)
    foreign = await client.get(f"/call/{link.call_id}/evidence.zip", headers=other.erp)
    assert foreign.status_code == 404 and foreign.json() == {"errorCode": 1}
    _, stranger = await tenant.contractor(client)
    confined = await client.get(f"/call/{link.call_id}/evidence.zip", headers=stranger)
    assert confined.status_code == 404 and confined.json() == {"errorCode": 1}
