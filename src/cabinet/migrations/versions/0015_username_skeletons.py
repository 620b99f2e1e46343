"""usernames' confusable skeletons (Unicode TS 39), indexed: a new name may not look like an existing one

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cabinet.core.usernames import skeleton

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_skeleton", sa.String(length=1024), nullable=False, server_default=""))
    users = sa.table("user_account", sa.column("id", sa.BigInteger), sa.column("username", sa.String))
    shapes = sa.table("user_account", sa.column("id", sa.BigInteger), sa.column("username_skeleton", sa.String))
    bind = op.get_bind()
    for user_id, username in bind.execute(sa.select(users.c.id, users.c.username)).all():
        bind.execute(sa.update(shapes).where(shapes.c.id == user_id).values(username_skeleton=skeleton(username)))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index("ix_user_account_username_skeleton", ["username_skeleton"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index("ix_user_account_username_skeleton")
        batch_op.drop_column("username_skeleton")
