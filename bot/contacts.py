"""`/contact`: the phone number and emergency contact a person gives their security
leads, shown in the alert when they ask for help; `/contact` alone shows them and
`/contact off` removes them.

`/contact sms <mobile>` and `/contact email <address>` give the bot a way to reach the
person when Telegram cannot (bot.fallback): urgent messages only. Leads see whether
they are set, never what they are, unless the person asks for help. `... off` removes
each."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session
from telegram import Message, Update

from bot.access import command_argument, requires
from bot.context import Context, services
from db import fallback, staff
from db.engine import session_scope
from db.models import Role, Staff
from db.refusal import Refusal

CONTACT_USAGE = (
    "Usage: /contact <phone> [; emergency contact], e.g. "
    "/contact +7 701 234 5678; Anna (wife) +7 701 765 4321. "
    "/contact alone shows yours, /contact off removes them. "
    "/contact sms <mobile> and /contact email <address>: where urgent messages reach you "
    "when Telegram cannot."
)
SMS_USAGE = (
    "Usage: /contact sms <mobile number with country code>, e.g. /contact sms +7 701 234 5678; "
    "/contact sms off removes it."
)
EMAIL_USAGE = (
    "Usage: /contact email <address>, e.g. /contact email sam@example.org; "
    "/contact email off removes it."
)
# Numbers a text message reaches; a landline cannot take one.
_TEXTABLE = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
)
MAX_EMERGENCY_CONTACT = 200
# A phone number as people write one: digits with spaces, dots, dashes, brackets and a
# leading +; at most 15 digits (E.164).
_PHONE = re.compile(r"\+?[\d\s().-]+")
_MIN_DIGITS, _MAX_DIGITS = 5, 15


@dataclass(frozen=True)
class Contact:
    phone: str
    emergency_contact: str | None


def parse_contact(raw: str) -> Contact:
    """ "<phone> [; emergency contact]"; a `Refusal` with the usage when the phone is not one."""
    phone, _, emergency = raw.partition(";")
    phone, emergency = " ".join(phone.split()), " ".join(emergency.split())
    digits = sum(ch.isdigit() for ch in phone)
    if not _PHONE.fullmatch(phone) or not _MIN_DIGITS <= digits <= _MAX_DIGITS:
        raise Refusal(f"“{phone[:40]}” is not a phone number. {CONTACT_USAGE}")
    if len(emergency) > MAX_EMERGENCY_CONTACT:
        raise Refusal(
            f"The emergency contact is too long: at most {MAX_EMERGENCY_CONTACT} characters."
        )
    return Contact(phone=phone, emergency_contact=emergency or None)


def parse_mobile(raw: str) -> str:
    """A mobile number as E.164 ("+77012345678"); a `Refusal` saying what is wrong."""
    given = " ".join(raw.split())
    # 00 is how much of the world dials out; it stands for the +.
    number = "+" + given[2:] if given.startswith("00") else given
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise Refusal(
            f"“{given[:40]}” is not a mobile number with its country code. {SMS_USAGE}"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise Refusal(f"“{given[:40]}” is not a valid phone number. {SMS_USAGE}")
    if phonenumbers.number_type(parsed) not in _TEXTABLE:
        raise Refusal(
            f"“{given[:40]}” is a landline or service number, which cannot take a text "
            f"message. {SMS_USAGE}"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_email(raw: str) -> str:
    """An e-mail address as written by its owner, its domain normalised; a `Refusal`."""
    given = raw.strip()
    try:
        return validate_email(given, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise Refusal(f"“{given[:80]}” is not an e-mail address: {error} {EMAIL_USAGE}") from None


def _fallback_lines(person: Staff) -> str:
    lines = []
    if person.mobile:
        lines.append(f"SMS: {person.mobile} (/contact sms off removes it)")
    if person.email:
        lines.append(f"E-mail: {person.email} (/contact email off removes it)")
    if not lines:
        return ""
    return (
        "\n\n" + "\n".join(lines) + "\nUrgent messages (roll calls, departure advisories, "
        "replies to your call for help, curfew reminders) go there when Telegram cannot "
        "reach you. Your leads see only that you can be reached this way."
    )


def contact_text(person: Staff) -> str:
    if not person.phone:
        return f"You have not given a phone number. {CONTACT_USAGE}{_fallback_lines(person)}"
    return (
        f"Phone: {person.phone}\nEmergency contact: {person.emergency_contact or 'none'}\n"
        "Your security leads see these when you ask for help. /contact off removes them."
        + _fallback_lines(person)
    )


def _set_fallback(session: Session, person: Staff, what: str, raw: str) -> str:
    """`/contact sms ...` or `/contact email ...`: the value recorded or removed; the reply."""
    if what == "sms":
        if not raw:
            raise Refusal(SMS_USAGE)
        if raw.casefold() == "off":
            person.mobile = None
            return "Your mobile number for SMS is removed."
        mobile = parse_mobile(raw)
        holder = fallback.by_mobile(session, mobile=mobile)
        if holder is not None and holder.id != person.id:
            # Answers by SMS are matched by number: one number, one person.
            raise Refusal(f"Someone else has given {mobile}; give your own mobile number.")
        person.mobile = mobile
        return f"Recorded: urgent messages reach you by SMS at {person.mobile}."
    if not raw:
        raise Refusal(EMAIL_USAGE)
    if raw.casefold() == "off":
        person.email = None
        return "Your e-mail address is removed."
    person.email = parse_email(raw)
    return f"Recorded: urgent messages reach you by e-mail at {person.email}."


@requires(Role.STAFF)
async def cmd_contact(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/contact [<phone> [; emergency contact] | off | sms <mobile>|off | email <address>|off]"""
    raw = command_argument(update)
    with session_scope(services(context).engine) as session:
        what, _, rest = raw.partition(" ")
        if what.casefold() in ("sms", "email", "e-mail"):
            chosen = "sms" if what.casefold() == "sms" else "email"
            reply = _set_fallback(session, person, chosen, rest.strip())
            staff.set_fallback(session, person=person, mobile=person.mobile, email=person.email)
            settings = services(context).settings
            on = settings.sms_enabled if chosen == "sms" else settings.email_enabled
            if not on and rest.strip().casefold() != "off":
                reply += (
                    f" This bot sends no {'SMS' if chosen == 'sms' else 'e-mail'} yet; "
                    "it is kept for when it does."
                )
        elif raw.casefold() == "off":
            staff.set_contact(session, person=person, phone=None, emergency_contact=None)
            reply = "Your phone number and emergency contact are removed."
        elif raw:
            given = parse_contact(raw)
            staff.set_contact(
                session,
                person=person,
                phone=given.phone,
                emergency_contact=given.emergency_contact,
            )
            reply = f"Recorded.\n{contact_text(person)}"
        else:
            reply = contact_text(person)
    await message.reply_text(reply)
