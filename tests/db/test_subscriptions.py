"""Which countries each person follows, on the real database (`db/subscriptions.py`)."""

from __future__ import annotations

import itertools

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db import staff, subscriptions
from db.engine import session_scope
from db.models import Role, Staff, Subscription
from db.types import utcnow

_ids = itertools.count(2**34 + 77)


def _person(session: Session, name: str, *follows: str) -> Staff:
    user_id = next(_ids)
    person = staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name=name,
        username=None,
        role=Role.STAFF,
    )
    for country in follows:
        assert subscriptions.subscribe(session, staff_id=person.id or 0, country=country)
    return person


def test_following_a_country_twice_answers_false_and_keeps_one_row(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana")
        assert subscriptions.subscribe(session, staff_id=dana.id or 0, country="KZ") is True
    with session_scope(engine) as session:
        assert subscriptions.subscribe(session, staff_id=dana.id or 0, country="KZ") is False
        rows = session.exec(select(Subscription)).all()
        assert [(r.staff_id, r.country) for r in rows] == [(dana.id, "KZ")]
        assert rows[0].created_at.tzinfo is not None


def test_one_persons_follow_does_not_count_for_another(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana", "KZ")
        erlan = _person(session, "Erlan")
        assert subscriptions.subscribe(session, staff_id=erlan.id or 0, country="KZ") is True
        assert subscriptions.subscribe(session, staff_id=dana.id or 0, country="GE") is True
        assert subscriptions.countries_of(session, staff_id=dana.id or 0) == ["GE", "KZ"]
        assert subscriptions.countries_of(session, staff_id=erlan.id or 0) == ["KZ"]


def test_unfollowing_answers_whether_there_was_anything_to_unfollow(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana", "KZ", "GE")
        erlan = _person(session, "Erlan", "KZ")
    with session_scope(engine) as session:
        assert subscriptions.unsubscribe(session, staff_id=dana.id or 0, country="KZ") is True
    with session_scope(engine) as session:
        assert subscriptions.unsubscribe(session, staff_id=dana.id or 0, country="KZ") is False
        assert subscriptions.unsubscribe(session, staff_id=dana.id or 0, country="AM") is False
        assert subscriptions.countries_of(session, staff_id=dana.id or 0) == ["GE"]
        assert subscriptions.countries_of(session, staff_id=erlan.id or 0) == ["KZ"]


def test_a_persons_countries_are_listed_alphabetically(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana", "UZ", "AM", "KZ", "GE")
        assert subscriptions.countries_of(session, staff_id=dana.id or 0) == [
            "AM",
            "GE",
            "KZ",
            "UZ",
        ]
        assert subscriptions.countries_of(session, staff_id=10**6) == []


def test_subscribers_of_a_country_in_order_of_enrolment(engine: Engine) -> None:
    with session_scope(engine) as session:
        zarina = _person(session, "Zarina")
        _person(session, "Gela", "GE")
        aliya = _person(session, "Aliya", "GE")
        gone = _person(session, "Gone")
        # They follow Kazakhstan in the reverse order of enrolment.
        for person in (gone, aliya, zarina):
            subscriptions.subscribe(session, staff_id=person.id or 0, country="KZ")
        staff.mark_unreachable(session, staff_id=gone.id or 0)
        assert [p.id for p in subscriptions.subscribers(session, country="KZ", now=utcnow())] == [
            zarina.id,
            aliya.id,
            gone.id,
        ]
        assert list(subscriptions.subscribers(session, country="FR", now=utcnow())) == []


def test_subscriber_counts_tell_all_from_reachable(engine: Engine) -> None:
    with session_scope(engine) as session:
        _person(session, "Dana", "KZ")
        gone = _person(session, "Gone", "KZ", "GE")
        _person(session, "Erlan", "KZ")
        staff.mark_unreachable(session, staff_id=gone.id or 0)
        assert subscriptions.count_subscribers(session, country="KZ") == (3, 2)
        assert subscriptions.count_subscribers(session, country="GE") == (1, 0)
        assert subscriptions.count_subscribers(session, country="FR") == (0, 0)


def test_countries_with_subscribers_are_listed_alphabetically_with_their_counts(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        assert subscriptions.countries_with_subscribers(session) == []
        _person(session, "Dana", "KZ", "GE")
        _person(session, "Erlan", "KZ")
        gone = _person(session, "Gone", "UZ", "KZ")
        staff.mark_unreachable(session, staff_id=gone.id or 0)
        assert subscriptions.countries_with_subscribers(session) == [
            ("GE", 1),
            ("KZ", 3),
            ("UZ", 1),
        ]
