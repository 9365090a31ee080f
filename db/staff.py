"""People: enrolment, roles and reachability."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from db.models import Role, Staff
from db.refusal import Refusal
from db.types import utcnow


def by_telegram_id(session: Session, *, telegram_user_id: int) -> Staff | None:
    return session.exec(select(Staff).where(Staff.telegram_user_id == telegram_user_id)).first()


def find(session: Session, *, reference: str) -> Staff | None:
    """A person named by `@username`, `username` or numeric Telegram id.

    Telegram usernames change hands: two people may hold the same one in our records (one
    of them from before it moved). Then no one is picked; the refusal lists both with
    their ids, which never change.
    """
    ref = reference.strip()
    digits = ref.removeprefix("-")
    if digits.isascii() and digits.isdigit():
        number = int(ref)
        # Telegram ids are 64-bit; the database refuses a larger number in a query.
        return by_telegram_id(session, telegram_user_id=number) if abs(number) < 2**63 else None
    name = ref.removeprefix("@").casefold()
    if not name:
        return None
    holders = session.exec(
        select(Staff).where(func.lower(Staff.username) == name).order_by(col(Staff.id))
    ).all()
    if len(holders) > 1:
        listed = "\n".join(f"• {p.display_name} (id {p.telegram_user_id})" for p in holders)
        raise Refusal(
            f"{len(holders)} enrolled people have the username @{name[:64]}:\n{listed}\n"
            "Use the id of the one you mean instead."
        )
    return holders[0] if holders else None


def enrol(
    session: Session,
    *,
    telegram_user_id: int,
    chat_id: int,
    display_name: str,
    username: str | None,
    role: Role,
) -> Staff:
    person = Staff(
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        display_name=display_name[:200],
        username=username,
        role=role.value,
    )
    session.add(person)
    session.flush()
    return person


def touch(
    session: Session, *, person: Staff, chat_id: int, display_name: str, username: str | None
) -> None:
    """Keep name, username and chat current, and mark a person who writes to us reachable."""
    changed = (
        person.chat_id != chat_id
        or person.display_name != display_name[:200]
        or person.username != username
        or not person.reachable
    )
    if changed:
        person.chat_id = chat_id
        person.display_name = display_name[:200]
        person.username = username
        person.reachable = True
        person.updated_at = utcnow()
        session.add(person)


def set_role(session: Session, *, person: Staff, role: Role) -> None:
    person.role = role.value
    person.updated_at = utcnow()
    session.add(person)


def set_contact(
    session: Session, *, person: Staff, phone: str | None, emergency_contact: str | None
) -> None:
    person.phone = phone
    person.emergency_contact = emergency_contact
    session.add(person)


def set_fallback(session: Session, *, person: Staff, mobile: str | None, email: str | None) -> None:
    """Where urgent messages reach the person when Telegram cannot (bot.fallback)."""
    person.mobile = mobile
    person.email = email
    session.add(person)


def set_menu(session: Session, *, staff_id: int, menu: str) -> None:
    """Record the fingerprint of the command menu now shown in a person's chat."""
    session.execute(update(Staff).where(col(Staff.id) == staff_id).values(menu=menu))


def without_menu(session: Session, *, menus: dict[Role, str]) -> Sequence[Staff]:
    """The people whose chat does not show their role's menu (`menus`: each role's
    fingerprint), admins first: they have the most to miss."""
    found = [p for p in everyone(session) if p.menu != menus.get(Role(p.role))]
    return sorted(found, key=lambda p: -Role(p.role).rank)


def count_admins(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Staff).where(Staff.role == Role.ADMIN.value)
    ).one()


def mark_unreachable(session: Session, *, staff_id: int) -> bool:
    """Mark a person unreachable; True only for the call that changed it (so leads hear once)."""
    result = session.execute(
        update(Staff)
        .where(col(Staff.id) == staff_id, col(Staff.reachable).is_(True))
        .values(reachable=False, updated_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def everyone(session: Session) -> Sequence[Staff]:
    return session.exec(select(Staff).order_by(col(Staff.display_name), col(Staff.id))).all()


def reachable_admins(session: Session) -> list[Staff]:
    """The admins Telegram still reaches, by name: those told when the bot itself is in
    trouble (a source failing, paid broadcasts refused)."""
    return [p for p in everyone(session) if p.role == Role.ADMIN.value and p.reachable]


@dataclass(frozen=True)
class RoleChange:
    old: Role
    new: Role | None  # None: refused, see `refusal`
    refusal: str = ""


_LADDER = (Role.STAFF, Role.LEAD, Role.ADMIN)


def change_role(
    session: Session,
    *,
    person: Staff,
    up: bool,
    to: Role | None = None,
    configured_admin_ids: Collection[int] = (),
) -> RoleChange:
    """Promote one step (or to `to`) or demote one step, keeping at least one admin.

    People in ADMIN_TELEGRAM_IDS cannot be demoted here: they would be made admin again
    on their next message.
    """
    old = Role(person.role)
    name = person.display_name
    if up:
        new = to or _LADDER[min(old.rank + 1, len(_LADDER) - 1)]
        if new.rank <= old.rank:
            return RoleChange(old, None, f"{name} is already {role_words(old)}.")
    else:
        if old is Role.STAFF:
            return RoleChange(old, None, f"{name} is already staff.")
        if person.telegram_user_id in configured_admin_ids:
            return RoleChange(
                old,
                None,
                f"{name} is an admin through ADMIN_TELEGRAM_IDS; remove them there first.",
            )
        if old is Role.ADMIN and count_admins(session) <= 1:
            return RoleChange(old, None, "That is the last admin; promote someone else first.")
        new = _LADDER[old.rank - 1]
    set_role(session, person=person, role=new)
    return RoleChange(old, new)


def role_words(role: Role | str) -> str:
    return {"staff": "staff", "lead": "a security lead", "admin": "an admin"}[Role(role).value]
