"""`/contact`: the phone number and emergency contact a person gives their security
leads, shown in the alert when they ask for help; `/contact` alone shows them and
`/contact off` removes them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, Update

from bot.access import command_argument, requires
from bot.context import Context, services
from db import staff
from db.engine import session_scope
from db.models import Role, Staff
from db.refusal import Refusal

CONTACT_USAGE = (
    "Usage: /contact <phone> [; emergency contact], e.g. "
    "/contact +7 701 234 5678; Anna (wife) +7 701 765 4321. "
    "/contact alone shows yours, /contact off removes them."
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


def contact_text(person: Staff) -> str:
    if not person.phone:
        return f"You have not given a phone number. {CONTACT_USAGE}"
    return (
        f"Phone: {person.phone}\nEmergency contact: {person.emergency_contact or 'none'}\n"
        "Your security leads see these when you ask for help. /contact off removes them."
    )


@requires(Role.STAFF)
async def cmd_contact(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/contact [<phone> [; emergency contact] | off]"""
    raw = command_argument(update)
    with session_scope(services(context).engine) as session:
        if raw.casefold() == "off":
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
