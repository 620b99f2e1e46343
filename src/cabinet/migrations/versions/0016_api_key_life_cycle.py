"""API key life cycle: ``cab_`` prefixes (wider column) and the address of the last use

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.alter_column("prefix", existing_type=sa.String(length=16), type_=sa.String(length=20))
        batch_op.add_column(sa.Column("last_used_ip", sa.String(length=45), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("last_used_ip")
        batch_op.alter_column("prefix", existing_type=sa.String(length=20), type_=sa.String(length=16))
