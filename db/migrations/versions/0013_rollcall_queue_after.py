"""A roll call remembers how far queueing its question has gone, so that a restart
finishes asking the rest of the country.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollcall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_after", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rollcall", schema=None) as batch_op:
        batch_op.drop_column("queue_after")
