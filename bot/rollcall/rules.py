"""The roll-call rules: who is asked, which presses count, what a check-in answers, when
reminders and the deadline report go out.

Nothing here knows about Telegram: the rules take a database session, the Services, or
plain values, and say what happened (a request turned down raises a `Refusal`);
bot.rollcall.handlers shows it, and bot.rollcall.views finds the round a lead names.
Answers after the deadline are recorded as late (whether or not the deadline job has
run); a round closed by `/checkin_end` or replaced by a newer round for the country
refuses presses, pointing to /help_me. Every refused press is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot import render
from bot.access import require_answers_for
from bot.context import Services
from bot.messages import shown_as
from bot.rollcall import notices
from bot.rollcall.parsing import CALLBACK, parse_checkin
from bot.rollcall.texts import (
    DEFAULT_QUESTION,
    answer_keyboard,
    answered_footer,
    answered_text,
    deadline_report,
    live_roll_text,
    location_passed_on_text,
    question_text,
    reminder_text,
)
from bot.settings import Settings
from bot.whereabouts.rules import own_zones
from db import audit, deliveries, incidents, subscriptions
from db import checkins as db
from db.broadcasts import FAN_OUT_CHUNK, FIRST_CHUNK
from db.checkins import Answer, CheckInKind, RollCall, RoundStatus
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Alert, DeliveryKind, DeliveryStatus, Priority, Role, Staff
from db.refusal import Refusal
from schedules import rollcall as plan
from schedules.countries import country_name

log = logging.getLogger(__name__)

# How long after asking for help a shared location is passed on to the leads.
HELP_FOLLOW_UP = timedelta(hours=1)
# A /safe this long after /help_me still tells the leads the person is safe again.
HELP_MEMORY = timedelta(hours=24)


# -- starting rounds -----------------------------------------------------------------------
def _question_for(session: Session, rollcall: RollCall, zone: str | None = None) -> str:
    starter = (
        session.get(Staff, rollcall.started_by_staff_id) if rollcall.started_by_staff_id else None
    )
    alert = session.get(Alert, rollcall.alert_id) if rollcall.alert_id else None
    return question_text(
        rollcall,
        asked_by=starter.display_name if starter else None,
        advisory=(alert.title or "official advisory") if alert else None,
        zone=zone,
    )


def _own_question(session: Session, rollcall: RollCall, *, staff_id: int, now: datetime) -> str:
    """A round's question as one person reads it: its times on their own clock."""
    own = own_zones(session, staff_ids=[staff_id], now=now).get(staff_id)
    return _question_for(session, rollcall, own.zone if own else None)


def start_round(
    session: Session,
    *,
    country: str,
    message: str,
    deadline: timedelta,
    now: datetime,
    started_by: Staff | None,
    alert_id: int | None,
    remind_every_minutes: int,
    chunk: int = FAN_OUT_CHUNK,
) -> RollCall:
    """Ask every subscriber of `country`, through the outbox; the round. A `Refusal` says
    why not (a round still open, nobody to ask), before anything is written.

    Everyone is a member of the round at once, but the question is queued here only for
    the first `chunk` of them (at most FIRST_CHUNK), so that it goes out while the rest of
    a large country is queued (`continue_round`, from bot.fanout; the round keeps its
    place across restarts).
    """
    label = f"{country_name(country)} ({country})"
    existing = db.open_round_for_country(session, country=country)
    if existing is not None:
        raise Refusal(
            f"Roll call #{existing.id} for {label} is still open: /roll {existing.id} shows "
            f"it, /checkin_end {existing.id} closes it."
        )
    people = subscriptions.audience_ids(session, country=country, now=now)
    if not people:
        raise Refusal(f"Nobody follows {label}, so there is nobody to ask.")
    db.supersede_rounds(session, country=country, now=now)
    rollcall = db.create_round(
        session,
        country=country,
        message=message,
        started_by_staff_id=started_by.id if started_by else None,
        alert_id=alert_id,
        now=now,
        deadline_at=now + deadline,
        remind_every_minutes=remind_every_minutes,
    )
    db.add_members(session, round_id=rollcall.id or 0, staff_ids=people)
    rollcall.queue_after = 0
    _ask_next(session, rollcall, chunk=min(chunk, FIRST_CHUNK), now=now)
    log.info(
        "roll call %d: started for %s, %d people to ask",
        rollcall.id,
        country,
        len(people),
        extra={"round_id": rollcall.id, "alert_id": alert_id},
    )
    return rollcall


def continue_round(session: Session, *, round_id: int, now: datetime, chunk: int) -> bool:
    """Queue a round's question for its next `chunk` people; True once everyone has it
    (or the round is closed, when the rest are not asked any more)."""
    rollcall = session.get(RollCall, round_id, with_for_update=True)
    if rollcall is None or rollcall.queue_after is None:
        return True
    if rollcall.status == RoundStatus.CLOSED.value:
        rollcall.queue_after = None
        return True
    return _ask_next(session, rollcall, chunk=chunk, now=now)


def _ask_next(session: Session, rollcall: RollCall, *, chunk: int, now: datetime) -> bool:
    """Queue the question for the next `chunk` members after the round's place; move the
    place on in the same transaction. When everyone has it, the country's other leads get
    a live roll of their own (kept current too). True when everyone has it."""
    round_id = rollcall.id or 0
    batch = db.to_ask(session, round_id=round_id, after=rollcall.queue_after or 0, limit=chunk)
    staff_ids = [person.id or 0 for _, person in batch]
    # The deadline in each person's own zone when its clock differs from the country's,
    # as of the round's start.
    zones = own_zones(session, staff_ids=staff_ids, now=rollcall.started_at)
    by_zone: dict[tuple[str | None, bool], list[tuple[int, Staff]]] = {}
    for member_id, person in batch:
        zone = zones[person.id].zone if person.id in zones else None
        by_zone.setdefault((zone, person.reachable), []).append((member_id, person))
    questions: dict[str | None, str] = {}
    for (zone, reachable), group in by_zone.items():
        if zone not in questions:
            questions[zone] = _question_for(session, rollcall, zone)
        deliveries.enqueue(
            session,
            kind=DeliveryKind.ROLLCALL_QUESTION,
            dedupe_key=db.question_key(round_id),
            round_id=round_id,
            recipients=[Recipient(person.id or 0, person.chat_id) for _, person in group],
            parts=[questions[zone]],
            priority=Priority.CRITICAL,
            now=now,
            # Each person's buttons name their own member row.
            markups={person.id or 0: answer_keyboard(round_id, m) for m, person in group},
            status=DeliveryStatus.PENDING if reachable else DeliveryStatus.UNREACHABLE,
        )
    db.link_deliveries(session, round_id=round_id, staff_ids=staff_ids)
    done = len(batch) < chunk
    rollcall.queue_after = None if done else staff_ids[-1]
    if not done:
        return False
    others = notices.leads_to_tell(
        session, countries=[rollcall.country], exclude=rollcall.started_by_staff_id
    )
    notices.tell(
        session,
        people=others,
        parts=[live_roll_text(rollcall, db.roll_entries(session, rollcall=rollcall))],
        kind=DeliveryKind.LIVE_ROLL,
        key=db.live_roll_key(round_id),
        now=now,
        round_id=round_id,
    )
    return True


def start_checkin(
    session: Session, *, raw: str, person: Staff, now: datetime, settings: Settings
) -> RollCall:
    """`/checkin`: parse, check the lead answers for the country, start, audit."""
    request = parse_checkin(
        raw, default_deadline=timedelta(minutes=settings.checkin_default_deadline_minutes)
    )
    require_answers_for(session, person=person, country=request.country)
    started = start_round(
        session,
        country=request.country,
        message=request.message,
        deadline=request.deadline,
        now=now,
        started_by=person,
        alert_id=None,
        remind_every_minutes=settings.checkin_reminder_minutes,
        chunk=settings.fan_out_chunk,
    )
    audit.by(
        session,
        person,
        action="checkin_start",
        country=request.country,
        round_id=started.id,
        deadline_minutes=int(request.deadline.total_seconds() // 60),
    )
    return started


def start_automatic_round(
    session: Session, *, alert_id: int, country: str, now: datetime, settings: Settings
) -> int | None:
    """A departure advisory for `country`: start a round, inside the caller's transaction.

    Only writes rows and queues messages; the caller wakes the dispatcher and calls
    `plan_round_jobs`. None when the setting is off, nobody follows the country, or a
    round for it is already open.
    """
    if not settings.auto_checkin_on_departure:
        return None
    if session.get(Alert, alert_id) is None:
        return None
    try:
        started = start_round(
            session,
            country=country,
            message=DEFAULT_QUESTION,  # the advisory's title is in the message's header
            deadline=timedelta(minutes=settings.checkin_default_deadline_minutes),
            now=now,
            started_by=None,
            alert_id=alert_id,
            remind_every_minutes=settings.checkin_reminder_minutes,
            chunk=settings.fan_out_chunk,
        )
    except Refusal as refusal:  # refused before writing: the feed's transaction goes on
        log.info(
            "alert %d: no automatic roll call for %s: %s",
            alert_id,
            country,
            refusal.text,
            extra={"alert_id": alert_id},
        )
        return None
    audit.record(
        session,
        action="checkin_start",
        actor_telegram_id=None,
        country=country,
        round_id=started.id,
        alert_id=alert_id,
        via="departure advisory",
    )
    return started.id


# -- answers -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PressOutcome:
    """What a press did: a refusal to show, or what was recorded and the redrawn message."""

    refusal: str | None = None
    round_id: int = 0
    toast: str = ""
    text: str | None = None
    keyboard: dict[str, Any] | None = None  # the answer buttons, as the Bot API's JSON
    queued: bool = False
    asked_help: bool = False  # a new call for help: the person is told how to go on
    recorded: bool = True  # False for a second tap: the roll is as it was


def _refuse(session: Session, *, presser: Staff, data: str, reason: str, say: str) -> PressOutcome:
    audit.by(
        session,
        presser,
        action="rollcall_answer",
        outcome="refused",
        reason=reason,
        data=data[:64],
    )
    return PressOutcome(refusal=say)


def answer_press(
    session: Session, *, data: str, presser: Staff, now: datetime, showing: str | None = None
) -> PressOutcome:
    """A press on "I'm safe" / "I need help": check it, record it, alert on a call for help.

    `showing`: the text the pressed message shows (as Telegram shows it). A second tap on
    a question that already shows its answer needs no new text: people in a crisis press
    again and again, and working out the question's text again costs the bot's time.
    """
    match = CALLBACK.match(data)
    if match is None:
        return _refuse(
            session, presser=presser, data=data, reason="malformed", say="That button is not valid."
        )
    round_id, member_id, code = int(match[1]), int(match[2]), match[3]
    found = db.member_with_round(session, member_id=member_id)
    if found is None or found[1].id != round_id:
        return _refuse(
            session,
            presser=presser,
            data=data,
            reason="no such member in that round",
            say="That button is not valid.",
        )
    member, rollcall = found
    if member.staff_id != presser.id:
        return _refuse(
            session,
            presser=presser,
            data=data,
            reason=f"member {member_id} is staff {member.staff_id}",
            say="This button is not for you.",
        )
    if rollcall.status == RoundStatus.CLOSED.value:
        return _refuse(
            session,
            presser=presser,
            data=data,
            reason=f"round {round_id} is closed",
            say="This roll call is closed. If you need help, send /help_me.",
        )
    answer = Answer.SAFE if code == "s" else Answer.HELP
    late = now > rollcall.deadline_at
    previous = db.latest_answer(session, member_id=member_id)
    keyboard = answer_keyboard(round_id, member_id)
    if previous is not None and previous.answer == answer.value:
        # A second tap (or a replayed update) changes nothing; the question is drawn
        # again only when it does not show the answer yet (its first edit failed).
        footer = answered_footer(
            country=rollcall.country, answer=answer, at=previous.at, late=previous.late
        )
        if showing is not None and showing.strip().endswith(shown_as(footer)):
            return PressOutcome(round_id=round_id, toast="Already recorded.", recorded=False)
        return PressOutcome(
            round_id=round_id,
            toast="Already recorded.",
            text=answered_text(
                _own_question(session, rollcall, staff_id=member.staff_id, now=now),
                country=rollcall.country,
                answer=answer,
                at=previous.at,
                late=previous.late,
            ),
            keyboard=keyboard,
            recorded=False,
        )
    question = _own_question(session, rollcall, staff_id=member.staff_id, now=now)
    row = db.record_answer(
        session,
        member=member,
        answer=answer,
        note=None,
        location=None,
        late=late,
        via="button",
        now=now,
    )
    queued = False
    if answer is Answer.SAFE:
        incidents.close_when_safe(session, staff_id=presser.id or 0, now=now)
    if answer is Answer.HELP:
        source = f"Roll call #{round_id}: {country_name(rollcall.country)}" + (
            " (after the deadline)" if late else ""
        )
        queued = bool(
            notices.alert_help(
                session,
                person=presser,
                note=None,
                extra_countries=[rollcall.country],
                source=source,
                key=f"rollcall:{round_id}:help:{row.id}",
                now=now,
                round_id=round_id,
            )
        )
    elif previous is not None and previous.answer == Answer.HELP.value:
        notices.tell_safe_again(
            session,
            person=presser,
            note=None,
            key=f"rollcall:{round_id}:safe:{row.id}",
            now=now,
            round_id=round_id,
        )
        queued = True
    if answer is Answer.SAFE:
        toast = "Recorded: you are safe."
    elif queued:
        toast = "Recorded. Your leads are being alerted."
    else:
        toast = "Recorded, but no lead could be alerted: call your emergency line."
    return PressOutcome(
        round_id=round_id,
        toast=toast + (" (late)" if late else ""),
        text=answered_text(question, country=rollcall.country, answer=answer, at=now, late=late),
        keyboard=keyboard,
        queued=queued,
        asked_help=answer is Answer.HELP,
    )


@dataclass(frozen=True)
class CheckInOutcome:
    at: datetime
    rounds: list[tuple[int, str]] = field(default_factory=list)  # (round id, country) answered
    # Where the person is: the countries of the rounds answered, then those they follow.
    countries: list[str] = field(default_factory=list)
    leads_told: int = 0
    location: bool = False
    # What a call for help passed on besides the name: the note, a location shared (now
    # or earlier), so the person is told only of what was sent.
    note: bool = False
    located: bool = False

    @property
    def when(self) -> str:
        """When it was recorded, where the person is and in UTC."""
        return render.time_in(self.countries, self.at)


def check_in(
    session: Session,
    *,
    person: Staff,
    answer: Answer,
    note: str | None,
    location: tuple[float, float] | None,
    now: datetime,
    by_sms: bool = False,
) -> CheckInOutcome:
    """`/safe` or `/help_me` (or SAFE and HELP by SMS): record it, answer the person's
    running roll calls with it, and on a call for help alert their leads at once."""
    staff_id = person.id or 0
    was_help = answer is Answer.SAFE and db.help_since(
        session, staff_id=staff_id, since=now - HELP_MEMORY
    )
    kind = CheckInKind.SAFE if answer is Answer.SAFE else CheckInKind.HELP
    row = db.record_checkin(
        session, staff_id=staff_id, kind=kind, note=note, location=location, now=now
    )
    answered = []
    for member, rollcall in db.answerable_memberships(session, staff_id=staff_id):
        db.record_answer(
            session,
            member=member,
            answer=answer,
            note=note,
            location=location,
            late=now > rollcall.deadline_at,
            via="sms" if by_sms else f"/{'safe' if answer is Answer.SAFE else 'help_me'}",
            now=now,
        )
        answered.append((rollcall.id or 0, rollcall.country))
    told = 0
    if answer is Answer.HELP:
        told = notices.alert_help(
            session,
            person=person,
            note=note,
            extra_countries=[country for _, country in answered],
            source="Sent by SMS" if by_sms else "Sent with /help_me",
            key=f"help:{row.id}",
            now=now,
        )
    else:
        incidents.close_when_safe(session, staff_id=staff_id, now=now)
        if was_help:
            notices.tell_safe_again(
                session, person=person, note=note, key=f"safe:{row.id}", now=now
            )
    located = answer is Answer.HELP and db.last_location(session, staff_id=staff_id) is not None
    followed = sorted(subscriptions.countries_of(session, staff_id=staff_id))
    return CheckInOutcome(
        at=now,
        rounds=answered,
        countries=[country for _, country in answered] + followed,
        leads_told=told,
        location=location is not None,
        note=note is not None,
        located=located,
    )


def share_location(
    session: Session, *, person: Staff, location: tuple[float, float], now: datetime
) -> int:
    """A location shared on its own: recorded; passed on to the leads (how many) when the
    person asked for help within the last hour and has not said they are safe since."""
    staff_id = person.id or 0
    row = db.record_checkin(
        session,
        staff_id=staff_id,
        kind=CheckInKind.LOCATION,
        note=None,
        location=location,
        now=now,
    )
    if not db.help_since(session, staff_id=staff_id, since=now - HELP_FOLLOW_UP):
        return 0
    countries = subscriptions.countries_concerning(session, staff_id=staff_id, now=now)
    text = location_passed_on_text(person=person, location=location, countries=countries, at=now)
    return notices.tell(
        session,
        people=notices.leads_to_tell(session, countries=countries, exclude=person.id),
        parts=[text],
        kind=DeliveryKind.LOCATION,
        key=f"location:{row.id}",
        now=now,
        about=person,
    )


# -- reminders and the deadline ------------------------------------------------------------
def send_due_reminder(svc: Services, round_id: int) -> int:
    """Queue the reminder that is due now to everyone who has not answered; how many."""
    now = svc.clock()
    with session_scope(svc.engine) as session:
        rollcall = db.by_id(session, round_id=round_id)
        if rollcall is None or rollcall.status != RoundStatus.OPEN.value:
            return 0
        due = plan.due_reminder(
            started_at=rollcall.started_at,
            deadline_at=rollcall.deadline_at,
            every=timedelta(minutes=rollcall.remind_every_minutes),
            sent=rollcall.reminders_sent,
            now=now,
        )
        if due is None or not db.claim_reminder(session, round_id=round_id, index=due.index):
            return 0
        targets = db.to_remind(session, round_id=round_id)
        zones = own_zones(session, staff_ids=[staff_id for _, staff_id, _ in targets], now=now)
        for member_id, staff_id, chat_id in targets:
            own = zones.get(staff_id)
            text = reminder_text(rollcall, zone=own.zone if own else None)
            person = session.get(Staff, staff_id)
            deliveries.enqueue(
                session,
                # Someone Telegram cannot reach, whose question went by SMS or e-mail:
                # the reminder goes that way at once (bot.fallback), not to Telegram.
                status=DeliveryStatus.PENDING
                if person is None or person.reachable
                else DeliveryStatus.UNREACHABLE,
                kind=DeliveryKind.ROLLCALL_REMINDER,
                dedupe_key=db.reminder_key(round_id, due.index),
                round_id=round_id,
                recipients=[Recipient(staff_id, chat_id)],
                parts=[text],
                priority=Priority.CRITICAL,
                now=now,
                reply_markup=answer_keyboard(round_id, member_id),
            )
    log.info(
        "roll call %d: reminder %d queued for %d people",
        round_id,
        due.index,
        len(targets),
        extra={"round_id": round_id},
    )
    if targets:
        svc.wake_dispatcher()
    return len(targets)


def pass_round_deadline(svc: Services, round_id: int) -> bool:
    """At the deadline: the leads get who never answered; late answers are still taken."""
    now = svc.clock()
    with session_scope(svc.engine) as session:
        if not db.pass_deadline(session, round_id=round_id, now=now):
            return False
        rollcall = db.by_id(session, round_id=round_id)
        assert rollcall is not None
        people = notices.leads_to_tell(session, countries=[rollcall.country], exclude=None)
        starter = (
            session.get(Staff, rollcall.started_by_staff_id)
            if rollcall.started_by_staff_id
            else None
        )
        if (
            starter is not None
            and starter.reachable
            and starter.role != Role.STAFF.value
            and all(p.id != starter.id for p in people)
        ):
            people.append(starter)
        entries = db.roll_entries(session, rollcall=rollcall)
        notices.tell(
            session,
            people=people,
            parts=deadline_report(rollcall, entries),
            kind=DeliveryKind.ROLLCALL_REPORT,
            key=db.deadline_key(round_id),
            now=now,
            round_id=round_id,
        )
        audit.record(
            session,
            action="checkin_deadline",
            actor_telegram_id=None,
            round_id=round_id,
            never_answered=plan.count_roll(entries).no_answer,
        )
    log.info(
        "roll call %d: deadline passed; %d leads told",
        round_id,
        len(people),
        extra={"round_id": round_id},
    )
    svc.wake_dispatcher()
    return True
