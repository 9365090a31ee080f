"""Calls for help become conversations: each call, its owner on the security team, its
thread of messages and the lead writing a reply; an outbox row can belong to a call and
be a copy of a message.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "helpcall",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_staff_id", sa.Integer(), nullable=True),
        sa.Column("owned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["closed_by_staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("helpcall", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_helpcall_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(
            "uq_helpcall_open_staff",
            ["staff_id"],
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        )

    op.create_table(
        "helpmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("sender_staff_id", sa.Integer(), nullable=True),
        sa.Column("from_person", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["helpcall.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sender_staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("helpmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_helpmessage_call_id"), ["call_id"], unique=False)

    op.create_table(
        "helpreplying",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["call_id"], ["helpcall.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id"),
    )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("copy_from_chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("copy_message_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_delivery_call_id"), ["call_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_delivery_call_id_helpcall", "helpcall", ["call_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delivery_call_id_helpcall", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_delivery_call_id"))
        batch_op.drop_column("copy_message_id")
        batch_op.drop_column("copy_from_chat_id")
        batch_op.drop_column("call_id")
    op.drop_table("helpreplying")
    with op.batch_alter_table("helpmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_helpmessage_call_id"))
    op.drop_table("helpmessage")
    with op.batch_alter_table("helpcall", schema=None) as batch_op:
        batch_op.drop_index("uq_helpcall_open_staff", sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.drop_index(batch_op.f("ix_helpcall_staff_id"))
    op.drop_table("helpcall")
