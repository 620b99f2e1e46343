"""metering: quota, audit_action, company budgets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cabinet.core.db.types


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_action",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("process_code", sa.Uuid(), nullable=False),
        sa.Column("request_code", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=256), nullable=False),
        sa.Column("company_key", sa.String(length=256), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("process_type", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=256), nullable=False),
        sa.Column("env", sa.String(length=256), nullable=False),
        sa.Column("pod", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("started_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("billing_date", sa.Date(), nullable=False),
        sa.Column("request_points", sa.Integer(), nullable=False),
        sa.Column("result_elements", sa.Integer(), nullable=False),
        sa.Column("input_digest", sa.String(length=64), nullable=True),
        sa.Column("input_blob", sa.String(length=512), nullable=True),
        sa.Column("output_blob", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_audit_action_company_id_company"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_audit_action_user_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_action")),
        sa.UniqueConstraint("process_code", name=op.f("uq_audit_action_process_code")),
    )
    with op.batch_alter_table("audit_action", schema=None) as batch_op:
        batch_op.create_index("ix_audit_action_company_time", ["company_id", "started_at"], unique=False)
        batch_op.create_index("ix_audit_action_user_billing", ["user_id", "billing_date"], unique=False)
        batch_op.create_index("ix_audit_action_user_time", ["user_id", "started_at"], unique=False)

    op.create_table(
        "quota",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("process_type", sa.String(length=32), nullable=False),
        sa.Column("points_per_request", sa.Integer(), nullable=False),
        sa.Column("points_per_day", sa.Integer(), nullable=False),
        sa.Column("points_per_date_window", sa.Integer(), nullable=True),
        sa.Column("window_from", sa.Date(), nullable=True),
        sa.Column("window_to", sa.Date(), nullable=True),
        sa.Column("max_concurrent_execution", sa.Integer(), nullable=False),
        sa.Column("created_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_quota_company_id_company"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_quota_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota")),
        sa.UniqueConstraint("user_id", "service", "process_type", name=op.f("uq_quota_user_id_service_process_type")),
    )
    with op.batch_alter_table("quota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quota_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quota_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day_points_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("minute_points_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("timezone")
        batch_op.drop_column("minute_points_limit")
        batch_op.drop_column("day_points_limit")

    with op.batch_alter_table("quota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quota_user_id"))
        batch_op.drop_index(batch_op.f("ix_quota_company_id"))

    op.drop_table("quota")
    with op.batch_alter_table("audit_action", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_action_user_time")
        batch_op.drop_index("ix_audit_action_user_billing")
        batch_op.drop_index("ix_audit_action_company_time")

    op.drop_table("audit_action")
