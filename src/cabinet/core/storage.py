"""Blob storage for payloads, attachments and reports: a local (or shared) directory.

Writes are atomic (temporary file + rename), so a reader never sees half a blob and a crash leaves none
behind. Keys are relative POSIX paths made by cabinet itself; anything that could escape the root is refused.

Large uploads are *staged*: streamed chunk by chunk (bounded memory, a size cap checked as the bytes arrive)
into a temporary file of the store's own ``.staging`` directory, checked, and only then moved under their key
with one rename (``StagedBlob.place``) or removed (``discard``). A full or read-only store refuses the write
(``BlobStoreUnavailable``, a 503 with Retry-After) and leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from pathlib import Path, PurePosixPath

import anyio
import anyio.to_thread

from cabinet.core.errors import CabinetError, ErrorKind

CHUNK = 64 * 1024
STAGING_DIR = ".staging"
STAGE_BUFFER = 256 * 1024  # bytes gathered before one write to the staging file
RETRY_AFTER_SECONDS = 60  # a full or read-only disk does not heal in a second
STAGING_MAX_AGE_SECONDS = 86_400  # a staged upload older than this was abandoned by a process that died


class BlobStoreUnavailable(CabinetError):
    mnemonic = "blob_store_unavailable"
    kind = ErrorKind.UNAVAILABLE
    default_message = "The file store cannot be written right now"


class BlobTooLarge(Exception):
    """More bytes arrived than the stage's cap (the staged file is already removed)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


def _unavailable(exc: OSError) -> BlobStoreUnavailable:
    return BlobStoreUnavailable(f"cannot store a file: {exc.strerror or exc}", retry_after=RETRY_AFTER_SECONDS)


class StagedBlob:
    """A file written into the store but not visible under any key yet: ``place`` moves it under a key (one
    rename on the same file system), ``discard`` removes it. Either may be called more than once."""

    def __init__(self, store: LocalBlobStore, path: Path, size: int, sha256: str) -> None:
        self.store = store
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.placed_key: str | None = None

    async def place(self, key: str) -> None:
        target = self.store._path(key)

        def move() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, target)

        try:
            await anyio.to_thread.run_sync(move)
        except OSError as exc:
            raise _unavailable(exc) from exc
        self.placed_key = key

    async def discard(self) -> None:
        if self.placed_key is None:
            with contextlib.suppress(OSError):
                await anyio.to_thread.run_sync(self.path.unlink)


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
        try:
            fd, tmp = self._create_temp(path.parent)
        except FileNotFoundError:  # a new directory, or one removed since (retention, a restore)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = self._create_temp(path.parent)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @staticmethod
    def _create_temp(directory: Path) -> tuple[int, str]:
        """A new private file beside the target (what ``tempfile.mkstemp`` does, without its name generator)."""
        while True:
            tmp = os.path.join(directory, f".tmp-{os.urandom(8).hex()}")
            try:
                return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
            except FileExistsError:
                continue

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
        await self.put_many([(key, data)])

    async def put_many(
        self, items: Sequence[tuple[str, bytes]], *, encode: Callable[[bytes], bytes] | None = None
    ) -> None:
        """Store several blobs in one trip to a worker thread, ``encode`` (e.g. compression) applied there.
        Each blob is atomic on its own."""

        def put_all() -> None:
            for key, data in items:
                self._put_sync(key, encode(data) if encode else data)

        try:
            await anyio.to_thread.run_sync(put_all)
        except OSError as exc:
            raise _unavailable(exc) from exc

    def _open_staging(self) -> tuple[int, Path]:
        directory = self.root / STAGING_DIR
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=".tmp-up-")  # .tmp-: never in a backup
        return fd, Path(name)

    def _write_chunk(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def _finish_staging(self, fd: int) -> None:
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StagedBlob:
        """Stream ``chunks`` into a staged file, at most ``max_bytes`` (``BlobTooLarge`` beyond), holding at
        most one buffer of them in memory. Nothing is left behind when it fails."""
        try:
            fd, path = await anyio.to_thread.run_sync(self._open_staging)
        except OSError as exc:
            raise _unavailable(exc) from exc
        digest = hashlib.sha256()
        size = 0
        pending: list[bytes] = []
        pending_size = 0
        open_fd: int | None = fd
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(max_bytes)
                digest.update(chunk)
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= STAGE_BUFFER:
                    await anyio.to_thread.run_sync(self._write_chunk, fd, b"".join(pending))
                    pending, pending_size = [], 0
            if pending:
                await anyio.to_thread.run_sync(self._write_chunk, fd, b"".join(pending))
            open_fd = None
            await anyio.to_thread.run_sync(self._finish_staging, fd)
        except BaseException as exc:
            if open_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(open_fd)
            with contextlib.suppress(OSError):
                path.unlink()
            if isinstance(exc, OSError):
                raise _unavailable(exc) from exc
            raise
        return StagedBlob(self, path, size, digest.hexdigest())

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

    def _purge_staging_sync(self, max_age_seconds: float) -> int:
        directory = self.root / STAGING_DIR
        if not directory.is_dir():
            return 0
        horizon = time.time() - max_age_seconds
        removed = 0
        for path in directory.iterdir():
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime < horizon:
                    path.unlink()
                    removed += 1
        return removed

    async def purge_staging(self, max_age_seconds: float = STAGING_MAX_AGE_SECONDS) -> int:
        """Remove staged files older than ``max_age_seconds`` (left by a process that died mid-upload); returns
        how many."""
        return await anyio.to_thread.run_sync(self._purge_staging_sync, max_age_seconds)

    async def open_stream(self, key: str) -> AsyncIterator[bytes] | None:
        """The blob's bytes, chunk by chunk, from a file opened now (None when it is missing): a download can
        answer 404 before its first byte is promised."""
        try:
            fh = await anyio.open_file(self._path(key), "rb")
        except FileNotFoundError:
            return None

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await fh.read(CHUNK):
                    yield chunk
            finally:
                await fh.aclose()

        return chunks()
