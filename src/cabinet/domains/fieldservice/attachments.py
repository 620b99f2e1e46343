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
import functools
import unicodedata
import uuid
from dataclasses import dataclass

import anyio.to_thread

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, on_rollback, read_only, transactional
from cabinet.core.errors import InvalidInput
from cabinet.core.metering import note_target
from cabinet.core.principal import Principal
from cabinet.core.storage import BlobTooLarge, LocalBlobStore, StagedBlob
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.content import EXTENSIONS, AttachmentType, inspect
from cabinet.domains.fieldservice.errors import (
    AttachmentNameInvalid,
    AttachmentNotFound,
    AttachmentTooLarge,
    AttachmentTypeRefused,
    AttachmentUnreadable,
    CallNotFound,
    CallStateConflict,
    CallTaskNotFound,
    FieldLinkExpired,
    FieldLinkOtherCall,
    SignatureInvalid,
    SignatureNotFound,
    TaskStateConflict,
)
from cabinet.domains.fieldservice.events import FieldEvents
from cabinet.domains.fieldservice.field_links import FieldLinkAccess, linked_call
from cabinet.domains.fieldservice.imaging import (
    DECODES_AT_ONCE,
    THUMBNAIL_KINDS,
    in_decoder,
    make_thumbnail,
    thumbnail_key,
    thumbnail_media_type,
)
from cabinet.domains.fieldservice.policies import Viewer, require_contractor, require_external, viewer_of
from cabinet.domains.fieldservice.repository import (
    AttachmentRepository,
    CallRepository,
    ProofRepository,
    TaskRepository,
)
from cabinet.domains.fieldservice.schemas import (
    SIGNATURE_MAX_BYTES,
    SIGNER_NAME_MAX,
    AttachmentFile,
    Thumbnail,
    UploadSource,
)
from cabinet.domains.fieldservice.states import CallAction, CallStatus, TaskStatus, call_permits
from cabinet.models import Call, CallSignature, CallTask, CallTaskAttachment

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
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        blobs: LocalBlobStore,
        max_bytes: int,
        max_pixels: int,
        events: FieldEvents | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.events = events or FieldEvents()
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.calls = CallRepository()
        self.tasks = TaskRepository()
        self.attachments = AttachmentRepository()
        self.proof = ProofRepository()
        self._inspections = asyncio.Semaphore(INSPECTIONS_AT_ONCE)
        self._decodes = asyncio.Semaphore(DECODES_AT_ONCE)  # thumbnails: read, decode and store one at a time

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
        await self.events.attachment(row)
        await staged.place(key)  # last: a failure here or at the commit rolls the row back, the caller the file
        on_rollback(functools.partial(self.blobs.delete, key))  # a request holding its writes commits later
        return row

    # --- the customer's signature (through the field link) ------------------------------------------------
    async def sign(self, access: FieldLinkAccess, upload: UploadSource) -> CallSignature:
        """The customer's signature: a PNG (multipart field ``file``) and the name they typed (``signerName``).
        A new one replaces the call's current one, which is kept (the evidence bundle has every signature)."""
        await self._check_proof_target(access)  # 404 / 409 before a byte of the file is read
        try:
            staged = await self.blobs.stage(upload.chunks(), max_bytes=SIGNATURE_MAX_BYTES)
        except BlobTooLarge as exc:
            raise AttachmentTooLarge(f"the signature is larger than {exc.limit} bytes") from exc
        try:
            if not upload.found:
                raise InvalidInput("the signature (PNG) is expected in the multipart/form-data field file")
            signer = _signer_name(upload.fields.get("signerName"))
            if staged.size == 0:
                raise AttachmentUnreadable("the file is empty")
            async with self._inspections:
                kind = await anyio.to_thread.run_sync(lambda: inspect(staged.path, max_pixels=self.max_pixels))
            if kind is not AttachmentType.PNG:
                raise AttachmentTypeRefused(f"a signature is a PNG image, not {kind.value}")
            key = f"signatures/{access.company_id}/{uuid.uuid4().hex}.png"
            return await self._record_signature(access, staged, signer, key)
        except BaseException:
            if staged.placed_key is not None:
                await self.blobs.delete(staged.placed_key)
            raise
        finally:
            await staged.discard()

    @read_only
    async def _check_proof_target(self, access: FieldLinkAccess) -> None:
        call = await linked_call(access)
        if not call_permits(CallStatus(call.status), CallAction.FIELD_PROOF):
            raise CallStateConflict(f"the customer signs while the call is Committed or Done, not {call.status}")

    @transactional
    async def _record_signature(
        self, access: FieldLinkAccess, staged: StagedBlob, signer: str, key: str
    ) -> CallSignature:
        call = await linked_call(access, for_update=True)
        if not call_permits(CallStatus(call.status), CallAction.FIELD_PROOF):
            raise CallStateConflict(f"the customer signs while the call is Committed or Done, not {call.status}")
        now = self.clock.now()
        for previous in await self.proof.signatures_of(call.id):
            if previous.replaced_at is None:
                previous.replaced_at = now
        row = CallSignature(
            call_id=call.id,
            company_id=call.company_id,
            link_id=access.link_id,
            signer_name=signer,
            signed_at=now,
            blob_key=key,
            size=staged.size,
            sha256=staged.sha256,
            replaced_at=None,
        )
        await self.proof.add(row)
        call.edited_at = now
        await feed.stamp(call.company_id, [call])  # the call carries its signature
        await self.events.call("updated", call, now)
        await staged.place(key)
        on_rollback(functools.partial(self.blobs.delete, key))
        return row

    async def signature_file(self, principal: Principal, call_id: int, signature_id: int) -> AttachmentFile:
        """A signature's PNG (the current one or a replaced one) of a call the caller may see."""
        row = await self._signature(principal, call_id, signature_id)
        chunks = await self.blobs.open_stream(row.blob_key)
        if chunks is None:
            raise SignatureNotFound(f"the file of signature {signature_id} is missing from the store")
        name = f"signature-{call_id}-{row.id}.png"
        return AttachmentFile(name=name, type=AttachmentType.PNG.value, size=row.size, sha256=row.sha256, chunks=chunks)

    @read_only
    async def _signature(self, principal: Principal, call_id: int, signature_id: int) -> CallSignature:
        call = await self.calls.get(viewer_of(principal), call_id)
        if call is None:
            raise CallNotFound(resource=str(call_id))
        row = await self.proof.signature(call.id, signature_id)
        if row is None:
            raise SignatureNotFound(resource=str(signature_id))
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

    async def thumbnail(self, reach: Reach, task_id: int, attachment_id: int) -> Thumbnail:
        """A small image of an image attachment for the pages: made once (at the first request, on the decode pool,
        at most ``DECODES_AT_ONCE`` at a time per process) and stored as a blob; every later request is served from
        the stored copy. Other types: AttachmentNotFound (the page shows their name instead)."""
        row = await self._find(reach, task_id, attachment_id)
        if row.type not in THUMBNAIL_KINDS:
            raise AttachmentNotFound(f"attachment {attachment_id} is not an image")
        key = thumbnail_key(row.blob_key)
        data = await self.blobs.get(key)
        if data is None:
            async with self._decodes:
                data = await self.blobs.get(key)  # made by a request this one waited behind
                if data is None:
                    original = await self.blobs.get(row.blob_key)
                    if original is None:
                        raise AttachmentNotFound(f"the file of attachment {attachment_id} is missing from the store")
                    data = await in_decoder(make_thumbnail, original)
                    del original
                    await self.blobs.put(key, data)
        return Thumbnail(data, thumbnail_media_type(data))

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
        if lock:  # a change: its audit record names the call as people do (a task's id says nothing to them)
            await self.tasks.reread(task)
            note_target("call", call.number)
        if link is not None and call.temp_link_id != link.link_id:
            raise FieldLinkExpired("the link was replaced by a newer one or withdrawn")
        if for_upload:
            action = CallAction.FIELD_ATTACH if link is not None else CallAction.ATTACH
            if not call_permits(CallStatus(call.status), action):
                raise CallStateConflict(f"files cannot be attached while the call is {call.status}")
            if task.status != TaskStatus.DONE.value:
                raise TaskStateConflict(f"files are attached to a Done task, not a {task.status} one")
        return call, task


def _signer_name(value: str | None) -> str:
    """The name the customer typed: required, at most SIGNER_NAME_MAX characters, no control characters."""
    name = " ".join((value or "").split())
    if not name:
        raise SignatureInvalid("signerName: the customer's name is required")
    if len(name) > SIGNER_NAME_MAX:
        raise SignatureInvalid(f"signerName: at most {SIGNER_NAME_MAX} characters")
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn"} for c in name):
        raise SignatureInvalid("signerName: control or invalid characters")
    return name


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
