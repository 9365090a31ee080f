"""Several processes may send the outbox: each sender says it is alive, and a claimed
row names the sender that claimed it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sender",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flooded_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_flooded_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sender", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sender_heartbeat_at"), ["heartbeat_at"])
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_delivery_claimed_by"), ["claimed_by"])


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_claimed_by"))
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("sender", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sender_heartbeat_at"))
    op.drop_table("sender")
