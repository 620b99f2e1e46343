"""Calls: where the next deadline of an open call is, per company

A total of calls filtered by ``isExpired`` changes as time passes a deadline, not only when a call changes. The
call lists keep such a total until the first moment a call of the company could become expired (the earliest
arrival deadline of a call not yet accepted, the earliest fix deadline of one not yet finished): these two
indexes answer each of those minima with one index seek, where they scanned every call of the company.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contractor_call_open_tto", "contractor_call", ["company_id", "commited_at", "tto"])
    op.create_index("ix_contractor_call_open_ttf", "contractor_call", ["company_id", "finished_at", "ttf"])


def downgrade() -> None:
    op.drop_index("ix_contractor_call_open_ttf", table_name="contractor_call")
    op.drop_index("ix_contractor_call_open_tto", table_name="contractor_call")
