"""web: sessions signed out of (their token's jti refused until it would have expired)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cabinet.core.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session_ended",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", cabinet.core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_web_session_ended_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_web_session_ended")),
    )
    with op.batch_alter_table("web_session_ended", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_ended_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_session_ended_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("web_session_ended")
