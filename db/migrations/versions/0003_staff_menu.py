"""Each person's row remembers which command menu their chat shows.

Everyone starts with none recorded, so the first start after this upgrade gives every
person their role's menu once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("menu", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("menu")
