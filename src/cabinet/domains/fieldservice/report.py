"""Proof of work for the ERP and the contractor: the call's work report (PDF) and its evidence bundle.

The report shows what the call's page shows, frozen for the customer's file: the call, its tasks and their
results, the estimate's materials and expenses with totals, the visits in the company's time zone with the time on
site, thumbnails of the photos, the customer's signature with their name, and when it was generated; in the
company's language (ru|en). The same callers as ``GET /call/{id}`` may have it (viewer_of): another company's
call, or another contractor's for a confined caller, is *not found*.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only
from cabinet.core.principal import Principal
from cabinet.core.storage import LocalBlobStore
from cabinet.domains.fieldservice.content import AttachmentType
from cabinet.domains.fieldservice.errors import CallNotFound
from cabinet.domains.fieldservice.evidence import MANIFEST, BundleFile, iso, manifest, stream
from cabinet.domains.fieldservice.imaging import in_decoder
from cabinet.domains.fieldservice.policies import viewer_of
from cabinet.domains.fieldservice.report_content import (
    ReportContent,
    ReportMaterial,
    ReportPhoto,
    ReportTask,
    ReportVisit,
    thumbnail,
)
from cabinet.domains.fieldservice.repository import CallRepository, CostRepository, ProofRepository, SettingsRepository
from cabinet.domains.fieldservice.schemas import AttachmentFile, CallView, line_total

IMAGE_TYPES = {AttachmentType.JPEG.value, AttachmentType.PNG.value, AttachmentType.TIFF.value}


@dataclass(frozen=True, slots=True)
class RegionalDefaults:
    """The deployment's zone, language and currency, for a company that has not chosen its own."""

    zone: str
    locale: str
    currency: str


@dataclass(slots=True)
class CallRecord:
    """A call's proof of work as read in one unit of work: the report's content (without the images) and the
    stored files behind it."""

    view: CallView
    content: ReportContent
    attachments: list[Any] = field(default_factory=list)  # attachment rows, in task order
    signatures: list[Any] = field(default_factory=list)  # every signature, the replaced ones too, oldest first


@dataclass(frozen=True, slots=True)
class EvidenceBundle:
    name: str
    chunks: AsyncIterator[bytes]


def _download(name: str, kind: AttachmentType, data: bytes) -> AttachmentFile:
    async def chunks() -> AsyncIterator[bytes]:
        yield data

    return AttachmentFile(
        name=name, type=kind.value, size=len(data), sha256=hashlib.sha256(data).hexdigest(), chunks=chunks()
    )


class WorkReportService:
    def __init__(self, db: Database, *, clock: Clock, blobs: LocalBlobStore, defaults: RegionalDefaults) -> None:
        self.db = db
        self.clock = clock
        self.blobs = blobs
        self.defaults = defaults
        self.calls = CallRepository()
        self.costs = CostRepository()
        self.proof = ProofRepository()
        self.settings = SettingsRepository()

    async def pdf(self, principal: Principal, call_id: int) -> AttachmentFile:
        """The call's work report as a PDF (``work-report-<number>.pdf``)."""
        record = await self.record(principal, call_id)
        data = await self.render(record)
        return _download(f"work-report-{record.content.number}.pdf", AttachmentType.PDF, data)

    async def evidence(self, principal: Principal, call_id: int) -> EvidenceBundle:
        """The call's evidence bundle (evidence.py): the report, every attachment and signature, the manifest."""
        record = await self.record(principal, call_id)
        report = await self.render(record)
        number = record.content.number
        files = [
            BundleFile(
                name=f"attachments/task-{a.task_id}/{a.id}-{a.name}",
                blob_key=a.blob_key,
                size=a.size,
                sha256=a.sha256,
                stamp=a.uploaded_at,
                about={
                    "kind": "attachment",
                    "taskId": a.task_id,
                    "attachmentId": a.id,
                    "fileName": a.name,
                    "type": a.type,
                    "source": a.source,
                    "uploaded": iso(a.uploaded_at),
                },
            )
            for a in record.attachments
        ] + [
            BundleFile(
                name=f"signatures/signature-{s.id}.png",
                blob_key=s.blob_key,
                size=s.size,
                sha256=s.sha256,
                stamp=s.signed_at,
                about={
                    "kind": "signature",
                    "attachmentId": s.id,
                    "signerName": s.signer_name,
                    "signedAt": iso(s.signed_at),
                    "replacedAt": iso(s.replaced_at),
                },
            )
            for s in record.signatures
        ]
        present: list[BundleFile] = []
        missing: list[BundleFile] = []  # listed in the manifest as gone from the store
        for entry in files:
            (present if await self.blobs.exists(entry.blob_key) else missing).append(entry)
        report_name = f"work-report-{number}.pdf"
        generated = record.content.generated
        head = [
            (
                MANIFEST,
                manifest(record.view.call, generated, report_name, report, present, missing, record.view.visits),
            ),
            (report_name, report),
        ]
        return EvidenceBundle(f"evidence-{number}.zip", stream(self.blobs, generated, head, present))

    async def render(self, record: CallRecord) -> bytes:
        """The report's PDF: the photos' thumbnails and the signature read from the store (one file at a time),
        then the layout, off the event loop."""
        content = record.content
        for row in (a for a in record.attachments if a.type in IMAGE_TYPES):
            data = await self.blobs.get(row.blob_key)
            jpeg = None if data is None else await in_decoder(thumbnail, data)
            del data
            content.photos.append(ReportPhoto(row.name, jpeg))
        current = next((s for s in reversed(record.signatures) if s.replaced_at is None), None)
        if current is not None:
            content.signer_name = current.signer_name
            content.signed_at = current.signed_at
            content.signature_png = await self.blobs.get(current.blob_key)
        return await anyio.to_thread.run_sync(_draw, content)

    @read_only
    async def record(self, principal: Principal, call_id: int) -> CallRecord:
        viewer = viewer_of(principal)
        call = await self.calls.get(viewer, call_id)
        if call is None:
            raise CallNotFound(resource=str(call_id))
        now = self.clock.now()
        view = (await self.calls.views([call], now))[0]
        zone, locale, currency = await self.settings.regional(call.company_id)
        contact = ", ".join(x for x in (call.contact_person_name, call.contact_person_phone) if x)
        content = ReportContent(
            number=call.number,
            status=call.status,
            client_name=call.client_name,
            object_name=call.service_object_name,
            address=call.service_object_address,
            contact=contact,
            created=call.created,
            finished=call.finished_at,
            comments=call.comments or "",
            zone=zone or self.defaults.zone,
            locale=locale or self.defaults.locale,
            currency=currency or self.defaults.currency,
            generated=now,
            tasks=[ReportTask(t.title, t.status, len(view.attachments.get(t.id, ()))) for t in view.tasks],
            visits=[
                ReportVisit(v.check_in_at, v.check_out_at, v.distance_meters, v.outside_geofence) for v in view.visits
            ],
        )
        cost = await self.costs.for_call(call.id)
        if cost is not None:
            expenses, materials = await self.costs.lines([cost.id])
            names = {i.id: i.name for i in view.items}
            content.expenses = [(names.get(e.expenditure_item_id, "?"), e.count) for e in expenses[cost.id]]
            content.materials = [
                ReportMaterial(m.name, m.serial_number, m.count, m.price, line_total(m)) for m in materials[cost.id]
            ]
            content.materials_total = sum((m.total for m in content.materials), content.materials_total)
        attachments = [a for t in view.tasks for a in view.attachments.get(t.id, ())]
        return CallRecord(view, content, attachments, await self.proof.signatures_of(call.id))


def _draw(content: ReportContent) -> bytes:
    """The PDF (blocking). fpdf2 and fontTools are imported here, by the first report a process draws: at the top
    of the module they were a quarter of a second of every process start (each worker, each CLI command)."""
    from cabinet.domains.fieldservice.report_pdf import render

    return render(content)
