"""Audit: what a change was about (``target``: "user petrov_ivan", "call 00000007")

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_action", schema=None) as batch_op:
        batch_op.drop_column("target")
