"""The audit log of privileged actions and refused attempts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlmodel import Session, col, select

from db.models import AuditEntry, Staff


def record(
    session: Session,
    *,
    action: str,
    actor_telegram_id: int | None,
    actor_staff_id: int | None = None,
    outcome: str = "ok",
    **detail: object,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_telegram_id=actor_telegram_id,
        actor_staff_id=actor_staff_id,
        outcome=outcome,
        detail=json.dumps(detail, default=str, ensure_ascii=False, sort_keys=True),
    )
    session.add(entry)
    session.flush()
    return entry


def by(
    session: Session, person: Staff, *, action: str, outcome: str = "ok", **detail: object
) -> AuditEntry:
    """`record` for something an enrolled person did (or tried)."""
    return record(
        session,
        action=action,
        actor_telegram_id=person.telegram_user_id,
        actor_staff_id=person.id,
        outcome=outcome,
        **detail,
    )


def recent(session: Session, *, limit: int = 50) -> Sequence[AuditEntry]:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
