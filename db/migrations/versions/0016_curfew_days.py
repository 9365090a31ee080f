"""A curfew may hold on some days of the week only ("Saturdays and Sundays from 7 pm").

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("curfew", schema=None) as batch_op:
        batch_op.add_column(sa.Column("days", sa.String(length=13), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("curfew", schema=None) as batch_op:
        batch_op.drop_column("days")
