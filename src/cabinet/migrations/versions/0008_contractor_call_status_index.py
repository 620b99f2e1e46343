"""contractor: an index for call lists filtered by status (counts and first pages read only the index)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ["company_id", "status", "critical", "ttf", "tto", "commited_at", "finished_at"]


def upgrade() -> None:
    op.create_index("ix_contractor_call_company_status", "contractor_call", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_contractor_call_company_status", table_name="contractor_call")
