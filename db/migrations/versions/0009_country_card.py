"""Pinned country cards: one card per person and followed country, the outbox rows that
bring each card up to date, and the contacts a country's leads put on its card.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "countrycard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("shown_text", sa.Text(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("stale_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "country"),
    )
    with op.batch_alter_table("countrycard", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_countrycard_country"), ["country"], unique=False)

    op.create_table(
        "countrycontacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.Column("set_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["set_by_staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("country"),
    )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_delivery_card_id"), ["card_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_delivery_card_id_countrycard",
            "countrycard",
            ["card_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delivery_card_id_countrycard", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_delivery_card_id"))
        batch_op.drop_column("card_id")
    op.drop_table("countrycontacts")
    with op.batch_alter_table("countrycard", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countrycard_country"))
    op.drop_table("countrycard")
