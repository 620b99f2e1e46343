"""Task attachments on the wire: the nine types decided by content, the refusals (each with its code, leaving no
file in the blob store and no row in the database), the state rules, downloads and their headers, the change
feeds, and a full or read-only blob store (503 + Retry-After, nothing half-written)."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from cabinet.core.storage import LocalBlobStore
from cabinet.domains.registry import Services
from cabinet.models import CallTaskAttachment
from cabinet.settings import Settings
from tests.apis.contractor.files_support import (
    blob_files,
    bomb_png,
    compound_file,
    every_type,
    isolated_settings,
    jpeg,
    multipart,
    raw_multipart,
)
from tests.apis.contractor.support import Tenant

MAX_BYTES = 200_000
MAX_PIXELS = 2_000_000


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Path) -> Settings:
    return isolated_settings(backend, tmp_path, attachment_max_bytes=MAX_BYTES, attachment_max_pixels=MAX_PIXELS)


class Work:
    """A contractor's Committed call whose first task is Done (files may be attached to it)."""

    def __init__(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant

    async def setup(self) -> Work:
        self.owner_id, self.me = await self.tenant.contractor(self.client)
        call = await self.tenant.dispatch(self.client, self.owner_id)
        self.call_id = call["id"]
        self.task_id, self.other_task_id = (t["id"] for t in call["tasks"])
        await self.status("Committed")
        done = await self.client.post(f"/calltask/{self.task_id}/status", json={"status": "Done"}, headers=self.me)
        assert done.status_code == 204
        return self

    async def status(self, status: str) -> None:
        answer = await self.client.post(f"/call/{self.call_id}/status", json={"status": status}, headers=self.me)
        assert answer.status_code == 200, answer.text

    async def upload(self, data: bytes, name: str | None = "photo.jpg", task_id: int | None = None) -> httpx.Response:
        return await self.client.post(
            f"/calltask/{task_id or self.task_id}/attachment", headers=self.me, **multipart(data, name)
        )

    async def call(self) -> dict[str, Any]:
        return (await self.client.get(f"/call/{self.call_id}", headers=self.tenant.erp)).json()  # type: ignore[no-any-return]


@pytest.fixture
async def work(client: httpx.AsyncClient, tenant: Tenant) -> Work:
    return await Work(client, tenant).setup()


async def attachment_rows(services: Services) -> int:
    async with services.calls.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(CallTaskAttachment)) or 0)


async def test_each_of_the_nine_types_is_told_by_its_content(work: Work, settings: Settings) -> None:
    for expected, data in every_type().items():
        answer = await work.upload(data, name=f"file-{expected}.bin")  # the name says nothing
        assert answer.status_code == 200, (expected, answer.text)
        dto = answer.json()
        assert (dto["type"], dto["name"], dto["size"], dto["downloaded"]) == (
            expected,
            f"file-{expected}.bin",
            len(data),
            None,
        )
        fetched = await work.client.get(f"/calltask/{work.task_id}/attachment/{dto['id']}/download", headers=work.me)
        assert fetched.status_code == 200 and fetched.content == data, expected
    assert len(blob_files(settings)) == 9 and not any(f.startswith(".staging") for f in blob_files(settings))


async def refused(work: Work, services: Services, settings: Settings, answer: httpx.Response, code: int) -> None:
    """The upload was refused with 422 and ``code``, and left nothing behind: no file, no row, no change."""
    assert (answer.status_code, answer.json()) == (422, {"errorCode": code}), answer.text
    assert blob_files(settings) == []
    assert await attachment_rows(services) == 0
    assert (await work.call())["tasks"][0]["result"] == {"attachments": []}


async def test_adversarial_uploads_are_refused_and_leave_nothing(
    work: Work, services: Services, settings: Settings, client: httpx.AsyncClient
) -> None:
    before = (await work.call())["timestamp"]
    executable = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 2000
    await refused(work, services, settings, await work.upload(executable, "photo.jpg"), 21)  # a renamed .exe
    await refused(work, services, settings, await work.upload(b"\x7fELF\x02\x01\x01" + b"\x00" * 500), 21)
    photo = jpeg((400, 300))
    await refused(work, services, settings, await work.upload(photo[: len(photo) // 2]), 22)  # truncated JPEG
    await refused(work, services, settings, await work.upload(bomb_png(), "bomb.png"), 24)  # 900 Mpx bomb
    await refused(work, services, settings, await work.upload(bomb_png(3000, 3000), "big.png"), 24)  # over the limit
    polyglot = photo + every_type()["ZIP"]  # a valid JPEG that is also a ZIP archive
    await refused(work, services, settings, await work.upload(polyglot), 21)
    html_jpeg = photo[:2] + b"<html><script>alert(1)</script>" + photo[2:]
    await refused(work, services, settings, await work.upload(html_jpeg), 21)
    await refused(work, services, settings, await work.upload(compound_file("PowerPoint Document"), "a.doc"), 21)
    await refused(work, services, settings, await work.upload(b"", "empty.pdf"), 22)
    # over the size: declared up front (refused before reading) and streamed without a length (refused mid-way)
    big = b"%PDF-1.4\n" + b"0" * MAX_BYTES
    await refused(work, services, settings, await work.upload(big, "big.pdf"), 23)

    async def chunked() -> Any:
        body, _ = raw_multipart(big, 'form-data; name="Attachment"; filename="big.pdf"')
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    _, headers = raw_multipart(b"", "form-data")
    streamed = await client.post(
        f"/calltask/{work.task_id}/attachment", content=chunked(), headers={**work.me, **headers}
    )
    await refused(work, services, settings, streamed, 23)
    # names that are paths or carry CR/LF (as RFC 6266 filename* or raw)
    await refused(work, services, settings, await work.upload(photo, "../../etc/passwd.jpg"), 25)
    await refused(work, services, settings, await work.upload(photo, "..\\boot.ini"), 25)
    for disposition in (
        "form-data; name=\"Attachment\"; filename*=UTF-8''a%0D%0AContent-Type%3A%20text%2Fhtml.jpg",
        "form-data; name=\"Attachment\"; filename*=UTF-8''..%2F..%2Fx.jpg",
        'form-data; name="Attachment"; filename="evil\u202egpj.exe"',
    ):
        body, headers = raw_multipart(photo, disposition)
        answer = await client.post(f"/calltask/{work.task_id}/attachment", content=body, headers={**work.me, **headers})
        await refused(work, services, settings, answer, 25)
    assert (await work.call())["timestamp"] == before  # no change was stamped


async def test_malformed_requests_answer_400_or_415(work: Work, client: httpx.AsyncClient, settings: Settings) -> None:
    path = f"/calltask/{work.task_id}/attachment"
    cases = [
        (await client.post(path, json={"Attachment": "x"}, headers=work.me), 415),
        (await client.post(path, headers=work.me, **multipart(jpeg(), field="Other")), 400),
        (
            await client.post(
                path,
                content=b"--b\r\nnot a part",
                headers={**work.me, "Content-Type": "multipart/form-data; boundary=b"},
            ),
            400,
        ),
        (await client.post(path, content=b"x", headers={**work.me, "Content-Type": "multipart/form-data"}), 400),
    ]
    two = await client.post(
        path,
        headers=work.me,
        files=[("Attachment", ("a.jpg", jpeg(), "image/jpeg")), ("Attachment", ("b.jpg", jpeg(), "image/jpeg"))],
    )
    cases.append((two, 400))
    for answer, status in cases:
        assert (answer.status_code, answer.json()) == (status, {"errorCode": 0}), answer.text
    assert blob_files(settings) == []


async def test_state_rules_and_who_may_attach(work: Work, client: httpx.AsyncClient, services: Services) -> None:
    conflict = await work.upload(jpeg(), task_id=work.other_task_id)  # the task is New
    assert (conflict.status_code, conflict.json()) == (409, {"errorCode": 3})
    assert (await work.upload(jpeg())).status_code == 200  # Committed call, Done task
    erp = await client.post(f"/calltask/{work.task_id}/attachment", headers=work.tenant.erp, **multipart(jpeg()))
    assert erp.status_code == 403  # the external system does not attach
    stranger_id, stranger = await work.tenant.contractor(client)  # another contractor of the company
    other = await client.post(f"/calltask/{work.task_id}/attachment", headers=stranger, **multipart(jpeg()))
    assert (other.status_code, other.json()) == (404, {"errorCode": 1})
    assert (await work.upload(jpeg(), task_id=10**15)).json() == {"errorCode": 1}
    await work.status("Done")
    assert (await work.upload(jpeg())).status_code == 200  # Done call, Done task
    assert (await client.post(f"/call/{work.call_id}/close", headers=work.tenant.erp)).status_code == 204
    closed = await work.upload(jpeg())
    assert (closed.status_code, closed.json()) == (409, {"errorCode": 7})
    assert await attachment_rows(services) == 2


async def test_downloads_headers_feeds_and_the_first_fetch(work: Work, client: httpx.AsyncClient) -> None:
    name = "Отчёт «акт»; 1.pdf"
    data = every_type()["PDF"]
    dto = (await work.upload(data, name)).json()
    assert dto["name"] == name and dto["type"] == "PDF" and len(dto["sha256"]) == 64
    # the task and its call went out again in the feeds, carrying the file
    calls = (await client.get("/call/modifications/0", headers=work.tenant.erp)).json()
    tasks = (await client.get("/calltask/modifications/0", headers=work.tenant.erp)).json()
    assert calls[-1]["id"] == work.call_id and calls[-1]["tasks"][0]["result"]["attachments"] == [dto]
    assert tasks[-1]["id"] == work.task_id and tasks[-1]["result"]["attachments"] == [dto]
    cursor = calls[-1]["timestamp"]
    assert (await client.get(f"/calltask/{work.task_id}/result", headers=work.me)).json() == {"attachments": [dto]}
    assert (await client.get(f"/calltask/{work.task_id}", headers=work.tenant.erp)).json()["result"] == {
        "attachments": [dto]
    }

    mine = await client.get(f"/calltask/{work.task_id}/attachment/{dto['id']}/download", headers=work.me)
    assert mine.status_code == 200 and mine.content == data
    assert mine.headers["content-type"] == "application/pdf"
    assert mine.headers["content-length"] == str(len(data))
    assert mine.headers["x-content-type-options"] == "nosniff"
    disposition = mine.headers["content-disposition"]
    assert disposition == f"attachment; filename=\"_____ ______ 1.pdf\"; filename*=UTF-8''{quote(name, safe='')}"
    assert (await client.get(f"/call/modifications/{cursor}", headers=work.tenant.erp)).json() == []  # not ERP's

    theirs = await client.get(f"/calltask/{work.task_id}/attachment/{dto['id']}", headers=work.tenant.erp)
    assert theirs.status_code == 200 and theirs.content == data
    changed = (await client.get(f"/call/modifications/{cursor}", headers=work.tenant.erp)).json()
    downloaded = changed[0]["tasks"][0]["result"]["attachments"][0]["downloaded"]
    assert downloaded is not None
    again = await client.get(f"/calltask/{work.task_id}/attachment/{dto['id']}", headers=work.tenant.erp)
    assert again.status_code == 200
    assert (await client.get(f"/call/modifications/{changed[0]['timestamp']}", headers=work.tenant.erp)).json() == []

    for path, headers, code in (
        (f"/calltask/{work.task_id}/attachment/{dto['id'] + 1000}", work.tenant.erp, 2),
        (f"/calltask/{work.other_task_id}/attachment/{dto['id']}", work.tenant.erp, 2),
        (f"/calltask/{10**15}/attachment/{dto['id']}/download", work.me, 1),
    ):
        missing = await client.get(path, headers=headers)
        assert (missing.status_code, missing.json()) == (404, {"errorCode": code}), path
    forbidden = await client.get(f"/calltask/{work.task_id}/attachment/{dto['id']}/download", headers=work.tenant.erp)
    assert forbidden.status_code == 403  # the contractor's endpoint


@pytest.mark.parametrize("failure", ["no_space", "read_only", "placing"])
async def test_a_full_or_read_only_store_refuses_cleanly(
    work: Work, services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    before = (await work.call())["timestamp"]
    store: LocalBlobStore = services.attachments.blobs
    if failure == "no_space":

        def write(fd: int, data: bytes) -> None:  # the disk is full: half a buffer lands, then ENOSPC
            LocalBlobStore._write_chunk(store, fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(store, "_write_chunk", write)
        data = every_type()["PDF"][:-7] + b"0" * 190_000 + b"\n%%EOF\n"
    elif failure == "read_only":

        def read_only() -> Any:
            raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(store, "_open_staging", read_only)
        data = jpeg()
    else:  # staging works, moving the file under its key fails: a file sits where the directory should be
        blocker = Path(settings.blob_dir) / "attachments"
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.write_bytes(b"")
        data = jpeg()
    answer = await work.upload(data, "scan.pdf")
    assert (answer.status_code, answer.json()) == (503, {"errorCode": 26}), answer.text
    assert int(answer.headers["retry-after"]) > 0
    assert blob_files(settings) == []
    assert await attachment_rows(services) == 0
    assert (await work.call())["timestamp"] == before
    monkeypatch.undo()
    (Path(settings.blob_dir) / "attachments").unlink(missing_ok=True)
    assert (await work.upload(jpeg())).status_code == 200  # the store is back: uploads work again
