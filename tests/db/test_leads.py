"""Who answers for a country, on the real database: the one rule every notice and every
lead action asks (`db/leads.py`)."""

from __future__ import annotations

import itertools

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import leads, staff, subscriptions
from db.engine import session_scope
from db.models import Role, Staff
from db.types import utcnow

_ids = itertools.count(7_500_000_000)


def _person(session: Session, name: str, role: Role = Role.STAFF, *follows: str) -> Staff:
    user_id = next(_ids)
    person = staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name=name,
        username=name.lower(),
        role=role,
    )
    for country in follows:
        subscriptions.subscribe(session, staff_id=person.id or 0, country=country)
    return person


def _names(people: list[Staff] | tuple[Staff, ...]) -> list[str]:
    return [p.display_name for p in people]


def test_a_lead_who_only_follows_a_country_does_not_answer_for_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        fred = _person(session, "Fred", Role.LEAD, "KZ")  # follows Kazakhstan, never /lead KZ
        ada = _person(session, "Ada", Role.ADMIN)
        _person(session, "Sam", Role.STAFF, "KZ")
        leads.lead(session, staff_id=lena.id or 0, country="KZ")

        assert _names(list(leads.leads_for_country(session, country="KZ"))) == ["Lena", "Ada"]
        assert leads.answers_for(session, person=lena, country="KZ")
        assert leads.answers_for(session, person=ada, country="KZ")
        assert not leads.answers_for(session, person=fred, country="KZ")


def test_admins_answer_for_every_country_and_staff_for_none(engine: Engine) -> None:
    with session_scope(engine) as session:
        ada = _person(session, "Ada", Role.ADMIN)
        sam = _person(session, "Sam", Role.STAFF)
        leads.lead(session, staff_id=sam.id or 0, country="KZ")  # taken, then demoted
        assert _names(list(leads.leads_for_country(session, country="GE"))) == ["Ada"]
        assert _names(list(leads.leads_for_country(session, country="KZ"))) == ["Ada"]
        assert leads.answers_for(session, person=ada, country="GE")
        assert not leads.answers_for(session, person=sam, country="KZ")
        assert leads.visible_countries(session, person=ada) is None
        assert leads.visible_countries(session, person=sam) == []


def test_the_leads_of_several_countries_each_once_without_the_one_excluded(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        omar = _person(session, "Omar", Role.LEAD)
        _person(session, "Ada", Role.ADMIN)
        _person(session, "Fred", Role.LEAD, "GE", "KZ")
        leads.lead(session, staff_id=lena.id or 0, country="KZ")
        leads.lead(session, staff_id=lena.id or 0, country="GE")
        leads.lead(session, staff_id=omar.id or 0, country="GE")

        both = leads.leads_for_countries(session, countries=["KZ", "GE", "KZ"])
        assert _names(both) == ["Lena", "Omar", "Ada"]
        assert _names(leads.leads_for_countries(session, countries=["GE"], exclude=omar.id)) == [
            "Lena",
            "Ada",
        ]
        # A person who follows no country still has someone: the admins.
        assert _names(leads.leads_for_countries(session, countries=[])) == ["Ada"]


def test_the_leads_of_a_person_are_those_of_the_countries_they_follow(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD, "KZ")
        omar = _person(session, "Omar", Role.LEAD)
        _person(session, "Fred", Role.LEAD, "KZ")  # follows, does not answer
        _person(session, "Ada", Role.ADMIN)
        sam = _person(session, "Sam", Role.STAFF, "KZ")
        nia = _person(session, "Nia", Role.STAFF)
        leads.lead(session, staff_id=lena.id or 0, country="KZ")
        leads.lead(session, staff_id=omar.id or 0, country="GE")

        assert _names(leads.leads_of_person(session, staff_id=sam.id or 0, now=utcnow())) == [
            "Lena",
            "Ada",
        ]
        assert _names(leads.leads_of_person(session, staff_id=nia.id or 0, now=utcnow())) == ["Ada"]
        # A lead is not their own lead.
        assert _names(leads.leads_of_person(session, staff_id=lena.id or 0, now=utcnow())) == [
            "Ada"
        ]


def test_taking_and_giving_up_a_country(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        assert leads.lead(session, staff_id=lena.id or 0, country="KZ")
        assert not leads.lead(session, staff_id=lena.id or 0, country="KZ")
        assert leads.lead(session, staff_id=lena.id or 0, country="GE")
        assert leads.countries_led(session, staff_id=lena.id or 0) == ["GE", "KZ"]
        assert leads.unlead(session, staff_id=lena.id or 0, country="KZ")
        assert not leads.unlead(session, staff_id=lena.id or 0, country="KZ")
        assert leads.countries_led(session, staff_id=lena.id or 0) == ["GE"]
        assert not leads.answers_for(session, person=lena, country="KZ")
