"""Whereabouts: the trips people take (a country, maybe a city, first and last local
day) and where each person was last seen or chose to be, so that a country's messages
reach the people there now and times are shown in each person's own zone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trip", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trip_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(
            "ix_trip_country_span", ["country", "starts_at", "ends_at"], unique=False
        )

    op.create_table(
        "whereabouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("live_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("live_message_id", sa.BigInteger(), nullable=True),
        sa.Column("chosen_city", sa.String(length=100), nullable=True),
        sa.Column("chosen_country", sa.String(length=2), nullable=True),
        sa.Column("chosen_zone", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id"),
    )
    with op.batch_alter_table("whereabouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whereabouts_country"), ["country"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whereabouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whereabouts_country"))
    op.drop_table("whereabouts")
    with op.batch_alter_table("trip", schema=None) as batch_op:
        batch_op.drop_index("ix_trip_country_span")
        batch_op.drop_index(batch_op.f("ix_trip_staff_id"))
    op.drop_table("trip")
