"""Blob storage for payloads, attachments and reports: a local (or shared) directory.

Writes are atomic (temporary file + rename), so a reader never sees half a blob and a crash leaves none
behind. Keys are relative POSIX paths made by cabinet itself; anything that could escape the root is refused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import anyio
import anyio.to_thread

from cabinet.core.errors import CabinetError, ErrorKind

CHUNK = 64 * 1024


class BlobStoreUnavailable(CabinetError):
    mnemonic = "blob_store_unavailable"
    kind = ErrorKind.UNAVAILABLE
    default_message = "The file store cannot be written right now"


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        pure = PurePosixPath(key)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\x00" in key:
            raise ValueError(f"bad blob key {key!r}")
        return self.root.joinpath(*pure.parts)

    def _put_sync(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _probe_sync(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".ready-")
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(tmp)

    async def writable(self) -> bool:
        """The store takes a small write (readiness: a full or read-only disk is not ready)."""
        try:
            await anyio.to_thread.run_sync(self._probe_sync)
            return True
        except OSError:
            return False

    async def put(self, key: str, data: bytes) -> None:
        try:
            await anyio.to_thread.run_sync(self._put_sync, key, data)
        except OSError as exc:
            raise BlobStoreUnavailable(f"cannot store a file: {exc.strerror or exc}") from exc

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        return await anyio.to_thread.run_sync(self._path(key).is_file)

    async def size(self, key: str) -> int | None:
        try:
            return (await anyio.to_thread.run_sync(self._path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(OSError):
            await anyio.to_thread.run_sync(self._path(key).unlink)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as fh:
            while chunk := await fh.read(CHUNK):
                yield chunk
