"""A source's items remember whose they are and when they were published, so that a
country's advisory level is known from the first poll.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seenitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_seenitem_country"), ["country"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("seenitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seenitem_country"))
        batch_op.drop_column("published_at")
        batch_op.drop_column("country")
