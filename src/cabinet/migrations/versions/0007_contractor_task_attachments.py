"""contractor: task attachments (issue 6)

Revision ID: 0007
Revises: 0006 (written after 0005; re-chained after the cost estimates' 0006 when that branch was merged in)
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cabinet.core.db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contractor_attachment",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("blob_name", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=256), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("uploaded_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("downloaded_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["contractor_task.id"],
            name=op.f("fk_contractor_attachment_task_id_contractor_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["contractor_call.id"],
            name=op.f("fk_contractor_attachment_call_id_contractor_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_contractor_attachment_company_id_company"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor_attachment")),
        sa.UniqueConstraint("blob_name", name=op.f("uq_contractor_attachment_blob_name")),
    )
    with op.batch_alter_table("contractor_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contractor_attachment_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contractor_attachment_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contractor_attachment_company_id"), ["company_id"], unique=False)


def downgrade() -> None:
    op.drop_table("contractor_attachment")
