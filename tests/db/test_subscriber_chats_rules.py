"""The pages a fan-out walks through a country's audience (`db.subscriptions.subscriber_chats`):
every follower and everyone there now, each once, in staff id order, and nobody else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import subscriptions, whereabouts
from db.engine import session_scope
from db.models import Staff, Trip
from tests.harness import person

NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def _travelling(session: Session, someone: Staff, country: str) -> None:
    """`someone` is on a trip to `country` now."""
    whereabouts.record_trips(
        session,
        trips=[
            Trip(
                staff_id=someone.id or 0,
                country=country,
                first_day=date(2024, 3, 1),
                last_day=date(2024, 3, 9),
                starts_at=NOW - timedelta(days=3),
                ends_at=NOW + timedelta(days=5),
                created_at=NOW - timedelta(days=30),
            )
        ],
    )


def _pages(engine: Engine, country: str, *, limit: int) -> list[list[int]]:
    """The staff ids of each page a fan-out reads, the first after no one, each next one
    after the last of the page before, until a page comes back empty."""
    pages: list[list[int]] = []
    after = 0
    with session_scope(engine) as session:
        while len(pages) < 10:  # a fan-out that never ends would be a failure too
            page = subscriptions.subscriber_chats(
                session, country=country, after_staff_id=after, limit=limit, now=NOW
            )
            if not page:
                break
            pages.append([staff_id for staff_id, _chat, _reachable in page])
            after = page[-1][0]
    return pages


def test_every_follower_is_reached_once_in_staff_order_however_they_followed(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        ana, ben, cai, dov, eva = (person(session, n) for n in ("Ana", "Ben", "Cai", "Dov", "Eva"))
        kai = person(session, "Kai")
        # They followed in an order of their own, the last enrolled first.
        for someone in (eva, dov, cai, ben, ana):
            subscriptions.subscribe(session, staff_id=someone.id or 0, country="KZ")
        # Kai follows another country only: never part of Kazakhstan's fan-out.
        subscriptions.subscribe(session, staff_id=kai.id or 0, country="KG")
        ids = [p.id or 0 for p in (ana, ben, cai, dov, eva)]
    assert _pages(engine, "KZ", limit=2) == [ids[0:2], ids[2:4], ids[4:5]]
    assert _pages(engine, "KZ", limit=10) == [ids]


def test_a_traveller_at_the_end_of_a_page_is_not_reached_again(engine: Engine) -> None:
    with session_scope(engine) as session:
        ana, tom, ben, uma = (person(session, n) for n in ("Ana", "Tom", "Ben", "Uma"))
        subscriptions.subscribe(session, staff_id=ana.id or 0, country="KZ")
        subscriptions.subscribe(session, staff_id=ben.id or 0, country="KZ")
        # Tom and Uma follow nothing but are in Kazakhstan now.
        _travelling(session, tom, "KZ")
        _travelling(session, uma, "KZ")
        ids = [p.id or 0 for p in (ana, tom, ben, uma)]
    assert _pages(engine, "KZ", limit=2) == [ids[0:2], ids[2:4]]
    assert _pages(engine, "KZ", limit=1) == [[i] for i in ids]


def test_each_page_gives_the_chat_and_whether_telegram_still_reaches_them(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        ana, tom = person(session, "Ana"), person(session, "Tom")
        ana.reachable = False
        session.add(ana)
        subscriptions.subscribe(session, staff_id=ana.id or 0, country="KZ")
        _travelling(session, tom, "KZ")
        expected = [(ana.id, ana.chat_id, False), (tom.id, tom.chat_id, True)]
    with session_scope(engine) as session:
        page = subscriptions.subscriber_chats(
            session, country="KZ", after_staff_id=0, limit=5, now=NOW
        )
    assert page == expected
