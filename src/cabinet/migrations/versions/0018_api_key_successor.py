"""API key rotation: a rotated key names its successor (and is not rotated a second time)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaced_by_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_api_key_replaced_by_id_api_key"), "api_key", ["replaced_by_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_api_key_replaced_by_id_api_key"), type_="foreignkey")
        batch_op.drop_column("replaced_by_id")
