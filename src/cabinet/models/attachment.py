"""Files attached to a task's result (issue 6). The bytes live in the blob store under ``blob_key``, never in
the row; the row says what they are (type decided by content), how many and their SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class CallTaskAttachment(Base):
    __tablename__ = "contractor_attachment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_task.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractor_call.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))  # as the uploader named it (checked: no path, no controls)
    type: Mapped[str] = mapped_column(String(8))  # JPEG | PNG | TIFF | DOC | DOCX | XLS | XLSX | PDF | ZIP
    blob_name: Mapped[str] = mapped_column(String(64), unique=True)  # the seed's blobServiceFileName
    blob_key: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # contractor | field_link
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # first fetch by the ERP
