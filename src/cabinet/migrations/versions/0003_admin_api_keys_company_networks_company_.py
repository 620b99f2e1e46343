"""admin: api keys, company networks, company quotas

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cabinet.core.db.types


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "company_network",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("created_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_company_network_company_id_company"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_network")),
        sa.UniqueConstraint("company_id", "cidr", name=op.f("uq_company_network_company_id_cidr")),
    )
    with op.batch_alter_table("company_network", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_network_company_id"), ["company_id"], unique=False)

    op.create_table(
        "company_quota",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("process_type", sa.String(length=32), nullable=False),
        sa.Column("points_per_request", sa.Integer(), nullable=False),
        sa.Column("points_per_day", sa.Integer(), nullable=False),
        sa.Column("points_per_date_window", sa.Integer(), nullable=True),
        sa.Column("max_concurrent_execution", sa.Integer(), nullable=False),
        sa.Column("created_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_company_quota_company_id_company"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_quota")),
        sa.UniqueConstraint(
            "company_id", "service", "process_type", name=op.f("uq_company_quota_company_id_service_process_type")
        ),
    )
    with op.batch_alter_table("company_quota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_quota_company_id"), ["company_id"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("expires_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("created_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_api_key_company_id_company"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_key_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_key_user_id"), ["user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_key_company_id"))

    op.drop_table("api_key")
    with op.batch_alter_table("company_quota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_quota_company_id"))

    op.drop_table("company_quota")
    with op.batch_alter_table("company_network", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_network_company_id"))

    op.drop_table("company_network")
