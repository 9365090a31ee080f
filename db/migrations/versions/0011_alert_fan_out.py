"""An alert remembers how far its fan-out to the outbox has gone, so that a restart
finishes queueing it for the rest of the country.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 02:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fan_out_after", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("fan_out_after")
