"""Single-use invites: the only way in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from db import staff
from db.models import Invite, Role, Staff


@dataclass(frozen=True)
class InviteUse:
    ok: bool
    role: Role | None = None
    reason: str = ""


def create(
    session: Session, *, role: Role, created_by_staff_id: int | None, now: datetime, ttl: timedelta
) -> Invite:
    # 16 url-safe bytes: unguessable, and short enough for a /start deep-link payload.
    invite = Invite(
        code=secrets.token_urlsafe(16),
        role=role.value,
        created_by_staff_id=created_by_staff_id,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    session.flush()
    return invite


def redeem(session: Session, *, code: str, staff_id: int, now: datetime) -> InviteUse:
    """Use an invite once. The conditional update makes two racing redemptions impossible."""
    invite = session.exec(select(Invite).where(Invite.code == code)).first()
    if invite is None:
        return InviteUse(ok=False, reason="unknown")
    if invite.used_at is not None:
        return InviteUse(ok=False, reason="used")
    if invite.expires_at <= now:
        return InviteUse(ok=False, reason="expired")
    result = session.execute(
        update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
        .values(used_at=now, used_by_staff_id=staff_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return InviteUse(ok=False, reason="used")
    return InviteUse(ok=True, role=Role(invite.role))


def usable(session: Session, *, code: str, now: datetime) -> Invite | None:
    invite = session.exec(select(Invite).where(Invite.code == code)).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    return invite


@dataclass(frozen=True)
class Enrolment:
    person: Staff | None
    reason: str = ""  # why not, when person is None: unknown, used, expired, enrolled


def enrol_with_invite(
    session: Session,
    *,
    code: str,
    telegram_user_id: int,
    chat_id: int,
    display_name: str,
    username: str | None,
    now: datetime,
) -> Enrolment:
    """Enrol the sender with a valid invite; nothing changes when the invite is not valid."""
    existing = staff.by_telegram_id(session, telegram_user_id=telegram_user_id)
    if existing is not None:
        return Enrolment(person=None, reason="enrolled")
    invite = usable(session, code=code, now=now)
    if invite is None:
        return Enrolment(person=None, reason="invalid")
    person = staff.enrol(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        display_name=display_name,
        username=username,
        role=Role(invite.role),
    )
    used = redeem(session, code=code, staff_id=person.id or 0, now=now)
    if not used.ok:
        session.rollback()
        return Enrolment(person=None, reason="invalid")
    return Enrolment(person=person)
