"""Roll-call and lead tables on the real database (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db import checkins, deliveries, leads, staff
from db.checkins import Answer, CheckInKind, RollCall, RoundStatus
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import DeliveryStatus, Priority, Role, Staff

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_ids = itertools.count(7_000_000_000)


def _person(session: Session, name: str, role: Role = Role.STAFF) -> Staff:
    user_id = next(_ids)
    return staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name=name,
        username=name.lower(),
        role=role,
    )


def _round(session: Session, country: str = "KZ", minutes: int = 120) -> RollCall:
    return checkins.create_round(
        session,
        country=country,
        message="Are you safe?",
        started_by_staff_id=None,
        alert_id=None,
        now=NOW,
        deadline_at=NOW + timedelta(minutes=minutes),
        remind_every_minutes=30,
    )


def test_leads_pick_countries_and_admins_see_everything(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        omar = _person(session, "Omar", Role.LEAD)
        ada = _person(session, "Ada", Role.ADMIN)
        sam = _person(session, "Sam")
        assert leads.lead(session, staff_id=lena.id or 0, country="KZ")
        assert not leads.lead(session, staff_id=lena.id or 0, country="KZ")
        assert leads.lead(session, staff_id=lena.id or 0, country="GE")
        assert leads.lead(session, staff_id=omar.id or 0, country="GE")
        assert leads.lead(session, staff_id=sam.id or 0, country="KZ")  # a lead later demoted
        assert leads.countries_led(session, staff_id=lena.id or 0) == ["GE", "KZ"]

        assert [p.display_name for p in leads.leads_for_country(session, country="KZ")] == [
            "Lena",
            "Ada",
        ]
        assert {p.display_name for p in leads.leads_for_country(session, country="FR")} == {"Ada"}
        assert leads.may_see(session, person=lena, country="KZ")
        assert not leads.may_see(session, person=omar, country="KZ")
        assert leads.may_see(session, person=ada, country="FR")
        assert not leads.may_see(session, person=sam, country="KZ")
        assert leads.visible_countries(session, person=ada) is None
        assert leads.visible_countries(session, person=sam) == []

        assert leads.unlead(session, staff_id=lena.id or 0, country="KZ")
        assert not leads.unlead(session, staff_id=lena.id or 0, country="KZ")
        assert not leads.may_see(session, person=lena, country="KZ")


def test_at_most_one_open_round_per_country(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = _round(session)
        _round(session, country="GE")
        assert checkins.open_round_for_country(session, country="KZ") == first
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        _round(session)  # two leads at the same moment: the database refuses the second
    with session_scope(engine) as session:
        assert checkins.pass_deadline(session, round_id=first.id or 0, now=NOW + timedelta(hours=3))
        second = _round(session)
        # The new round replaces the old one, which stops taking late answers.
        assert checkins.supersede_rounds(session, country="KZ", now=NOW) == 1
        assert checkins.latest_round_for_country(session, country="KZ") == second
    with session_scope(engine) as session:
        old = checkins.by_id(session, round_id=first.id or 0)
        assert old is not None and old.status == RoundStatus.CLOSED.value
        assert old.close_reason == "superseded"


def test_deadline_and_reminders_are_claimed_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        rollcall = _round(session)
        round_id = rollcall.id or 0
        assert not checkins.pass_deadline(session, round_id=round_id, now=NOW + timedelta(hours=1))
        assert checkins.claim_reminder(session, round_id=round_id, index=1)
        assert not checkins.claim_reminder(session, round_id=round_id, index=1)
        assert checkins.claim_reminder(session, round_id=round_id, index=3)
        assert not checkins.claim_reminder(session, round_id=round_id, index=2)
        assert checkins.pass_deadline(session, round_id=round_id, now=NOW + timedelta(hours=2))
        assert not checkins.pass_deadline(session, round_id=round_id, now=NOW + timedelta(hours=3))
        # No reminders once past the deadline; a lead can still close it, once.
        assert not checkins.claim_reminder(session, round_id=round_id, index=4)
        assert checkins.end_round(session, round_id=round_id, by_staff_id=None, now=NOW)
        assert not checkins.end_round(session, round_id=round_id, by_staff_id=None, now=NOW)
        assert checkins.rounds_to_plan(session) == []


def test_the_roll_from_members_deliveries_and_the_latest_answers(engine: Engine) -> None:
    with session_scope(engine) as session:
        safe, helped, silent, pending, gone = (
            _person(session, name) for name in ("Sam", "Nina", "Sid", "Pia", "Gus")
        )
        rollcall = _round(session)
        round_id = rollcall.id or 0
        people = [safe, helped, silent, pending, gone]
        members = checkins.add_members(
            session, round_id=round_id, staff_ids=[p.id or 0 for p in people]
        )
        for person in people:
            deliveries.enqueue(
                session,
                dedupe_key=checkins.question_key(round_id),
                recipients=[Recipient(person.id or 0, person.chat_id)],
                parts=["Are you safe?"],
                priority=Priority.CRITICAL,
                now=NOW,
            )
        assert checkins.link_deliveries(session, round_id=round_id) == 5
        due = deliveries.due(session, now=NOW, limit=10)
        for row in due:
            if row.staff_id == gone.id:
                deliveries.mark_unreachable(session, staff_id=row.staff_id, error="blocked")
            elif row.staff_id != pending.id:
                deliveries.mark_sent(session, delivery_id=row.id, message_id=1, now=NOW)

        def member(person: Staff) -> checkins.RollCallMember:
            found = checkins.member_with_round(session, member_id=members[person.id or 0])
            assert found is not None
            return found[0]

        # Nobody has answered: the silent ones are reminded, the unreached are not.
        reminded = {staff_id for _, staff_id, _ in checkins.to_remind(session, round_id=round_id)}
        assert reminded == {safe.id, helped.id, silent.id}

        checkins.record_answer(
            session,
            member=member(safe),
            answer=Answer.HELP,
            note=None,
            location=None,
            late=False,
            via="button",
            now=NOW + timedelta(minutes=1),
        )
        checkins.record_answer(
            session,
            member=member(safe),
            answer=Answer.SAFE,
            note="at the hotel",
            location=None,
            late=False,
            via="/safe",
            now=NOW + timedelta(minutes=2),
        )
        checkins.record_answer(
            session,
            member=member(helped),
            answer=Answer.HELP,
            note=None,
            location=None,
            late=True,
            via="button",
            now=NOW + timedelta(hours=3),
        )
        checkins.record_checkin(
            session,
            staff_id=helped.id or 0,
            kind=CheckInKind.LOCATION,
            note=None,
            location=(43.25, 76.95),
            now=NOW + timedelta(hours=3, minutes=1),
        )
        # A location shared before the round does not show on its roll.
        checkins.record_checkin(
            session,
            staff_id=silent.id or 0,
            kind=CheckInKind.LOCATION,
            note=None,
            location=(1.0, 2.0),
            now=NOW - timedelta(days=1),
        )
        entries = {e.name: e for e in checkins.roll_entries(session, rollcall=rollcall)}
        assert [a.answer for a in checkins.answers_of(session, member_id=member(safe).id or 0)] == [
            "help",
            "safe",
        ]
        reminded = {staff_id for _, staff_id, _ in checkins.to_remind(session, round_id=round_id)}
    assert reminded == {silent.id}
    assert {name: e.status.value for name, e in entries.items()} == {
        "Sam": "safe",
        "Nina": "help",
        "Sid": "no_answer",
        "Pia": "no_answer",
        "Gus": "unreachable",
    }
    assert entries["Sam"].note == "at the hotel" and not entries["Sam"].late
    assert entries["Nina"].late and entries["Nina"].location == (43.25, 76.95)
    assert entries["Sid"].location is None
    assert entries["Pia"].being_sent and entries["Pia"].delivery == DeliveryStatus.PENDING.value


def test_check_ins_keep_the_last_location_and_whether_help_is_outstanding(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        nina = _person(session, "Nina")
        staff_id = nina.id or 0
        assert checkins.last_location(session, staff_id=staff_id) is None
        assert not checkins.help_since(session, staff_id=staff_id, since=NOW)
        checkins.record_checkin(
            session,
            staff_id=staff_id,
            kind=CheckInKind.SAFE,
            note=None,
            location=(10.0, 20.0),
            now=NOW,
        )
        checkins.record_checkin(
            session,
            staff_id=staff_id,
            kind=CheckInKind.HELP,
            note="hurt",
            location=None,
            now=NOW + timedelta(minutes=5),
        )
        found = checkins.last_location(session, staff_id=staff_id)
        assert found is not None and (found.latitude, found.longitude) == (10.0, 20.0)
        assert found.at == NOW
        assert checkins.help_since(session, staff_id=staff_id, since=NOW)
        checkins.record_checkin(
            session,
            staff_id=staff_id,
            kind=CheckInKind.SAFE,
            note=None,
            location=None,
            now=NOW + timedelta(minutes=9),
        )
        assert not checkins.help_since(session, staff_id=staff_id, since=NOW)
        kinds = [c.kind for c in checkins.checkins_of(session, staff_id=staff_id)]
    assert kinds == ["safe", "help", "safe"]
