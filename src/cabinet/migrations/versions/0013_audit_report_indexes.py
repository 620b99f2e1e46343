"""audit actions: (user_id, billing_date, id) and (company_id, billing_date, id) for the usage report's pages

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_action_user_billing_id", "audit_action", ["user_id", "billing_date", "id"])
    op.create_index("ix_audit_action_company_billing_id", "audit_action", ["company_id", "billing_date", "id"])
    op.drop_index("ix_audit_action_user_billing", table_name="audit_action")


def downgrade() -> None:
    op.create_index("ix_audit_action_user_billing", "audit_action", ["user_id", "billing_date"])
    op.drop_index("ix_audit_action_company_billing_id", table_name="audit_action")
    op.drop_index("ix_audit_action_user_billing_id", table_name="audit_action")
