"""The rules of a call for help as a conversation: what a person sends while their call
is open reaches the leads who answer for them; the first lead to claim it owns it (a
second asks before taking over); a lead's reply reaches the person and the other leads;
a lead resolves it, or the person says they are safe (bot.rollcall.rules closes it then).

Who answers for a call is the one rule `db.leads.leads_for_countries` of the countries
the person follows (the admins alone for none). Nothing here knows about Telegram;
a request turned down raises a `Refusal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot import render
from bot.incidents import texts
from bot.incidents.parsing import reads_as_call_for_help, reads_as_safe
from bot.rollcall import notices
from bot.rollcall.texts import location_passed_on_text
from bot.whereabouts import rules as whereabouts
from db import audit, checkins, deliveries, incidents, leads, subscriptions
from db.checkins import CheckInKind
from db.incidents import HelpCall, HelpMessage, Part
from db.models import DeliveryKind, Priority, Role, Staff
from db.refusal import Refusal

# A "Reply" pressed this long ago no longer catches the lead's next message.
REPLY_WINDOW = timedelta(minutes=30)
RESOLVE_USAGE = "Usage: /resolve <call id>; /incidents lists the open calls."
# Calls listed by /incidents, oldest first: a message's worth.
INCIDENTS_LIMIT = 15


@dataclass(frozen=True)
class Incoming:
    """One message a person or a lead sent, as the rules need it."""

    kind: Part
    text: str | None
    chat_id: int
    message_id: int
    location: tuple[float, float] | None = None
    live_minutes: int | None = None

    @property
    def media(self) -> bool:
        """Passed on as a copy of the original (photos, voice notes, files)."""
        return self.kind not in (Part.TEXT, Part.LOCATION, Part.LIVE_LOCATION)


@dataclass(frozen=True)
class Route:
    """Where a message goes: a call the sender answers for, their own call, or neither."""

    lead_call: int | None = None
    own_call: int | None = None


def route(
    session: Session, *, person: Staff, chat_id: int, replied_to: int | None, now: datetime
) -> Route:
    """A lead's Telegram reply to a call's message, or their next message after "Reply",
    answers that call; anything else a person sends while their own call is open is
    part of it."""
    if Role(person.role) is not Role.STAFF:
        call_id = None
        if replied_to is not None:
            call_id = incidents.call_of_copy(session, chat_id=chat_id, message_id=replied_to)
        if call_id is None:
            call_id = incidents.take_reply(
                session, staff_id=person.id or 0, since=now - REPLY_WINDOW
            )
        if call_id is not None:
            return Route(lead_call=call_id)
    own = incidents.open_call_of(session, staff_id=person.id or 0)
    return Route(own_call=own.id if own is not None else None)


def offer_for(text: str, *, role: Role) -> tuple[str, dict[str, Any]] | None:
    """What typed words outside a call get: the alert button for a call for help, the
    "I'm safe" button for "safe", Send and Cancel for anything else from staff; None
    leaves a lead's text to the curfew reader."""
    if reads_as_call_for_help(text):
        return texts.HELP_QUESTION, texts.offer_keyboard(
            help_button=True, safe_button=True, send=False
        )
    if reads_as_safe(text):
        return texts.SAFE_QUESTION, texts.offer_keyboard(
            help_button=False, safe_button=True, send=False
        )
    if role is Role.STAFF:
        return texts.SEND_QUESTION, texts.offer_keyboard(
            help_button=False, safe_button=False, send=True
        )
    return None


def _answering(session: Session, person: Staff, now: datetime) -> list[Staff]:
    """Who answers for `person` and can be reached: their calls' leads."""
    countries = subscriptions.countries_concerning(session, staff_id=person.id or 0, now=now)
    return notices.leads_to_tell(session, countries=countries, exclude=person.id)


def _keep(
    session: Session,
    *,
    call_id: int,
    sender: Staff,
    from_person: bool,
    incoming: Incoming,
    now: datetime,
) -> HelpMessage:
    """One message of a call's thread, kept in order: the person's, or a lead's."""
    return incidents.add_message(
        session,
        call_id=call_id,
        sender_staff_id=sender.id or 0,
        from_person=from_person,
        kind=incoming.kind,
        text=incoming.text if incoming.location is None else _place(incoming),
        chat_id=incoming.chat_id,
        message_id=incoming.message_id,
        now=now,
    )


def relay_from_person(session: Session, *, person: Staff, incoming: Incoming, now: datetime) -> int:
    """Keep a message in the person's call (opened if none is) and pass it to every lead
    who answers for them, at the top priority; how many leads."""
    call, _ = incidents.open_call(session, staff_id=person.id or 0, now=now)
    call_id = call.id or 0
    row = _keep(
        session, call_id=call_id, sender=person, from_person=True, incoming=incoming, now=now
    )
    kind = DeliveryKind.HELP_MESSAGE
    if incoming.location is not None:
        # Kept as any shared location is (the last one goes in roll calls and alerts, and
        # old ones are deleted), and passed on as one.
        checkins.record_checkin(
            session,
            staff_id=person.id or 0,
            kind=CheckInKind.LOCATION,
            note=None,
            location=incoming.location,
            now=now,
        )
        # The person's last known place too; a live location is followed from here on.
        whereabouts.record_location(
            session,
            person=person,
            latitude=incoming.location[0],
            longitude=incoming.location[1],
            now=now,
            live_seconds=incoming.live_minutes * 60 if incoming.live_minutes else None,
            message_id=incoming.message_id,
        )
        kind = DeliveryKind.LOCATION
        text = location_passed_on_text(
            person=person,
            location=incoming.location,
            countries=subscriptions.countries_of(session, staff_id=person.id or 0),
            at=now,
        )
        if incoming.live_minutes:
            text += f" Live for {incoming.live_minutes} min."
    else:
        text = texts.from_person_text(
            person=person,
            call_id=call_id,
            kind=incoming.kind.value,
            text=incoming.text,
            media=incoming.media,
        )
    people = _answering(session, person, now)
    deliveries.enqueue(
        session,
        kind=kind,
        dedupe_key=f"call:{call_id}:message:{row.id}",
        recipients=deliveries.recipients(people),
        parts=[text],
        priority=Priority.CRITICAL,
        now=now,
        about_staff_id=person.id,
        call_id=call_id,
        copy_from=(incoming.chat_id, incoming.message_id) if incoming.media else None,
        reply_markup=texts.reply_keyboard(call_id),
    )
    return len(people)


def _place(incoming: Incoming) -> str:
    assert incoming.location is not None
    return f"{incoming.location[0]:.5f}, {incoming.location[1]:.5f}"


def call_for_lead(
    session: Session, *, lead: Staff, call_id: int, now: datetime
) -> tuple[HelpCall, Staff]:
    """The call and its person, for a lead who answers for them; a `Refusal` otherwise."""
    call = incidents.by_id(session, call_id=call_id)
    person = session.get(Staff, call.staff_id) if call is not None else None
    if call is None or person is None:
        raise Refusal(f"There is no call #{call_id}. /incidents lists the open ones.")
    # Where they were when they called counts as much as where they are now.
    countries = sorted(
        set(subscriptions.countries_concerning(session, staff_id=person.id or 0, now=now))
        | set(
            subscriptions.countries_concerning(session, staff_id=person.id or 0, now=call.opened_at)
        )
    )
    answering = leads.leads_for_countries(session, countries=countries, exclude=person.id)
    if all(other.id != lead.id for other in answering):
        raise Refusal(f"You don't answer for the person in call #{call_id}.")
    return call, person


def _open(call: HelpCall) -> None:
    if call.closed_at is not None:
        raise Refusal(f"Call #{call.id} is closed; nothing was sent.")


def relay_from_lead(
    session: Session, *, lead: Staff, call_id: int, incoming: Incoming, now: datetime
) -> Staff:
    """A lead's answer: to the person at the top priority, shown to the other leads of the
    call; the person."""
    call, person = call_for_lead(session, lead=lead, call_id=call_id, now=now)
    _open(call)
    row = _keep(
        session, call_id=call_id, sender=lead, from_person=False, incoming=incoming, now=now
    )
    words = incoming.text if incoming.location is None else f"📍 {_place(incoming)}"
    copy_from = (incoming.chat_id, incoming.message_id) if incoming.media else None
    key = f"call:{call_id}:reply:{row.id}"
    deliveries.enqueue(
        session,
        kind=DeliveryKind.HELP_REPLY,
        dedupe_key=key,
        recipients=deliveries.recipients([person]),
        parts=[texts.to_person_text(lead=lead, text=words, media=incoming.media)],
        priority=Priority.CRITICAL,
        now=now,
        about_staff_id=person.id,
        call_id=call_id,
        copy_from=copy_from,
    )
    others = [p for p in _answering(session, person, now) if p.id != lead.id]
    deliveries.enqueue(
        session,
        kind=DeliveryKind.HELP_REPLY,
        dedupe_key=key,
        recipients=deliveries.recipients(others),
        parts=[
            texts.to_other_leads_text(
                lead=lead, person=person, call_id=call_id, text=words, media=incoming.media
            )
        ],
        priority=Priority.CRITICAL,
        now=now,
        about_staff_id=person.id,
        call_id=call_id,
        copy_from=copy_from,
        reply_markup=texts.reply_keyboard(call_id),
    )
    return person


@dataclass(frozen=True)
class Edit:
    chat_id: int
    message_id: int
    text: str
    keyboard: dict[str, Any]


@dataclass(frozen=True)
class ClaimOutcome:
    """What a press on "I'm handling it" did: a pop-up, a question to confirm a take-over,
    and the leads' copies of the alert to edit."""

    toast: str
    question: str | None = None
    keyboard: dict[str, Any] | None = None
    edits: list[Edit] = field(default_factory=list)
    # The person whose call changed hands: their roll-call rolls show its owner.
    person_id: int | None = None


def claim(
    session: Session, *, lead: Staff, call_id: int, take_from: int | None, now: datetime
) -> ClaimOutcome:
    """The first lead to press owns the call; another asks first (`take_from` is the owner
    they were shown, so a confirmation never overrides a third lead who came between)."""
    call, person = call_for_lead(session, lead=lead, call_id=call_id, now=now)
    if call.closed_at is not None:
        raise Refusal(f"Call #{call_id} is closed.")
    countries = subscriptions.countries_of(session, staff_id=person.id or 0)
    owner = session.get(Staff, call.owner_staff_id) if call.owner_staff_id else None
    if owner is not None and owner.id == lead.id:
        return ClaimOutcome(toast="You are handling this call.")
    if owner is not None and take_from != owner.id:
        since = texts.time_there(countries, call.owned_at or now)
        return ClaimOutcome(
            toast=f"{owner.display_name} is handling this.",
            question=texts.take_over_question(owner=owner, since=since),
            keyboard=texts.take_over_keyboard(call_id, owner.id or 0),
        )
    expected = owner.id if owner is not None else None
    claimed = incidents.claim(
        session, call_id=call_id, owner_id=lead.id or 0, expected=expected, now=now
    )
    if not claimed:
        raise Refusal("Another lead took this call a moment ago; press again to see who.")
    since = texts.time_there(countries, now)
    edits = [
        Edit(
            chat_id=copy.chat_id,
            message_id=copy.telegram_message_id or 0,
            text=copy.text
            + "\n\n"
            + texts.handling_line(owner=lead, viewer_id=copy.staff_id, since=since),
            keyboard=texts.alert_keyboard(call_id),
        )
        for copy in incidents.alert_copies(session, call_id=call_id)
    ]
    deliveries.enqueue(
        session,
        kind=DeliveryKind.HELP_REPLY,
        dedupe_key=f"call:{call_id}:owner:{lead.id}:{now.timestamp():.3f}",
        recipients=deliveries.recipients([person] if person.reachable else []),
        parts=[texts.on_it_text(lead)],
        priority=Priority.CRITICAL,
        now=now,
        about_staff_id=person.id,
        call_id=call_id,
    )
    audit.by(session, lead, action="help_claim", call_id=call_id, taken_from=expected)
    return ClaimOutcome(toast="You are handling this call.", edits=edits, person_id=person.id)


def start_reply(session: Session, *, lead: Staff, call_id: int, now: datetime) -> Staff:
    """ "Reply" pressed: the lead's next message goes to the call's person; the person."""
    call, person = call_for_lead(session, lead=lead, call_id=call_id, now=now)
    _open(call)
    incidents.start_reply(session, staff_id=lead.id or 0, call_id=call_id, now=now)
    return person


def resolve(session: Session, *, lead: Staff, call_id: int | None, now: datetime) -> HelpCall:
    """`/resolve <id>`: close the call; the person and the other leads are told."""
    if call_id is None:
        raise Refusal(RESOLVE_USAGE)
    call, person = call_for_lead(session, lead=lead, call_id=call_id, now=now)
    resolved = incidents.CloseReason.RESOLVED
    if not incidents.close(session, call_id=call_id, by_staff_id=lead.id, reason=resolved, now=now):
        raise Refusal(f"Call #{call_id} is closed already.")
    key = f"call:{call_id}:resolved"
    for people, text in (
        ([person] if person.reachable else [], texts.resolved_to_person(call_id)),
        (
            [p for p in _answering(session, person, now) if p.id != lead.id],
            texts.resolved_to_leads(lead=lead, person=person, call_id=call_id),
        ),
    ):
        deliveries.enqueue(
            session,
            kind=DeliveryKind.HELP_REPLY,
            dedupe_key=key,
            recipients=deliveries.recipients(people),
            parts=[text],
            priority=Priority.CRITICAL,
            now=now,
            about_staff_id=person.id,
            call_id=call_id,
        )
    audit.by(session, lead, action="resolve", call_id=call_id)
    return call


def open_calls_text(session: Session, *, lead: Staff, now: datetime) -> str:
    """`/incidents`: the open calls of the people a lead answers for, oldest first: their
    age, owner and last message."""
    lines = []
    for call in incidents.open_calls(session, staff_ids=None):
        try:
            _, person = call_for_lead(session, lead=lead, call_id=call.id or 0, now=now)
        except Refusal:
            continue
        countries = subscriptions.countries_concerning(session, staff_id=person.id or 0, now=now)
        owner = session.get(Staff, call.owner_staff_id) if call.owner_staff_id else None
        handled = (
            f"handled by {render.esc(owner.display_name)}"
            if owner is not None
            else "nobody is handling it yet"
        )
        line = (
            f"🆘 <b>#{call.id}</b> {texts.profile_link(person)}, open "
            f"{texts.age(call.opened_at, now)}, {handled}"
        )
        thread = incidents.thread(session, call_id=call.id or 0)
        if thread:
            last = thread[-1]
            sender = session.get(Staff, last.sender_staff_id) if last.sender_staff_id else None
            who = render.esc(sender.display_name) if sender is not None else "someone"
            words = render.esc((last.text or last.kind)[:200])
            line += f"\nLast: {who}, {texts.time_there(countries, last.at)}: “{words}”"
        lines.append(line)
    if not lines:
        return "No open calls for help."
    more = len(lines) - INCIDENTS_LIMIT
    shown = lines[:INCIDENTS_LIMIT] + ([f"… and {more} more."] if more > 0 else [])
    return "\n\n".join([*shown, "/resolve &lt;id&gt; closes one."])
