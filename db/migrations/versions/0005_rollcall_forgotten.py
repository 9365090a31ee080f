"""Each roll call counts the people asked in it who had their data deleted, so that its
roll says so instead of its counts silently shrinking.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollcall", schema=None) as batch_op:
        # Rounds from before counted nobody.
        batch_op.add_column(
            sa.Column("forgotten", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("rollcall", schema=None) as batch_op:
        batch_op.drop_column("forgotten")
