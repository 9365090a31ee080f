"""Personal data: what is kept about a person, a copy of it, erasure, and retention.

Staff locations and statuses are sensitive, so:
- `export` gathers everything stored about one person (and nothing about anyone else)
  for `/export_me`;
- `forget` deletes a person's data at their request (`/forget_me`): their row, what
  they follow and lead, every check-in, answer, note and location, acknowledgements,
  the messages queued or sent to them and the reports about them sent to their leads.
  Organisational records they took part in (broadcasts they wrote, roll calls they
  started, curfews they set, invites) stay, without the link to them; a roll call they
  were asked in counts one more person who removed their data; audit entries stay
  without their identity, and one entry records that a deletion happened;
- `purge_expired_details` (the daily retention job) removes check-in notes and
  locations older than RETENTION_DAYS, keeping the fact of each answer (safe or help,
  and when), and redacts the copies of them kept in the outbox.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from db import audit, cards, incidents, staff
from db.checkins import CheckIn, CheckInKind, RollCall, RollCallAnswer, RollCallMember
from db.incidents import HelpCall, HelpMessage, HelpReplying
from db.leads import LeadCountry
from db.models import (
    Acknowledgement,
    Alert,
    AlertStatus,
    AuditEntry,
    CountryCard,
    CountryContacts,
    Curfew,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Invite,
    Role,
    Staff,
    Subscription,
    Trip,
    Whereabouts,
)
from db.refusal import Refusal
from db.whereabouts import forget_old_locations

# What an outbox row about someone's check-in reads once its details are gone.
REDACTED_TEXT = "[Removed: check-in details are kept for a limited time only.]"
# A deadline report's line about a person who asked to be forgotten.
FORGOTTEN_LINE = "• (removed at their request)"

# Outbox rows that carry check-in notes or locations: calls for help, "safe again",
# locations passed on, and the deadline report's lists of names.
_DETAIL_KINDS = (
    DeliveryKind.HELP_ALERT.value,
    DeliveryKind.SAFE_AGAIN.value,
    DeliveryKind.LOCATION.value,
    DeliveryKind.ROLLCALL_REPORT.value,
    DeliveryKind.HELP_MESSAGE.value,
    DeliveryKind.HELP_REPLY.value,
)
_DONE = (
    DeliveryStatus.SENT.value,
    DeliveryStatus.FAILED.value,
    DeliveryStatus.UNREACHABLE.value,
)


def iso(instant: datetime | None) -> str | None:
    """An instant as an ISO 8601 UTC string, as the export writes every time."""
    return instant.astimezone(UTC).isoformat(timespec="seconds") if instant else None


def _about_others(row: Delivery) -> bool:
    """A message to this row's reader that reports on other people: not the reader's data."""
    if row.kind == DeliveryKind.ROLLCALL_REPORT.value:
        return True
    return row.about_staff_id is not None and row.about_staff_id != row.staff_id


# -- what is kept ------------------------------------------------------------------------
@dataclass(frozen=True)
class Holdings:
    """How much is kept about a person: what `/forget_me` will delete."""

    subscriptions: int
    countries_led: int
    checkins: int
    answers: int
    notes: int
    locations: int
    acknowledgements: int
    messages_to_them: int
    messages_about_them: int
    audit_entries: int
    calls_for_help: int = 0  # the calls they made, with every message of their threads
    contact: bool = False  # a phone number or emergency contact recorded with /contact
    cards: int = 0  # pinned country cards: which message in their chat is which card
    trips: int = 0
    # The last place they were seen (a shared location read into a country and city)
    # and the city they chose with /where: 0, 1 or 2.
    places: int = 0


def _count(session: Session, query: Any) -> int:
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def _about_them(staff_id: int) -> ColumnElement[bool]:
    """Outbox rows that report on this person to others: their leads' copies."""
    return col(Delivery.about_staff_id) == staff_id


def _names(detail: dict[str, Any], staff_id: int) -> bool:
    return any(k.endswith("staff_id") and v == staff_id for k, v in detail.items())


def _audit_entries(session: Session, *, person: Staff) -> list[tuple[AuditEntry, bool]]:
    """Audit entries about a person: (entry, True when they acted, False when named)."""
    staff_id = person.id or 0
    rows = session.exec(
        select(AuditEntry)
        .where(
            or_(
                col(AuditEntry.actor_staff_id) == staff_id,
                col(AuditEntry.actor_telegram_id) == person.telegram_user_id,
                col(AuditEntry.detail).like('%staff_id": ' + str(staff_id) + "%"),
            )
        )
        .order_by(col(AuditEntry.id))
    ).all()
    found = []
    for entry in rows:
        acted = entry.actor_staff_id == staff_id or (
            entry.actor_telegram_id == person.telegram_user_id
        )
        if acted or _names(_detail(entry), staff_id):
            found.append((entry, acted))
    return found


def _detail(entry: AuditEntry) -> dict[str, Any]:
    try:
        loaded = json.loads(entry.detail or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def holdings(session: Session, *, person: Staff) -> Holdings:
    staff_id = person.id or 0
    checkins = select(CheckIn.id).where(CheckIn.staff_id == staff_id)
    answers = select(RollCallAnswer.id).where(RollCallAnswer.staff_id == staff_id)

    def with_detail(model: type[CheckIn] | type[RollCallAnswer], detail: Any) -> int:
        return _count(
            session,
            select(model.id).where(col(model.staff_id) == staff_id, detail),
        )

    return Holdings(
        subscriptions=_count(
            session, select(Subscription.id).where(Subscription.staff_id == staff_id)
        ),
        countries_led=_count(
            session, select(LeadCountry.id).where(LeadCountry.staff_id == staff_id)
        ),
        checkins=_count(session, checkins),
        answers=_count(session, answers),
        notes=with_detail(CheckIn, col(CheckIn.note).is_not(None))
        + with_detail(RollCallAnswer, col(RollCallAnswer.note).is_not(None)),
        locations=with_detail(CheckIn, col(CheckIn.latitude).is_not(None))
        + with_detail(RollCallAnswer, col(RollCallAnswer.latitude).is_not(None)),
        acknowledgements=_count(
            session, select(Acknowledgement.id).where(Acknowledgement.staff_id == staff_id)
        ),
        messages_to_them=_count(session, select(Delivery.id).where(Delivery.staff_id == staff_id)),
        messages_about_them=_count(
            session,
            select(Delivery.dedupe_key).where(_about_them(staff_id)).distinct(),
        ),
        audit_entries=len(_audit_entries(session, person=person)),
        calls_for_help=_count(session, select(HelpCall.id).where(HelpCall.staff_id == staff_id)),
        contact=bool(person.phone or person.emergency_contact),
        cards=_count(session, select(CountryCard.id).where(CountryCard.staff_id == staff_id)),
        trips=_count(session, select(Trip.id).where(Trip.staff_id == staff_id)),
        places=sum(
            (row.seen_at is not None) + (row.chosen_city is not None)
            for row in session.exec(select(Whereabouts).where(Whereabouts.staff_id == staff_id))
        ),
    )


# -- a copy for the person ---------------------------------------------------------------
def _cleaned_detail(detail: dict[str, Any], staff_id: int) -> dict[str, Any]:
    """Audit detail as the person may see it: their own id as "you", others' ids left out."""
    cleaned: dict[str, Any] = {}
    for key, value in detail.items():
        if key.endswith("staff_id"):
            if value == staff_id:
                cleaned[key.removesuffix("_staff_id") or key] = "you"
            continue
        cleaned[key] = value
    return cleaned


def _calls_for_help(session: Session, *, staff_id: int) -> list[dict[str, Any]]:
    """A person's calls for help with their threads; the security team's side without the
    names of the leads in it."""
    return [
        {
            "call_id": call.id,
            "opened_at": iso(call.opened_at),
            "handled_since": iso(call.owned_at),
            "closed_at": iso(call.closed_at),
            "close_reason": call.close_reason,
            "messages": [
                {
                    "from": "you" if message.from_person else "your security team",
                    "kind": message.kind,
                    "text": message.text,
                    "at": iso(message.at),
                }
                for message in incidents.thread(session, call_id=call.id or 0)
            ],
        }
        for call in incidents.calls_of(session, staff_id=staff_id)
    ]


def export(session: Session, *, person: Staff, now: datetime) -> dict[str, Any]:
    """Everything stored about a person, with UTC ISO 8601 times; nothing about others.

    Messages to leads that report on other people (their calls for help, roll-call
    deadline lists) are listed without their text; other people's answers to roll calls
    the person started are not included.
    """
    staff_id = person.id or 0
    answers: dict[int, list[dict[str, Any]]] = {}
    for given in session.exec(
        select(RollCallAnswer)
        .where(RollCallAnswer.staff_id == staff_id)
        .order_by(col(RollCallAnswer.id))
    ).all():
        answers.setdefault(given.member_id, []).append(
            {
                "answer": given.answer,
                "note": given.note,
                "latitude": given.latitude,
                "longitude": given.longitude,
                "late": given.late,
                "via": given.via,
                "at": iso(given.at),
            }
        )
    memberships = session.exec(
        select(RollCallMember, RollCall)
        .join(RollCall, col(RollCall.id) == RollCallMember.round_id)
        .where(RollCallMember.staff_id == staff_id)
        .order_by(col(RollCall.id))
    ).all()
    acknowledged = session.exec(
        select(Acknowledgement, Alert)
        .join(Alert, col(Alert.id) == Acknowledgement.alert_id)
        .where(Acknowledgement.staff_id == staff_id)
        .order_by(col(Acknowledgement.id))
    ).all()
    messages = []
    for row in session.exec(
        select(Delivery).where(Delivery.staff_id == staff_id).order_by(col(Delivery.id))
    ).all():
        about_others = _about_others(row)
        messages.append(
            {
                "kind": row.kind,
                "channel": row.channel,
                "alert_id": row.alert_id,
                "part": row.part,
                "status": row.status,
                "attempts": row.attempts,
                "queued_at": iso(row.created_at),
                "sent_at": iso(row.sent_at),
                "last_error": row.last_error,
                "text": None if about_others else row.text,
                **({"text_left_out": "it is about other people"} if about_others else {}),
            }
        )
    reports: dict[tuple[str, int], dict[str, Any]] = {}
    for row in session.exec(
        select(Delivery).where(_about_them(staff_id)).order_by(col(Delivery.id))
    ).all():
        report = reports.setdefault(
            (row.dedupe_key, row.part),
            {
                "kind": row.kind,
                "queued_at": iso(row.created_at),
                "recipients": 0,
                "delivered": 0,
                "text": row.text,
            },
        )
        report["recipients"] += 1
        report["delivered"] += row.status == DeliveryStatus.SENT.value
    created = session.exec(
        select(Invite).where(Invite.created_by_staff_id == staff_id).order_by(col(Invite.id))
    ).all()
    used = session.exec(
        select(Invite).where(Invite.used_by_staff_id == staff_id).order_by(col(Invite.id))
    ).all()
    written = session.exec(
        select(Alert).where(Alert.created_by_staff_id == staff_id).order_by(col(Alert.id))
    ).all()
    started = session.exec(
        select(RollCall)
        .where(
            or_(
                col(RollCall.started_by_staff_id) == staff_id,
                col(RollCall.closed_by_staff_id) == staff_id,
            )
        )
        .order_by(col(RollCall.id))
    ).all()
    curfews_set = session.exec(
        select(Curfew).where(Curfew.set_by_staff_id == staff_id).order_by(col(Curfew.id))
    ).all()
    return {
        "exported_at": iso(now),
        "about": (
            "Everything Dutybot stores about you. Times are UTC (ISO 8601). Messages to "
            "you that report on other people are listed without their text, and other "
            "people's answers to roll calls you ran are not included. Invite codes are left "
            "out: an unused one still works."
        ),
        "person": {
            "id": person.id,
            "telegram_user_id": person.telegram_user_id,
            "chat_id": person.chat_id,
            "display_name": person.display_name,
            "username": person.username,
            "role": person.role,
            "reachable": person.reachable,
            "curfew_reminder_minutes": person.curfew_reminder_minutes,
            "phone": person.phone,
            "emergency_contact": person.emergency_contact,
            "mobile_for_sms": person.mobile,
            "email": person.email,
            "enrolled_at": iso(person.created_at),
            "updated_at": iso(person.updated_at),
        },
        "subscriptions": [
            {"country": s.country, "since": iso(s.created_at)}
            for s in session.exec(
                select(Subscription)
                .where(Subscription.staff_id == staff_id)
                .order_by(col(Subscription.country))
            ).all()
        ],
        # The cards are messages in their own chat; what is kept is where each one is.
        "country_cards": [
            {
                "country": card.country,
                "chat_id": card.chat_id,
                "message_id": card.message_id,
                "pinned": card.pinned,
                "following": card.following,
                "text": card.text,
                "updated_at": iso(card.updated_at),
            }
            for card in cards.cards_of(session, staff_id=staff_id)
        ],
        "countries_led": [
            {"country": c.country, "since": iso(c.created_at)}
            for c in session.exec(
                select(LeadCountry)
                .where(LeadCountry.staff_id == staff_id)
                .order_by(col(LeadCountry.country))
            ).all()
        ],
        "trips": [
            {
                "id": t.id,
                "country": t.country,
                "city": t.city,
                "time_zone": t.zone,
                "first_day": t.first_day.isoformat(),
                "last_day": t.last_day.isoformat(),
                "ended_at": iso(t.ended_at),
                "recorded_from": t.source,
                "recorded_by_someone_else": t.created_by_staff_id is not None,
                "recorded_at": iso(t.created_at),
            }
            for t in session.exec(
                select(Trip).where(Trip.staff_id == staff_id).order_by(col(Trip.id))
            ).all()
        ],
        "whereabouts": [
            {
                "latitude": w.latitude,
                "longitude": w.longitude,
                "country": w.country,
                "city": w.city,
                "time_zone": w.zone,
                "seen_at": iso(w.seen_at),
                "live_until": iso(w.live_until),
                "chosen_city": w.chosen_city,
                "chosen_country": w.chosen_country,
                "chosen_time_zone": w.chosen_zone,
            }
            for w in session.exec(select(Whereabouts).where(Whereabouts.staff_id == staff_id))
        ],
        "checkins": [
            {
                "kind": c.kind,
                "note": c.note,
                "latitude": c.latitude,
                "longitude": c.longitude,
                "at": iso(c.at),
            }
            for c in session.exec(
                select(CheckIn).where(CheckIn.staff_id == staff_id).order_by(col(CheckIn.id))
            ).all()
        ],
        "calls_for_help": _calls_for_help(session, staff_id=staff_id),
        "roll_calls_asked": [
            {
                "round_id": rollcall.id,
                "country": rollcall.country,
                "question": rollcall.message,
                "started_at": iso(rollcall.started_at),
                "deadline_at": iso(rollcall.deadline_at),
                "status": rollcall.status,
                "answers": answers.get(member.id or 0, []),
            }
            for member, rollcall in memberships
        ],
        "acknowledgements": [
            {"alert_id": alert.id, "title": alert.title, "at": iso(ack.at)}
            for ack, alert in acknowledged
        ],
        "messages_to_you": messages,
        "reports_about_you": list(reports.values()),
        "invites_created": [
            {
                "id": invite.id,
                "role": invite.role,
                "created_at": iso(invite.created_at),
                "expires_at": iso(invite.expires_at),
                "used_at": iso(invite.used_at),
            }
            for invite in created
        ],
        "invite_used": [
            {"id": invite.id, "role": invite.role, "used_at": iso(invite.used_at)}
            for invite in used
        ],
        "broadcasts_written": [
            {
                "alert_id": alert.id,
                "country": alert.country,
                "status": alert.status,
                "text": alert.body,
                "written_at": iso(alert.created_at),
                "sent_at": iso(alert.sent_at),
            }
            for alert in written
        ],
        "roll_calls_run": [
            {
                "round_id": rollcall.id,
                "country": rollcall.country,
                "question": rollcall.message,
                "you": [
                    word
                    for word, by in (
                        ("started", rollcall.started_by_staff_id),
                        ("ended", rollcall.closed_by_staff_id),
                    )
                    if by == staff_id
                ],
                "started_at": iso(rollcall.started_at),
                "deadline_at": iso(rollcall.deadline_at),
                "closed_at": iso(rollcall.closed_at),
            }
            for rollcall in started
        ],
        "curfews_set": [
            {
                "curfew_id": curfew.id,
                "country": curfew.country,
                "area": curfew.area,
                "zone": curfew.zone,
                "start": curfew.start,
                "end": curfew.end,
                "first_day": curfew.first_day.isoformat(),
                "last_day": curfew.last_day.isoformat() if curfew.last_day else None,
                "continuous": curfew.continuous,
                "days": curfew.days,
                "status": curfew.status,
                "confirmed_at": iso(curfew.confirmed_at),
            }
            for curfew in curfews_set
        ],
        "audit_log": [
            {
                "at": iso(entry.at),
                "action": entry.action,
                "outcome": entry.outcome,
                "you": "acted" if acted else "were named",
                "detail": _cleaned_detail(_detail(entry), staff_id),
            }
            for entry, acted in _audit_entries(session, person=person)
        ],
    }


# -- erasure -----------------------------------------------------------------------------
def require_may_forget(
    session: Session, *, person: Staff, configured_admin_ids: Iterable[int]
) -> None:
    """Refuse a person who may not delete themselves (as /demote protects the same people),
    saying what to do first."""
    if person.telegram_user_id in set(configured_admin_ids):
        raise Refusal(
            "You are an admin through ADMIN_TELEGRAM_IDS, so your next message would enrol "
            "you again. Ask whoever runs the bot to remove your id there first."
        )
    if person.role == Role.ADMIN.value and staff.count_admins(session) <= 1:
        raise Refusal(
            "You are the last admin; promote someone else to admin first, then try again."
        )


@dataclass(frozen=True)
class Forgotten:
    held: Holdings
    round_ids: list[int]  # roll calls they were asked in: their rolls have changed


def _redact_deadline_reports(session: Session, *, person: Staff) -> int:
    """Replace the person's line in the deadline reports of rounds they were asked in.

    Lines read "• <a href="tg://user?id=…">Name</a> (@username), time: “note” [location]",
    as bot/rollcall/ writes them: the link to their profile says whose line it is, whatever
    their name is now.
    """
    start = f'• <a href="tg://user?id={person.telegram_user_id}">'
    # Reports sent before names linked to profiles name them as plain, escaped text.
    who = f"{person.display_name} (@{person.username})" if person.username else person.display_name
    plain = f"• {html.escape(who, quote=False)}"
    plain_starts = (f"{plain},", f"{plain}:", f"{plain} [")
    rounds = select(RollCallMember.round_id).where(RollCallMember.staff_id == (person.id or 0))
    reports = select(Delivery).where(
        col(Delivery.kind) == DeliveryKind.ROLLCALL_REPORT.value,
        col(Delivery.round_id).in_(rounds),
    )
    changed = 0
    for row in session.exec(reports).all():
        lines = row.text.split("\n")
        kept = [
            FORGOTTEN_LINE
            if line.startswith(start) or line == plain or line.startswith(plain_starts)
            else line
            for line in lines
        ]
        if kept != lines:
            row.text = "\n".join(kept)
            session.add(row)
            changed += 1
    return changed


def _unsign(session: Session, *, person: Staff) -> None:
    """Sign the broadcasts and roll-call questions a person sent as the security team's.

    Both open with "<i>From Name" (HTML-escaped), as bot/render.py and bot/rollcall/texts.py
    write them.
    """
    staff_id = person.id or 0
    signed = f"<i>From {html.escape(person.display_name, quote=False)}"
    alerts = select(Alert.id).where(Alert.created_by_staff_id == staff_id)
    rounds = select(RollCall.id).where(RollCall.started_by_staff_id == staff_id)
    session.execute(
        update(Delivery)
        .where(
            or_(
                col(Delivery.alert_id).in_(alerts),
                (col(Delivery.kind) == DeliveryKind.ROLLCALL_QUESTION.value)
                & col(Delivery.round_id).in_(rounds),
            ),
            col(Delivery.text).contains(signed, autoescape=True),
        )
        .values(text=func.replace(col(Delivery.text), signed, "<i>From your security team"))
    )


def forget(
    session: Session, *, staff_id: int, configured_admin_ids: Iterable[int], now: datetime
) -> Forgotten | None:
    """Delete a person and everything about them; None when they are already gone (a
    second tap). A `Refusal` when they may not be deleted, before anything is deleted.

    The first statement writes the person's row, so two confirmations at once are
    serialised and the second finds nobody.
    """
    claimed = session.execute(
        update(Staff).where(col(Staff.id) == staff_id).values(updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    person = session.get(Staff, staff_id) if claimed else None
    if person is None:
        return None
    session.refresh(person)
    require_may_forget(session, person=person, configured_admin_ids=configured_admin_ids)
    held = holdings(session, person=person)
    round_ids = sorted(
        set(
            session.exec(
                select(RollCallMember.round_id).where(RollCallMember.staff_id == staff_id)
            ).all()
        )
    )
    session.execute(
        update(RollCall)
        .where(col(RollCall.id).in_(round_ids))
        .values(forgotten=col(RollCall.forgotten) + 1)
    )
    # The leads' copies of reports about them, while their check-ins still say which.
    session.execute(delete(Delivery).where(_about_them(staff_id)))
    _redact_deadline_reports(session, person=person)
    for model in (RollCallAnswer, RollCallMember, CheckIn, Acknowledgement, Delivery):
        session.execute(delete(model).where(col(model.staff_id) == staff_id))
    # Their calls for help with every message in them, the leads' answers included.
    calls = [call.id for call in incidents.calls_of(session, staff_id=staff_id)]
    session.execute(delete(HelpMessage).where(col(HelpMessage.call_id).in_(calls)))
    session.execute(delete(HelpReplying).where(col(HelpReplying.call_id).in_(calls)))
    session.execute(delete(HelpReplying).where(col(HelpReplying.staff_id) == staff_id))
    session.execute(delete(HelpCall).where(col(HelpCall.staff_id) == staff_id))
    session.execute(delete(Subscription).where(col(Subscription.staff_id) == staff_id))
    cards.forget_cards(session, staff_id=staff_id)
    session.execute(delete(LeadCountry).where(col(LeadCountry.staff_id) == staff_id))
    session.execute(delete(Trip).where(col(Trip.staff_id) == staff_id))
    session.execute(delete(Whereabouts).where(col(Whereabouts.staff_id) == staff_id))
    # Records of the organisation stay, without the link to them, and the messages staff
    # got from them no longer carry their name.
    _unsign(session, person=person)
    session.execute(
        update(Alert)
        .where(
            col(Alert.created_by_staff_id) == staff_id,
            col(Alert.status) == AlertStatus.DRAFT.value,
        )
        .values(status=AlertStatus.CANCELLED.value)
    )
    links: tuple[tuple[Any, str], ...] = (
        (Invite, "created_by_staff_id"),
        (Invite, "used_by_staff_id"),
        (Alert, "created_by_staff_id"),
        (Curfew, "set_by_staff_id"),
        (CountryContacts, "set_by_staff_id"),
        (RollCall, "started_by_staff_id"),
        (RollCall, "closed_by_staff_id"),
        (HelpCall, "owner_staff_id"),
        (HelpCall, "closed_by_staff_id"),
        (HelpMessage, "sender_staff_id"),
        (Trip, "created_by_staff_id"),
    )
    for model, name in links:
        session.execute(update(model).where(getattr(model, name) == staff_id).values({name: None}))
    # Their live reports (a broadcast's, a roll call's) lived in their chat.
    session.execute(
        update(Alert)
        .where(col(Alert.report_chat_id) == person.chat_id)
        .values(report_chat_id=None, report_message_id=None, report_done=True)
    )
    session.execute(
        update(RollCall)
        .where(col(RollCall.report_chat_id) == person.chat_id)
        .values(report_chat_id=None, report_message_id=None)
    )
    for entry, acted in _audit_entries(session, person=person):
        detail = _detail(entry)
        entry.detail = json.dumps(
            {k: v for k, v in detail.items() if not (k.endswith("staff_id") and v == staff_id)},
            default=str,
            ensure_ascii=False,
            sort_keys=True,
        )
        if acted:
            entry.actor_staff_id = None
            entry.actor_telegram_id = None
        session.add(entry)
    session.flush()
    session.execute(delete(Staff).where(col(Staff.id) == staff_id))
    session.expunge(person)
    audit.record(session, action="forget_me", actor_telegram_id=None)
    return Forgotten(held=held, round_ids=round_ids)


# -- retention ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Purged:
    notes: int
    locations: int
    messages: int  # outbox copies redacted
    thread_messages: int = 0  # words and places cleared from closed calls for help

    @property
    def total(self) -> int:
        return self.notes + self.locations + self.messages + self.thread_messages


def purge_expired_details(session: Session, *, now: datetime, keep: timedelta) -> Purged:
    """Remove check-in notes and locations older than `keep`, and redact the outbox
    copies that carried them. The fact of each answer (safe or help, and when) stays.

    The threads of calls for help closed before then lose their words and places too
    (and the outbox copies theirs, closed or not); who wrote, what kind and when stay.
    """
    cutoff = now - keep
    # A location shared on its own is nothing but the location.
    locations = int(
        session.execute(
            delete(CheckIn).where(
                col(CheckIn.kind) == CheckInKind.LOCATION.value, col(CheckIn.at) < cutoff
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    # The last place each person was seen, read from a location, goes with it.
    locations += forget_old_locations(session, before=cutoff)
    notes = 0
    for model in (CheckIn, RollCallAnswer):
        notes += int(
            session.execute(
                update(model)
                .where(col(model.at) < cutoff, col(model.note).is_not(None))
                .values(note=None)
            ).rowcount  # type: ignore[attr-defined]
        )
        locations += int(
            session.execute(
                update(model)
                .where(
                    col(model.at) < cutoff,
                    or_(col(model.latitude).is_not(None), col(model.longitude).is_not(None)),
                )
                .values(latitude=None, longitude=None)
            ).rowcount  # type: ignore[attr-defined]
        )
    messages = int(
        session.execute(
            update(Delivery)
            .where(
                col(Delivery.created_at) < cutoff,
                col(Delivery.status).in_(_DONE),
                col(Delivery.kind).in_(_DETAIL_KINDS),
                col(Delivery.text) != REDACTED_TEXT,
            )
            .values(
                text=REDACTED_TEXT,
                reply_markup=None,
                copy_from_chat_id=None,
                copy_message_id=None,
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    closed_long_ago = select(HelpCall.id).where(col(HelpCall.closed_at) < cutoff)
    thread_messages = int(
        session.execute(
            update(HelpMessage)
            .where(
                col(HelpMessage.call_id).in_(closed_long_ago),
                col(HelpMessage.at) < cutoff,
                col(HelpMessage.text).is_not(None),
            )
            .values(text=None)
        ).rowcount  # type: ignore[attr-defined]
    )
    return Purged(
        notes=notes, locations=locations, messages=messages, thread_messages=thread_messages
    )
