"""Reading the country a person names, and changing the countries they follow or lead.

/subscribe, /unsubscribe, /lead, /unlead and the roll-call commands that take a round's
country all read it here, so they understand the same names and refuse in the same
words. Nothing here knows about Telegram.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from db.models import Staff
from db.refusal import Refusal
from schedules.countries import Country, resolve_country, suggest_country


def understand_country(text: str) -> Country:
    """The country meant; a `Refusal` says why there is none, with a "did you mean"."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise Refusal("Which country? For example: Kazakhstan, KZ or KAZ.")
    found = resolve_country(cleaned)
    if found is not None:
        return found
    shown = cleaned[:60]
    suggestion = suggest_country(cleaned)
    if suggestion is not None:
        raise Refusal(f"I don't know the country “{shown}”. Did you mean {suggestion.label()}?")
    raise Refusal(f"I don't know the country “{shown}”. Use its English name or ISO code, e.g. KZ.")


class CountryChange(Protocol):
    """Follow, stop following, lead or stop leading a country: whether anything changed."""

    def __call__(self, session: Session, *, staff_id: int, country: str) -> bool: ...


def change_country(
    session: Session, *, person: Staff, text: str, change: CountryChange
) -> tuple[Country, bool]:
    """Apply `change` to the country `text` names, for `person`: the country, and whether
    anything changed. A name that is no country is refused before anything is written."""
    country = understand_country(text)
    return country, change(session, staff_id=person.id or 0, country=country.code)
