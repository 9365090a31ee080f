"""What leads and buttons send: `/checkin <country> [message] [deadline]`, and the
`rc:<round id>:<member id>:s|h` data of the answer buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from db.refusal import Refusal
from schedules import rollcall as plan
from schedules.countries import leading_country

CALLBACK = re.compile(r"^rc:([0-9]{1,9}):([0-9]{1,9}):([sh])$")  # ids within INTEGER
MAX_MESSAGE = 1000  # the roll-call question; people read it on a phone in a hurry

CHECKIN_USAGE = (
    "Usage: /checkin <country> [message] [deadline], for example:\n"
    "/checkin KZ Protests in Almaty tonight. 90m\n"
    "The deadline is like 2h, 90m or 1h30m (default {default})."
)


@dataclass(frozen=True)
class CheckinRequest:
    country: str
    message: str
    deadline: timedelta


def parse_checkin(raw: str, *, default_deadline: timedelta) -> CheckinRequest:
    """`<country> [message] [deadline]`; the deadline may also come right after the country.
    A `Refusal` says in one line what is wrong, with the usage where it helps."""
    usage = CHECKIN_USAGE.format(default=plan.format_duration(default_deadline))
    if not raw.strip():
        raise Refusal(usage)
    try:
        found, rest = leading_country(raw)
    except ValueError as error:
        raise Refusal(f"{error}\n{usage}") from None
    deadline = default_deadline
    first, *after = rest.split(None, 1) or [""]
    *before, last = rest.rsplit(None, 1) or [""]
    try:
        if last and plan.looks_like_deadline(last):
            deadline, rest = plan.parse_deadline(last), "".join(before)
        elif first and plan.looks_like_deadline(first):
            deadline, rest = plan.parse_deadline(first), "".join(after)
    except ValueError as error:
        raise Refusal(f"{error}\n{usage}") from None
    rest = rest.strip()
    if len(rest) > MAX_MESSAGE:
        raise Refusal(
            f"That message is {len(rest)} characters; please keep it under {MAX_MESSAGE}."
        )
    return CheckinRequest(country=found.code, message=rest, deadline=deadline)
