"""Outbox rows say what they are: their kind, the person a report is about, the roll call.

Rows queued before this revision are classified from their dedupe keys, the only place
those keys are ever read: from here on privacy and reports ask the columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 20:40:00
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The kinds as this revision knows them (db.models.DeliveryKind may grow later).
_OTHER = "message"
_BY_HEAD = {
    "help": "call for help",
    "safe": "safe again",
    "location": "location passed on",
    "unreachable": "unreachable notice",
    "curfew-proposal": "curfew proposal",
    "source-failing": "feed failure notice",
    "lead-change": "lead change",
}
_IN_A_ROUND = {
    "remind": "roll call reminder",
    "deadline": "roll call deadline report",
    "live": "live roll",
    "help": "call for help",
    "safe": "safe again",
}


# Named tuples rather than dataclasses: Alembic loads this file without registering it
# as a module, which dataclasses need.
class Known(NamedTuple):
    """What the database holds that a dedupe key can point at."""

    alert_kinds: dict[int, str]
    checkin_staff: dict[int, int]  # check-in id -> whose
    answer_staff: dict[int, int]  # roll-call answer id -> whose
    staff: set[int]
    rounds: set[int]


class Classified(NamedTuple):
    kind: str
    about_staff_id: int | None = None
    round_id: int | None = None


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def classify(key: str, known: Known) -> Classified:
    """What a row was, from the dedupe key the first revision's code gave it."""
    head, *rest = key.split(":")
    first = _number(rest[0]) if rest else None
    if head == "alert" and len(rest) == 1 and first in known.alert_kinds:
        return Classified("broadcast" if known.alert_kinds[first] == "broadcast" else "feed alert")
    if head == "rollcall" and first is not None:
        round_id = first if first in known.rounds else None
        if len(rest) == 1:
            return Classified("roll call question", round_id=round_id)
        kind = _IN_A_ROUND.get(rest[1], _OTHER)
        about = None
        if rest[1] in ("help", "safe") and len(rest) == 3:
            about = known.answer_staff.get(_number(rest[2]) or 0)
        return Classified(kind, about_staff_id=about, round_id=round_id)
    if head == "curfew" and len(rest) >= 2:
        notice = rest[1] in ("set", "ended")
        return Classified("curfew notice" if notice else "curfew reminder")
    if head not in _BY_HEAD:
        return Classified(_OTHER)
    about = None
    if head in ("help", "safe", "location"):
        about = known.checkin_staff.get(first or 0)
    elif head in ("unreachable", "lead-change") and first in known.staff:
        about = first
    return Classified(_BY_HEAD[head], about_staff_id=about)


def _known(connection: sa.Connection) -> Known:
    def pairs(query: str) -> Iterator[tuple[int, object]]:
        for row in connection.exec_driver_sql(query):
            yield int(row[0]), row[1]

    return Known(
        alert_kinds={k: str(v) for k, v in pairs("SELECT id, kind FROM alert")},
        checkin_staff={k: int(str(v)) for k, v in pairs("SELECT id, staff_id FROM checkin")},
        answer_staff={k: int(str(v)) for k, v in pairs("SELECT id, staff_id FROM rollcallanswer")},
        staff={int(r[0]) for r in connection.exec_driver_sql("SELECT id FROM staff")},
        rounds={int(r[0]) for r in connection.exec_driver_sql("SELECT id FROM rollcall")},
    )


def _backfill(connection: sa.Connection) -> None:
    known = _known(connection)
    delivery = sa.table(
        "delivery",
        sa.column("id", sa.Integer),
        sa.column("dedupe_key", sa.String),
        sa.column("kind", sa.String),
        sa.column("about_staff_id", sa.Integer),
        sa.column("round_id", sa.Integer),
    )
    update = (
        sa.update(delivery)
        .where(delivery.c.id == sa.bindparam("row_id"))
        .values(
            kind=sa.bindparam("new_kind"),
            about_staff_id=sa.bindparam("about"),
            round_id=sa.bindparam("round"),
        )
    )
    rows = connection.execute(sa.select(delivery.c.id, delivery.c.dedupe_key)).all()
    changes = []
    for row_id, key in rows:
        found = classify(key, known)
        if found != Classified(_OTHER):
            changes.append(
                {
                    "row_id": row_id,
                    "new_kind": found.kind,
                    "about": found.about_staff_id,
                    "round": found.round_id,
                }
            )
    for start in range(0, len(changes), 1000):
        connection.execute(update, changes[start : start + 1000])


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default=_OTHER)
        )
        batch_op.add_column(sa.Column("about_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_delivery_about_staff_id"), ["about_staff_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delivery_round_id"), ["round_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_delivery_about_staff_id_staff",
            "staff",
            ["about_staff_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_delivery_round_id_rollcall", "rollcall", ["round_id"], ["id"]
        )
    _backfill(op.get_bind())
    # The models give every row its kind; the default only served the rows already there.
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delivery_round_id_rollcall", type_="foreignkey")
        batch_op.drop_constraint("fk_delivery_about_staff_id_staff", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_delivery_round_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_about_staff_id"))
        batch_op.drop_column("round_id")
        batch_op.drop_column("about_staff_id")
        batch_op.drop_column("kind")
