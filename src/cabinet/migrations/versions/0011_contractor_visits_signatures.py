"""contractor: the field employee's visits (check-in/out) and the customer's signatures

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cabinet.core.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = cabinet.core.db.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "contractor_visit",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("check_in_at", UTC(timezone=True), nullable=False),
        sa.Column("check_in_client_at", UTC(timezone=True), nullable=False),
        sa.Column("check_in_latitude", sa.Float(), nullable=True),
        sa.Column("check_in_longitude", sa.Float(), nullable=True),
        sa.Column("check_in_accuracy", sa.Float(), nullable=True),
        sa.Column("distance_meters", sa.Float(), nullable=True),
        sa.Column("outside_geofence", sa.Boolean(), nullable=True),
        sa.Column("check_out_at", UTC(timezone=True), nullable=True),
        sa.Column("check_out_client_at", UTC(timezone=True), nullable=True),
        sa.Column("check_out_latitude", sa.Float(), nullable=True),
        sa.Column("check_out_longitude", sa.Float(), nullable=True),
        sa.Column("check_out_accuracy", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["contractor_call.id"],
            name=op.f("fk_contractor_visit_call_id_contractor_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_contractor_visit_company_id_company"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor_visit")),
    )
    with op.batch_alter_table("contractor_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contractor_visit_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contractor_visit_company_id"), ["company_id"], unique=False)

    op.create_table(
        "contractor_signature",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", UTC(timezone=True), nullable=False),
        sa.Column("blob_key", sa.String(length=256), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("replaced_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["contractor_call.id"],
            name=op.f("fk_contractor_signature_call_id_contractor_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_contractor_signature_company_id_company"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor_signature")),
    )
    with op.batch_alter_table("contractor_signature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contractor_signature_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contractor_signature_company_id"), ["company_id"], unique=False)


def downgrade() -> None:
    op.drop_table("contractor_signature")
    op.drop_table("contractor_visit")
