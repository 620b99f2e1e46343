"""data api: login.user sessions, partner links

Revision ID: 0005
Revises: 0003 (another branch adds 0004; the merge re-chains this one after it)
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cabinet.core.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "data_session",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("token_version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_data_session_company_id_company"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_data_session_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_data_session_token_hash")),
    )
    with op.batch_alter_table("data_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_session_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_session_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "partner_link",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("partner_company_id", sa.BigInteger(), nullable=False),
        sa.Column("client_company_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_company_id"],
            ["company.id"],
            name=op.f("fk_partner_link_partner_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_company_id"],
            ["company.id"],
            name=op.f("fk_partner_link_client_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_link")),
        sa.UniqueConstraint(
            "partner_company_id", "client_company_id", name=op.f("uq_partner_link_partner_company_id_client_company_id")
        ),
    )
    with op.batch_alter_table("partner_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_link_client_company_id"), ["client_company_id"], unique=False)


def downgrade() -> None:
    op.drop_table("partner_link")
    op.drop_table("data_session")
