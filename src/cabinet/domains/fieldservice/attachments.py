"""Files attached to task results: upload (the contractor, or the field employee through a link) and download
(the external system, the contractor, the field employee).

An upload is never held in memory nor written twice: its bytes stream into a staged file of the blob store
(capped at ``CABINET_ATTACHMENT_MAX_BYTES`` while they arrive), the content is checked there (content.py: one
of the nine types, images decode within the pixel limit, no polyglots), and only then, inside the unit of work
that adds the row and stamps the task and its call in the change feed, the staged file is moved under its key.
Any failure on the way (a refusal, a full or read-only store, a database error, a call that changed state
meanwhile) removes the staged or moved file: no file without its row, no row without its file.

``downloaded`` is when the external system first fetched the file (its own download endpoint): the change feeds
then carry the task and call again, so the ERP sees which files it has taken.
"""

from __future__ import annotations

import asyncio
import enum
import unicodedata
import uuid
from dataclasses import dataclass

import anyio.to_thread

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import InvalidInput
from cabinet.core.principal import Principal
from cabinet.core.storage import BlobTooLarge, LocalBlobStore, StagedBlob
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.content import EXTENSIONS, AttachmentType, inspect
from cabinet.domains.fieldservice.errors import (
    AttachmentNameInvalid,
    AttachmentNotFound,
    AttachmentTooLarge,
    AttachmentUnreadable,
    CallNotFound,
    CallStateConflict,
    CallTaskNotFound,
    FieldLinkExpired,
    FieldLinkOtherCall,
    TaskStateConflict,
)
from cabinet.domains.fieldservice.field_links import FieldLinkAccess
from cabinet.domains.fieldservice.policies import Viewer, require_contractor, require_external
from cabinet.domains.fieldservice.repository import AttachmentRepository, CallRepository, TaskRepository
from cabinet.domains.fieldservice.schemas import AttachmentFile, UploadSource
from cabinet.domains.fieldservice.states import CallAction, CallStatus, TaskStatus, call_permits
from cabinet.models import Call, CallTask, CallTaskAttachment

NAME_MAX = 255
INSPECTIONS_AT_ONCE = 2  # image decodes in flight per process (each may take width x height x 4 bytes)


class Source(enum.StrEnum):
    CONTRACTOR = "contractor"
    FIELD_LINK = "field_link"
    EXTERNAL = "external"  # downloads only


@dataclass(frozen=True, slots=True)
class Reach:
    """Whose tasks a request may reach: the viewer's, and through a link only that link's call."""

    viewer: Viewer
    source: Source
    link: FieldLinkAccess | None = None


def contractor_reach(principal: Principal) -> Reach:
    return Reach(require_contractor(principal), Source.CONTRACTOR)


def external_reach(principal: Principal) -> Reach:
    return Reach(require_external(principal), Source.EXTERNAL)


def link_reach(access: FieldLinkAccess) -> Reach:
    return Reach(access.viewer, Source.FIELD_LINK, access)


class AttachmentService:
    def __init__(self, db: Database, *, clock: Clock, blobs: LocalBlobStore, max_bytes: int, max_pixels: int) -> None:
        self.db = db
        self.clock = clock
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.calls = CallRepository()
        self.tasks = TaskRepository()
        self.attachments = AttachmentRepository()
        self._inspections = asyncio.Semaphore(INSPECTIONS_AT_ONCE)

    # --- upload ------------------------------------------------------------------------------------------
    async def upload(self, reach: Reach, task_id: int, upload: UploadSource) -> CallTaskAttachment:
        await self._check_target(reach, task_id)  # 404 / 409 before a byte of the file is read
        try:
            staged = await self.blobs.stage(upload.chunks(), max_bytes=self.max_bytes)
        except BlobTooLarge as exc:
            raise AttachmentTooLarge(f"the file is larger than {exc.limit} bytes") from exc
        key: str | None = None
        try:
            if not upload.found:
                raise InvalidInput("the file is expected in the multipart/form-data field Attachment")
            name = _checked_name(upload.filename)
            if staged.size == 0:
                raise AttachmentUnreadable("the file is empty")
            async with self._inspections:
                kind = await anyio.to_thread.run_sync(lambda: inspect(staged.path, max_pixels=self.max_pixels))
            blob_name = f"{uuid.uuid4().hex}.{EXTENSIONS[kind]}"
            key = f"attachments/{reach.viewer.company_id}/{blob_name}"
            return await self._record(reach, task_id, staged, kind, name or f"attachment.{EXTENSIONS[kind]}", key)
        except BaseException:
            if staged.placed_key is not None:
                await self.blobs.delete(staged.placed_key)
            raise
        finally:
            await staged.discard()

    @read_only
    async def _check_target(self, reach: Reach, task_id: int) -> None:
        await self._target(reach, task_id, for_upload=True)

    @transactional
    async def _record(
        self, reach: Reach, task_id: int, staged: StagedBlob, kind: AttachmentType, name: str, key: str
    ) -> CallTaskAttachment:
        call, task = await self._target(reach, task_id, for_upload=True, lock=True)
        now = self.clock.now()
        row = CallTaskAttachment(
            task_id=task.id,
            call_id=call.id,
            company_id=call.company_id,
            name=name,
            type=kind.value,
            blob_name=key.rsplit("/", 1)[1],
            blob_key=key,
            size=staged.size,
            sha256=staged.sha256,
            source=reach.source.value,
            uploaded_at=now,
            downloaded_at=None,
        )
        self.attachments.add(row)
        task.edited_at = now
        call.edited_at = now
        await feed.stamp(call.company_id, [task, call])  # both carry the result's attachments
        await staged.place(key)  # last: a failure here or at the commit rolls the row back, the caller the file
        return row

    # --- download ----------------------------------------------------------------------------------------
    async def download(self, reach: Reach, task_id: int, attachment_id: int) -> AttachmentFile:
        row = await self._find(reach, task_id, attachment_id)
        if reach.source is Source.EXTERNAL and row.downloaded_at is None:
            await self._mark_downloaded(reach, task_id, attachment_id)
        chunks = await self.blobs.open_stream(row.blob_key)
        if chunks is None:
            raise AttachmentNotFound(f"the file of attachment {attachment_id} is missing from the store")
        return AttachmentFile(name=row.name, type=row.type, size=row.size, sha256=row.sha256, chunks=chunks)

    @read_only
    async def _find(self, reach: Reach, task_id: int, attachment_id: int) -> CallTaskAttachment:
        _, task = await self._target(reach, task_id)
        row = await self.attachments.get(task.id, attachment_id)
        if row is None:
            raise AttachmentNotFound(resource=str(attachment_id))
        return row

    @transactional
    async def _mark_downloaded(self, reach: Reach, task_id: int, attachment_id: int) -> None:
        call, task = await self._target(reach, task_id, lock=True)
        row = await self.attachments.get(task.id, attachment_id)
        if row is None or row.downloaded_at is not None:
            return
        row.downloaded_at = self.clock.now()
        await feed.stamp(call.company_id, [task, call])

    # --- rules -------------------------------------------------------------------------------------------
    async def _target(
        self, reach: Reach, task_id: int, *, for_upload: bool = False, lock: bool = False
    ) -> tuple[Call, CallTask]:
        """The task and its call, as this caller may reach them, and (for an upload) in a state that takes files."""
        task = await self.tasks.get(reach.viewer, task_id)
        link = reach.link
        if link is not None and (task is None or task.call_id != link.call_id):
            if for_upload:
                raise CallTaskNotFound(resource=str(task_id))
            raise FieldLinkOtherCall()  # the seed's 403 "the temporary link's id does not match"
        if task is None:
            raise CallTaskNotFound(resource=str(task_id))
        call = await self.calls.get(reach.viewer, task.call_id, for_update=lock)
        if call is None:
            raise CallNotFound(resource=str(task.call_id))
        if lock:
            await self.tasks.reread(task)
        if link is not None and call.temp_link_id != link.link_id:
            raise FieldLinkExpired("the link was replaced by a newer one or withdrawn")
        if for_upload:
            action = CallAction.FIELD_ATTACH if link is not None else CallAction.ATTACH
            if not call_permits(CallStatus(call.status), action):
                raise CallStateConflict(f"files cannot be attached while the call is {call.status}")
            if task.status != TaskStatus.DONE.value:
                raise TaskStateConflict(f"files are attached to a Done task, not a {task.status} one")
        return call, task


def _checked_name(name: str | None) -> str | None:
    """The file name as given, or a refusal when it could name a path or smuggle control characters (a name is
    only ever shown and sent back in Content-Disposition, but such a name is never what a camera produced)."""
    if name is None:
        return None
    name = name.strip()
    if not name:
        return None
    if len(name) > NAME_MAX:
        raise AttachmentNameInvalid(f"the file name is longer than {NAME_MAX} characters")
    if name in {".", ".."} or "/" in name or "\\" in name:
        raise AttachmentNameInvalid("the file name must not be or contain a path")
    for char in name:
        if char == "\ufffd" or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            raise AttachmentNameInvalid(f"the file name holds a control or invalid character (U+{ord(char):04X})")
    return name
