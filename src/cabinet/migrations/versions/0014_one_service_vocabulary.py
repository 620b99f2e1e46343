"""one service vocabulary: the Data API reports under REGISTRY and the contractor area under STUDIO

Audit records and quotas said DATA and CONTRACTOR, while the Account API showed them as REGISTRY and STUDIO, so a
quota set under the names shown was stored but never checked. Records are renamed; a quota on a service no
operation reports under (it never limited anything) is removed, and where a user or company had a quota under
both names for one process type, the one that was enforced (DATA, CONTRACTOR) is kept.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

RENAMED = {"DATA": "REGISTRY", "CONTRACTOR": "STUDIO"}


def upgrade() -> None:
    for table in ("quota", "company_quota"):
        # the quotas that limited something are under the old names: every other one goes (REGISTRY and STUDIO
        # too, so the renamed ones meet no duplicate)
        op.execute(sa.text(f"DELETE FROM {table} WHERE service NOT IN ('ACCOUNT', 'ADMIN', 'DATA', 'CONTRACTOR')"))
    for table in ("quota", "company_quota", "audit_action"):
        for old, new in RENAMED.items():
            op.execute(sa.text(f"UPDATE {table} SET service = :new WHERE service = :old").bindparams(old=old, new=new))


def downgrade() -> None:
    for old, new in RENAMED.items():
        for table in ("quota", "company_quota", "audit_action"):
            op.execute(sa.text(f"UPDATE {table} SET service = :old WHERE service = :new").bindparams(old=old, new=new))
