"""Urgent messages reach people by SMS or e-mail when Telegram cannot: staff may give a
mobile number and an e-mail address, and the outbox says which channel a row goes by
and which Telegram row a fallback stands in for.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mobile", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        # Every row from before went by Telegram.
        batch_op.add_column(
            sa.Column(
                "channel",
                sa.String(length=16),
                nullable=False,
                server_default=sa.text("'telegram'"),
            )
        )
        batch_op.add_column(sa.Column("fallback_for_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_delivery_fallback_for_id", ["fallback_for_id"], unique=False)
        # The fallback looks every second for critical rows of the last day.
        batch_op.create_index("ix_delivery_kind_created", ["kind", "created_at"], unique=False)
        batch_op.create_foreign_key(
            "fk_delivery_fallback_for_id_delivery",
            "delivery",
            ["fallback_for_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delivery_fallback_for_id_delivery", type_="foreignkey")
        batch_op.drop_index("ix_delivery_kind_created")
        batch_op.drop_index("ix_delivery_fallback_for_id")
        batch_op.drop_column("fallback_for_id")
        batch_op.drop_column("channel")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("mobile")
