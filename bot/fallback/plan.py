"""What a fallback says and by which channel it goes: SMS to a mobile number (short,
plain, with the roll call's short code and how to answer), else e-mail (the bot's own
HTML and a plain-text twin)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.fallback import texts
from bot.rollcall.texts import DEFAULT_QUESTION, when_text
from db import checkins, deliveries
from db import fallback as db
from db.deliveries import Recipient
from db.models import Channel, DeliveryKind
from schedules.countries import country_name

# Older messages are history, not news: they never go by SMS or e-mail.
MAX_AGE = timedelta(hours=24)

SMS_ANSWER_WORDS = "SAFE or HELP"


def short_code(round_id: int) -> str:
    """How an SMS names a roll call: "RC12"; an answer may carry it."""
    return f"RC{round_id}"


def _rollcall_sms(session: Session, candidate: db.Candidate) -> str | None:
    rollcall = checkins.by_id(session, round_id=candidate.round_id or 0)
    if rollcall is None:
        return None
    code = short_code(rollcall.id or 0)
    country = country_name(rollcall.country)
    question = rollcall.message or DEFAULT_QUESTION
    if candidate.kind is DeliveryKind.ROLLCALL_REMINDER:
        question = "We have not heard from you yet. " + (
            question if question != DEFAULT_QUESTION else "Are you safe?"
        )
    head = f"Dutybot roll call {code}, {country}: {question}"
    tail = (
        f" Answer by {when_text(rollcall.country, rollcall.deadline_at)}: "
        f"reply SAFE {code} or HELP {code}."
    )
    return texts.fit(texts.plain(head).replace("\n", " "), tail=tail)


def sms_for(session: Session, candidate: db.Candidate) -> str:
    if candidate.kind.value in db.ROLLCALL_KINDS:
        text = _rollcall_sms(session, candidate)
        if text is not None:
            return text
    if candidate.kind is DeliveryKind.HELP_REPLY:
        return texts.sms_text(candidate.text, tail=" Reply to this SMS to answer them.")
    return texts.sms_text(candidate.text)


def queue_fallbacks(
    session: Session,
    *,
    now: datetime,
    after: timedelta,
    sms: bool,
    email: bool,
) -> list[db.Candidate]:
    """Queue an SMS or e-mail for every critical row that needs one now; those queued."""
    queued = []
    for candidate in db.candidates(
        session, now=now, after=after, max_age=MAX_AGE, sms=sms, email=email
    ):
        channel = Channel.SMS if candidate.mobile else Channel.EMAIL
        text = sms_for(session, candidate) if channel is Channel.SMS else candidate.text
        added = deliveries.enqueue(
            session,
            kind=candidate.kind,
            dedupe_key=db.fallback_key(candidate.delivery_id),
            recipients=[Recipient(staff_id=candidate.staff_id, chat_id=candidate.chat_id)],
            parts=[text],
            priority=candidate.priority,
            now=now,
            about_staff_id=candidate.about_staff_id,
            round_id=candidate.round_id,
            alert_id=candidate.alert_id,
            call_id=candidate.call_id,
            channel=channel,
            fallback_for_id=candidate.delivery_id,
        )
        if added:
            queued.append(candidate)
    return queued


_SUBJECTS = {
    DeliveryKind.ROLLCALL_QUESTION: "Safety roll call: are you safe?",
    DeliveryKind.ROLLCALL_REMINDER: "Safety roll call: we have not heard from you",
    DeliveryKind.FEED_ALERT: "Departure advisory",
    DeliveryKind.HELP_REPLY: "Your security team answered",
    DeliveryKind.CURFEW_REMINDER: "Curfew reminder",
}


def email_subject(kind: DeliveryKind, round_id: int | None) -> str:
    subject = f"Dutybot: {_SUBJECTS.get(kind, 'urgent message')}"
    if round_id is not None and kind.value in db.ROLLCALL_KINDS:
        subject += f" ({short_code(round_id)})"
    return subject


EMAIL_FOOTER = (
    "Dutybot sent this by e-mail because Telegram could not deliver it in time. "
    "Answer in Telegram when you can"
)


def email_bodies(html_text: str, *, kind: DeliveryKind, round_id: int | None) -> tuple[str, str]:
    """(plain text, HTML) of a fallback e-mail."""
    footer = EMAIL_FOOTER + "."
    return (
        f"{texts.plain(html_text)}\n\n-- \n{footer}",
        texts.email_html(f"{html_text}\n\n<i>{footer}</i>"),
    )
