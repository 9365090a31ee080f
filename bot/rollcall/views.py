"""The round a lead names, by id or country, for `/roll`, `/roll_csv` and `/checkin_end`:
found if the lead answers for its country, shown, or closed.

Nothing here knows about Telegram: bot.rollcall.handlers shows what these return, and
the gate replies with a `Refusal`. Every round a lead is shown is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.access import require_answers_for, row_id
from bot.countries import understand_country
from bot.rollcall.texts import ROUND_USAGE
from db import audit, leads
from db import checkins as db
from db.checkins import RollCall
from db.models import Staff
from db.refusal import Refusal
from schedules import rollcall as plan
from schedules.countries import country_name
from schedules.rollcall import RollEntry


@dataclass(frozen=True)
class RoundView:
    rollcall: RollCall
    entries: list[RollEntry]


def find_round(session: Session, *, reference: str, person: Staff, action: str) -> RollCall:
    """The round a lead names by id or country, audited as seen; a `Refusal` when there is
    none, or when the lead does not answer for its country."""
    ref = reference.strip().lstrip("#")
    if not ref:
        raise Refusal(ROUND_USAGE.format(command=action))
    if ref.isascii() and ref.isdigit():
        number = row_id(ref)
        rollcall = db.by_id(session, round_id=number) if number is not None else None
        if rollcall is None:
            raise Refusal(f"There is no roll call #{ref[:20]}.")
        if not leads.may_see(session, person=person, country=rollcall.country):
            # A number names no country: saying which would tell where the round was.
            raise Refusal(
                f"There is no roll call {reference.strip()[:30]} in the countries you lead."
            )
    else:
        country = understand_country(ref)
        # Refused before the round is looked up, in the words of every other command
        # that acts on a country; it says nothing the lead did not name.
        require_answers_for(session, person=person, country=country.code)
        rollcall = db.latest_round_for_country(session, country=country.code)
        if rollcall is None:
            raise Refusal(f"There has been no roll call for {country.label()}.")
    audit.by(
        session,
        person,
        action=action,
        round_id=rollcall.id,
    )
    return rollcall


def roll_view(session: Session, *, reference: str, person: Staff) -> RoundView:
    """`/roll <round or country>`: the round with everyone asked in it."""
    rollcall = find_round(session, reference=reference, person=person, action="roll")
    return RoundView(rollcall=rollcall, entries=db.roll_entries(session, rollcall=rollcall))


def end_checkin(session: Session, *, reference: str, person: Staff, now: datetime) -> RoundView:
    """`/checkin_end`: close a round the lead may see; later presses are refused. A round
    already closed is refused, so only the close that did it is audited."""
    rollcall = find_round(session, reference=reference, person=person, action="checkin_end")
    round_id = rollcall.id or 0
    if not db.end_round(session, round_id=round_id, by_staff_id=person.id, now=now):
        raise Refusal(f"Roll call #{round_id} is already closed.")
    session.refresh(rollcall)
    return RoundView(rollcall=rollcall, entries=db.roll_entries(session, rollcall=rollcall))


def running_summary(session: Session, *, person: Staff) -> str:
    """`/roll` without arguments: the running rounds the person may see."""
    countries = leads.visible_countries(session, person=person)
    if countries == []:
        return "You lead no countries yet; pick yours with /lead <country>."
    rounds = db.running_rounds(session, countries=countries)
    if not rounds:
        return "No roll call is running in the countries you lead. Start one with /checkin."
    lines = ["Running roll calls:"]
    for rollcall in rounds:
        c = plan.count_roll(db.roll_entries(session, rollcall=rollcall))
        lines.append(
            f"#{rollcall.id} {country_name(rollcall.country)}: {c.safe} safe, {c.help} need "
            f"help, {c.no_answer} no answer, {c.unreachable} unreachable"
        )
    lines.append("/roll <id> for names.")
    return "\n".join(lines)
