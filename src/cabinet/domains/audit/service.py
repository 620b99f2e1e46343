"""Audit: one record per process, its stored payloads, search, retention.

Writes (TRACE) are recorded inside the business transaction; reads are buffered and written in batches by a
background flusher (and on shutdown). Payloads are stored gzip-compressed in the blob store, never in a row.
"""

from __future__ import annotations

import asyncio
import gzip
import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.logging import get_logger
from cabinet.core.query import Query
from cabinet.core.storage import LocalBlobStore
from cabinet.domains.audit import convert
from cabinet.domains.audit.errors import PayloadNotFound, ProcessNotFound
from cabinet.domains.audit.repository import AuditRepository
from cabinet.domains.audit.schemas import AuditEntry, AuditQuery, FlowType
from cabinet.models import AuditAction

log = get_logger("cabinet.audit")


def gzip_payload(data: bytes) -> bytes:
    """``data`` in the gzip format at level 6, with a deflate window no larger than the data needs.

    ``gzip.compress`` always sets up a 32 KiB window, and for a payload of a few hundred bytes (most of them)
    that set-up is most of the cost: this takes a third of its CPU. The output is as small: deflate reaches back
    at most the window less 262 bytes, so a window of at least the data's length plus 262 bytes finds every
    match the full one would. Any gzip reader reads it (the window size is not part of the gzip format)."""
    wbits = min(zlib.MAX_WBITS, max(9, (len(data) + 261).bit_length()))
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + wbits)
    return compressor.compress(data) + compressor.flush()


def payload_key(entry: AuditEntry | AuditAction, flow: FlowType) -> str:
    """Where a process's payload is kept (the key is stored in its row). A day's files are spread over 256
    directories by the process code: every new file locks its directory, and one directory per day made the
    concurrent writers of every process queue on that lock (ten times the file system's CPU per file)."""
    day, code = entry.started_at, entry.process_code
    return f"payloads/{entry.company_id}/{day:%Y/%m/%d}/{code.hex[:2]}/{code}.{flow.value.lower()}.gz"


class AuditService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        blobs: LocalBlobStore,
        flush_interval: float = 0.5,
        batch_size: int = 500,
        retention_days: int = 90,
        scratch_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.scratch_dir = scratch_dir  # temporary files (XLSX forms of payloads); None: the system's
        self.clock = clock
        self.blobs = blobs
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.retention_days = retention_days
        self.audits = AuditRepository()
        self._buffer: list[AuditEntry] = []
        self._writing = 0  # records taken from the buffer whose write has not committed yet
        self._flush_lock = asyncio.Lock()
        self._wakeup = asyncio.Event()

    # --- writing ------------------------------------------------------------------------------------
    def add_in_current_transaction(self, entry: AuditEntry) -> None:
        """Called inside the business unit of work (before it commits): same transaction, same fate."""
        self.audits.add(AuditAction(**_fields(entry)))

    async def record(self, entry: AuditEntry, *, durable: bool) -> None:
        if durable:
            await self._write([entry])
            return
        self._buffer.append(entry)
        if len(self._buffer) >= self.batch_size:
            self._wakeup.set()

    async def _write(self, entries: Sequence[AuditEntry]) -> None:
        """Records of users or companies deleted since the request keep their names but no longer link to them
        (as if they had been written before the delete, whose foreign keys set NULL). A delete committed between
        the check and the insert fails the batch on its foreign key: checked again, once or twice."""
        for attempt in range(3):
            try:
                await self._insert(entries)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    @transactional
    async def _insert(self, entries: Sequence[AuditEntry]) -> None:
        live_users, live_companies = await self.audits.existing_ids(
            {e.user_id for e in entries if e.user_id is not None},
            {e.company_id for e in entries if e.company_id is not None},
        )
        rows = []
        for entry in entries:
            row = _fields(entry)
            if row["user_id"] not in live_users:
                row["user_id"] = None
            if row["company_id"] not in live_companies:
                row["company_id"] = None
            rows.append(row)
        await self.audits.insert_many(rows)

    @transactional
    async def correct_http_status(self, process_code: uuid.UUID, http_status: int) -> None:
        await self.audits.set_http_status(process_code, http_status)

    async def flush(self) -> int:
        """Write every buffered record now (the flusher's tick, and shutdown)."""
        async with self._flush_lock:
            written = 0
            while self._buffer:
                batch, self._buffer = self._buffer[: self.batch_size], self._buffer[self.batch_size :]
                self._writing = len(batch)
                try:
                    await self._write(batch)
                except Exception:
                    self._buffer[:0] = batch  # keep them for the next tick; nothing is dropped
                    raise
                finally:
                    self._writing = 0
                written += len(batch)
            return written

    async def run_flusher(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.flush_interval)
            except TimeoutError:
                pass
            self._wakeup.clear()
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly away: try again next tick
                log.warning("audit flush failed", error=repr(exc), pending=len(self._buffer))

    @property
    def pending(self) -> int:
        """Records not yet committed: buffered, or in a batch being written."""
        return len(self._buffer) + self._writing

    async def store_payloads(self, entry: AuditEntry, input_body: bytes | None, output_body: bytes | None) -> None:
        items = [
            (key, body)
            for key, body in ((entry.input_blob, input_body), (entry.output_blob, output_body))
            if key and body is not None
        ]
        if items:  # compressed and written in one worker-thread trip
            await self.blobs.put_many(items, encode=gzip_payload)

    # --- reading ------------------------------------------------------------------------------------
    @read_only
    async def search(self, query: AuditQuery) -> tuple[Sequence[AuditAction], int, int]:
        return await self.audits.search(query)

    @read_only
    async def query_actions(
        self, query: Query, *, company_id: int | None, since: datetime, until: datetime
    ) -> tuple[list[AuditAction], int]:
        """Actions of one company (None: all) started in [since, until] matching a Data API query (in SQL)."""
        return await self.audits.query(query, company_id=company_id, since=since, until=until)

    @read_only
    async def get_action(self, process_code: uuid.UUID, *, company_id: int | None, user_id: int | None) -> AuditAction:
        action = await self.audits.get(process_code, company_id=company_id, user_id=user_id)
        if action is None:
            raise ProcessNotFound(resource=str(process_code))
        return action

    async def read_payload(
        self, process_code: uuid.UUID, flow: FlowType, *, company_id: int | None, user_id: int | None
    ) -> bytes:
        """The raw data of a process as received (INPUT) or sent (OUTPUT); scoped like the caller's audit."""
        action = await self.get_action(process_code, company_id=company_id, user_id=user_id)
        key = action.input_blob if flow is FlowType.INPUT else action.output_blob
        data = await self.blobs.get(key) if key else None
        if data is None:
            raise PayloadNotFound(resource=str(process_code))
        return await asyncio.to_thread(gzip.decompress, data)

    async def read_payload_json(
        self, process_code: uuid.UUID, flow: FlowType, *, company_id: int | None, user_id: int | None
    ) -> bytes:
        """The stored data as it is, if it is JSON (else PayloadNotJson)."""
        data = await self.read_payload(process_code, flow, company_id=company_id, user_id=user_id)
        await asyncio.to_thread(convert.parse_json, data)
        return data

    async def payload_workbook(
        self, process_code: uuid.UUID, flow: FlowType, *, company_id: int | None, user_id: int | None
    ) -> Path:
        """The stored JSON data flattened into an XLSX file (see convert.py); the caller streams and deletes it."""
        data = await self.read_payload(process_code, flow, company_id=company_id, user_id=user_id)
        return await asyncio.to_thread(
            convert.write_workbook, data, self.scratch_dir, title=f"{process_code} {flow.value.lower()}"
        )

    # --- retention ----------------------------------------------------------------------------------
    async def purge_expired_payloads(self, *, now: datetime | None = None, batch: int = 500) -> int:
        """Delete payload blobs older than the retention period; their data endpoints then answer 404."""
        before = (now or self.clock.now()) - timedelta(days=self.retention_days)
        removed = 0
        while True:
            rows = await self._expired(before, batch)
            if not rows:
                return removed
            for row in rows:
                for key in (row.input_blob, row.output_blob):
                    if key:
                        await self.blobs.delete(key)
            await self._forget([r.id for r in rows])
            removed += len(rows)

    @read_only
    async def _expired(self, before: datetime, batch: int) -> Sequence[AuditAction]:
        return await self.audits.expired_payloads(before, batch)

    @transactional
    async def _forget(self, ids: Sequence[int]) -> None:
        await self.audits.forget_payloads(ids)


def _fields(entry: AuditEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in AuditEntry.__slots__}
