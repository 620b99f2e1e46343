"""The pieces under attachments and field links, without HTTP: the blob store's staging, the streamed multipart
reader, Content-Disposition for any name, and the field link's token codec."""

from __future__ import annotations

import base64
import errno
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import jwt
import pytest

from cabinet.apis.contractor.files import content_disposition
from cabinet.core.errors import InvalidInput, UnsupportedMediaType
from cabinet.core.http.multipart import MultipartFile
from cabinet.core.storage import BlobStoreUnavailable, BlobTooLarge, LocalBlobStore
from cabinet.domains.fieldservice.field_links import LinkCodec


async def pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_staging_places_or_discards_and_never_leaves_a_partial_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    staged = await store.stage(pieces(b"a" * 300_000, b"b" * 10), max_bytes=300_010)
    assert staged.size == 300_010 and len(staged.sha256) == 64
    assert files_in(tmp_path) == [f".staging/{staged.path.name}"] and staged.path.name.startswith(".tmp-")
    await staged.place("attachments/1/x.zip")
    await staged.discard()  # after placing: a no-op
    assert files_in(tmp_path) == ["attachments/1/x.zip"]
    assert await store.get("attachments/1/x.zip") == b"a" * 300_000 + b"b" * 10

    with pytest.raises(BlobTooLarge):
        await store.stage(pieces(b"a" * 100, b"b"), max_bytes=100)
    with pytest.raises(InvalidInput):  # the body itself failed mid-way

        async def broken() -> AsyncIterator[bytes]:
            yield b"x" * 1000
            raise InvalidInput("malformed")

        await store.stage(broken(), max_bytes=10_000)
    assert files_in(tmp_path) == ["attachments/1/x.zip"]


async def test_a_full_disk_is_unavailable_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalBlobStore(tmp_path)

    def full(fd: int, data: bytes) -> None:
        os.write(fd, data[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "_write_chunk", full)
    with pytest.raises(BlobStoreUnavailable) as raised:
        await store.stage(pieces(b"x" * 1000), max_bytes=10_000)
    assert raised.value.retry_after and raised.value.retry_after > 0
    assert files_in(tmp_path) == []


async def test_put_many_encodes_each_blob_and_recreates_a_removed_directory(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put_many([("p/2026/11/27/ab/one.gz", b"one"), ("p/2026/11/27/cd/two.gz", b"two")], encode=bytes.upper)
    assert await store.get("p/2026/11/27/ab/one.gz") == b"ONE"
    assert await store.get("p/2026/11/27/cd/two.gz") == b"TWO"
    for child in (tmp_path / "p/2026/11/27/ab").iterdir():  # retention or a restore removed the directory
        child.unlink()
    (tmp_path / "p/2026/11/27/ab").rmdir()
    await store.put("p/2026/11/27/ab/three.gz", b"three")
    assert await store.get("p/2026/11/27/ab/three.gz") == b"three"
    assert files_in(tmp_path) == ["p/2026/11/27/ab/three.gz", "p/2026/11/27/cd/two.gz"]
    assert oct((tmp_path / "p/2026/11/27/ab/three.gz").stat().st_mode & 0o777) == "0o600"


async def test_a_failed_put_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalBlobStore(tmp_path)
    real_write = os.write

    def full(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(BlobStoreUnavailable):
        await store.put_many([("a/one", b"x" * 100)])
    monkeypatch.undo()
    assert files_in(tmp_path) == []
    with pytest.raises(ValueError, match="bad blob key"):
        await store.put("../escape", b"x")


async def test_abandoned_staged_files_are_purged(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    old = await store.stage(pieces(b"old"), max_bytes=100)
    new = await store.stage(pieces(b"new"), max_bytes=100)
    past = time.time() - 2 * 86_400
    os.utime(old.path, (past, past))
    assert await store.purge_staging() == 1
    assert not old.path.exists() and new.path.exists()


async def test_the_multipart_reader_streams_only_the_file_field() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        b'--B\r\nContent-Disposition: form-data; name="attachment"; filename="IMG 1.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + b"\xff\xd8" + b"z" * 5000 + b"\r\n--B--\r\n"
    )
    upload = MultipartFile(
        pieces(*(body[i : i + 7] for i in range(0, len(body), 7))),
        "multipart/form-data; boundary=B",
        field="Attachment",
    )
    received = b"".join([chunk async for chunk in upload.chunks()])
    assert received == b"\xff\xd8" + b"z" * 5000
    assert (upload.found, upload.filename) == (True, "IMG 1.jpg")

    extended = MultipartFile(
        pieces(
            b"--B\r\nContent-Disposition: form-data; name=Attachment; filename*=UTF-8''%D0%B0%0A.jpg\r\n\r\n"
            b"x\r\n--B--\r\n"
        ),
        "multipart/form-data; boundary=B",
        field="Attachment",
    )
    assert b"".join([c async for c in extended.chunks()]) == b"x" and extended.filename == "а\n.jpg"

    with pytest.raises(UnsupportedMediaType):
        MultipartFile(pieces(b""), "application/json", field="Attachment")
    with pytest.raises(InvalidInput):
        MultipartFile(pieces(b""), "multipart/form-data", field="Attachment")
    many = b"".join(b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i for i in range(20))
    with pytest.raises(InvalidInput):
        async for _ in MultipartFile(
            pieces(many + b"--B--\r\n"), "multipart/form-data; boundary=B", field="A"
        ).chunks():
            pass


@pytest.mark.parametrize(
    "name",
    ["photo.jpg", "Отчёт «акт».pdf", 'a"b\\c;d%e.pdf', "line\r\nX-Evil: 1.jpg", "😀.png", " "],
)
def test_content_disposition_is_safe_for_any_name(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and "\\" not in fallback
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == name


def test_link_tokens_are_signed_and_bound_to_their_key() -> None:
    codec = LinkCodec(b"s" * 40)
    link = uuid.uuid4()
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    token = codec.encode(42, link, expires, 3)
    assert len(token) < 256 and codec.decode(token) == (42, link, expires, 3)
    assert LinkCodec(b"t" * 40).decode(token) is None  # another server secret
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["typ"] == "field_link" and claims["sub"] == "42"
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "43"}).encode()).decode().rstrip("=")
    assert codec.decode(f"{header}.{forged}.{signature}") is None  # the call id altered
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert codec.decode(unsigned) is None  # alg none
    assert codec.decode(jwt.encode({**claims, "typ": "access"}, codec._key, algorithm="HS256")) is None
    assert codec.decode(codec.encode(43, link, expires - timedelta(days=1), 1)) == (
        43,
        link,
        expires - timedelta(days=1),
        1,
    )
    for garbage in ("", "=" * 64, "a" * 600, "ж" * 64, token[:-2]):
        assert codec.decode(garbage) is None
