"""Roll-call and lead tables on the real database (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db import checkins, deliveries, leads, whereabouts
from db.checkins import Answer, CheckInKind, RollCall, RoundStatus
from db.deliveries import Confirmed, Recipient
from db.engine import session_scope
from db.models import Delivery, DeliveryKind, DeliveryStatus, Priority, Role, Staff
from tests.harness import a_round, answers_of, checkins_of
from tests.harness import person as _person

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _round(session: Session, country: str = "KZ", minutes: int = 120) -> RollCall:
    return a_round(session, country, now=NOW, deadline=timedelta(minutes=minutes))


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
                kind=DeliveryKind.ROLLCALL_QUESTION,
                dedupe_key=checkins.question_key(round_id),
                round_id=round_id,
                recipients=[Recipient(person.id or 0, person.chat_id)],
                parts=["Are you safe?"],
                priority=Priority.CRITICAL,
                now=NOW,
            )
        assert checkins.link_deliveries(session, round_id=round_id) == 5
        # As the dispatcher goes: all claimed; one never got to, one blocked, the rest sent.
        for row in deliveries.claim_due(session, now=NOW, limit=10):
            if row.staff_id == gone.id:
                deliveries.mark_unreachable(session, staff_id=row.staff_id, error="blocked")
            elif row.staff_id == pending.id:
                deliveries.release(session, delivery_ids=[row.id])
            else:
                deliveries.mark_sent_many(
                    session, confirmed=[Confirmed(delivery_id=row.id, message_id=1, at=NOW)]
                )

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
        assert [a.answer for a in answers_of(session, member_id=member(safe).id or 0)] == [
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
        kinds = [c.kind for c in checkins_of(session, staff_id=staff_id)]
    assert kinds == ["safe", "help", "safe"]


def _ask(session: Session, rollcall: RollCall, people: list[Staff]) -> dict[int, int]:
    """Add the people to the round and queue their questions; staff id → member id."""
    round_id = rollcall.id or 0
    members = checkins.add_members(
        session, round_id=round_id, staff_ids=[p.id or 0 for p in people]
    )
    for person in people:
        deliveries.enqueue(
            session,
            kind=DeliveryKind.ROLLCALL_QUESTION,
            dedupe_key=checkins.question_key(round_id),
            round_id=round_id,
            recipients=[Recipient(person.id or 0, person.chat_id)],
            parts=["Are you safe?", "(part two)"],
            priority=Priority.CRITICAL,
            now=NOW,
        )
    return members


def _answer(
    session: Session,
    member_id: int,
    answer: Answer,
    minutes: float,
    location: tuple[float, float] | None = None,
) -> None:
    found = checkins.member_with_round(session, member_id=member_id)
    assert found is not None
    checkins.record_answer(
        session,
        member=found[0],
        answer=answer,
        note=None,
        location=location,
        late=False,
        via="button",
        now=NOW + timedelta(minutes=minutes),
    )


def test_a_lead_naming_a_country_gets_its_running_round_before_a_newer_closed_one(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        assert checkins.latest_round_for_country(session, country="KZ") is None
        first = _round(session)
        assert checkins.pass_deadline(session, round_id=first.id or 0, now=NOW + timedelta(hours=2))
        georgia = _round(session, country="GE")
        # A newer KZ round, already ended, does not hide the one still taking late answers.
        second = _round(session)
        lena = _person(session, "Lena", Role.LEAD)
        assert checkins.end_round(session, round_id=second.id or 0, by_staff_id=lena.id, now=NOW)
        assert checkins.latest_round_for_country(session, country="KZ") == first
        assert checkins.running_rounds(session, countries=None) == [first, georgia]
        assert checkins.running_rounds(session, countries=["GE"]) == [georgia]
        # In the order they were started, whichever way the database finds them.
        assert checkins.running_rounds(session, countries=["KZ", "GE"]) == [first, georgia]
        assert checkins.running_rounds(session, countries=[]) == []
        assert checkins.rounds_to_plan(session) == [georgia]
        assert checkins.end_round(session, round_id=first.id or 0, by_staff_id=None, now=NOW)
        assert checkins.latest_round_for_country(session, country="KZ") == second
        # Only rounds past their deadline are replaced by a new one.
        assert checkins.supersede_rounds(session, country="GE", now=NOW) == 0
        assert checkins.by_id(session, round_id=georgia.id or 0) == georgia
        assert georgia.status == RoundStatus.OPEN.value
        assert not checkins.claim_reminder(session, round_id=second.id or 0, index=1)
        assert checkins.add_members(session, round_id=georgia.id or 0, staff_ids=[]) == {}
    with session_scope(engine) as session:
        ended = checkins.by_id(session, round_id=second.id or 0)
        assert ended is not None
        assert (ended.close_reason, ended.closed_at, ended.closed_by_staff_id) == (
            "ended",
            NOW,
            lena.id,
        )


def test_each_member_is_tied_to_the_first_part_of_their_own_question(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, kim = _person(session, "Sam"), _person(session, "Kim")
        outsider = _person(session, "Out")
        rollcall = _round(session)
        round_id = rollcall.id or 0
        members = _ask(session, rollcall, [sam, kim])
        deliveries.enqueue(  # someone else's message under another key
            session,
            kind=DeliveryKind.FEED_ALERT,
            dedupe_key="alert:1",
            recipients=[Recipient(outsider.id or 0, outsider.chat_id)],
            parts=["x"],
            priority=Priority.CRITICAL,
            now=NOW,
        )
        assert checkins.link_deliveries(session, round_id=round_id) == 2
        for person in (sam, kim):
            found = checkins.member_with_round(session, member_id=members[person.id or 0])
            assert found is not None and found[1] == rollcall
            member = found[0]
            delivery = session.get(Delivery, member.delivery_id)
            assert delivery is not None
            assert (delivery.staff_id, delivery.part, delivery.dedupe_key) == (
                person.id,
                0,
                checkins.question_key(round_id),
            )
        assert checkins.member_with_round(session, member_id=999_999) is None


def test_a_press_or_check_in_answers_only_rounds_still_taking_answers(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        staff_id = sam.id or 0
        late_round = _round(session, country="GE")
        open_round = _round(session)
        closed_round = _round(session, country="FR")
        for rollcall in (late_round, open_round, closed_round):
            _ask(session, rollcall, [sam])
        checkins.pass_deadline(session, round_id=late_round.id or 0, now=NOW + timedelta(hours=3))
        checkins.end_round(session, round_id=closed_round.id or 0, by_staff_id=None, now=NOW)
        found = checkins.answerable_memberships(session, staff_id=staff_id)
        assert [(m.staff_id, r.id) for m, r in found] == [
            (staff_id, late_round.id),
            (staff_id, open_round.id),
        ]
        assert checkins.answerable_memberships(session, staff_id=staff_id + 1000) == []


def test_the_live_rolls_are_the_reply_and_each_copy_telegram_has(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena, omar, pat = (_person(session, n, Role.LEAD) for n in ("Lena", "Omar", "Pat"))
        rollcall = _round(session)
        round_id = rollcall.id or 0
        assert checkins.report_targets(session, rollcall=rollcall) == []
        assert not checkins.live_rolls_pending(session, round_id=round_id)
        deliveries.enqueue(
            session,
            kind=DeliveryKind.LIVE_ROLL,
            dedupe_key=checkins.live_roll_key(round_id),
            round_id=round_id,
            recipients=deliveries.recipients([omar, pat, lena]),
            parts=["roll", "roll, part two"],
            priority=Priority.CRITICAL,
            now=NOW,
        )
        assert checkins.live_rolls_pending(session, round_id=round_id)
        omar_id, lena_id = omar.id or 0, lena.id or 0
        rows = {(r.staff_id, r.part): r for r in session.exec(select(Delivery)).all()}
        deliveries.mark_sent_many(session, confirmed=[Confirmed(rows[omar_id, 0].id or 0, 41, NOW)])
        deliveries.mark_sent_many(session, confirmed=[Confirmed(rows[omar_id, 1].id or 0, 42, NOW)])
        deliveries.mark_sent_many(session, confirmed=[Confirmed(rows[lena_id, 0].id or 0, 43, NOW)])
        deliveries.mark_unreachable(session, staff_id=pat.id or 0, error="blocked")
        assert checkins.live_rolls_pending(session, round_id=round_id)  # Lena's second part
        deliveries.mark_sent_many(session, confirmed=[Confirmed(rows[lena_id, 1].id or 0, 44, NOW)])
        assert not checkins.live_rolls_pending(session, round_id=round_id)
        checkins.set_report(session, round_id=round_id, chat_id=7, message_id=8)
        session.refresh(rollcall)
        assert checkins.report_targets(session, rollcall=rollcall) == [
            (7, 8),
            (omar.chat_id, 41),
            (lena.chat_id, 43),
        ]
        other = _round(session, country="GE")
        assert checkins.live_rounds(session) == [rollcall, other]
        checkins.close_report(session, round_id=round_id)
        assert checkins.live_rounds(session) == [other]
        checkins.set_report(session, round_id=round_id, chat_id=7, message_id=9)
        assert checkins.live_rounds(session) == [rollcall, other]


def test_the_roll_shows_the_answer_location_before_one_shared_during_the_round(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        sam, nina, sid = (_person(session, n) for n in ("Sam", "Nina", "Sid"))
        rollcall = _round(session)
        members = _ask(session, rollcall, [sam, nina, sid])
        checkins.link_deliveries(session, round_id=rollcall.id or 0)
        for person, minutes in ((sam, 1), (nina, 1), (sid, 0)):
            checkins.record_checkin(
                session,
                staff_id=person.id or 0,
                kind=CheckInKind.LOCATION,
                note=None,
                location=(float(minutes), 5.0),
                now=NOW + timedelta(minutes=minutes),
            )
        _answer(session, members[sam.id or 0], Answer.SAFE, 2, location=(9.0, 9.0))
        _answer(session, members[nina.id or 0], Answer.HELP, 2)
        entries = checkins.roll_entries(session, rollcall=rollcall)
    assert [(e.name, e.answer, e.location, e.answered_at) for e in entries] == [
        ("Sam", "safe", (9.0, 9.0), NOW + timedelta(minutes=2)),
        ("Nina", "help", (1.0, 5.0), NOW + timedelta(minutes=2)),
        ("Sid", None, (0.0, 5.0), None),  # shared at the very start of the round
    ]
    assert [(e.username, e.delivery, e.reachable, e.late, e.note) for e in entries] == [
        ("sam", "pending", True, False, None),
        ("nina", "pending", True, False, None),
        ("sid", "pending", True, False, None),
    ]


def test_the_last_location_is_the_latest_from_check_ins_and_answers(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        staff_id = sam.id or 0
        rollcall = _round(session)
        members = _ask(session, rollcall, [sam])
        checkins.record_checkin(
            session,
            staff_id=staff_id,
            kind=CheckInKind.LOCATION,
            note=None,
            location=(1.0, 1.0),
            now=NOW + timedelta(minutes=5),
        )
        _answer(session, members[staff_id], Answer.SAFE, 3, location=(2.0, 2.0))
        found = checkins.last_location(session, staff_id=staff_id)
        assert found is not None and (found.latitude, found.longitude, found.at) == (
            1.0,
            1.0,
            NOW + timedelta(minutes=5),
        )
        _answer(session, members[staff_id], Answer.SAFE, 5, location=(3.0, 3.0))
        found = checkins.last_location(session, staff_id=staff_id)
        assert found is not None and (found.latitude, found.longitude) == (3.0, 3.0)
        assert checkins.last_location(session, staff_id=staff_id + 1000) is None


def test_a_round_shows_the_latest_place_each_person_gave_since_it_began(engine: Engine) -> None:
    """A check-in's place, an answer's in another round, or the newest position of a
    live location, from the round's start on; and the last place anyone gave at all."""
    with session_scope(engine) as session:
        sam, nina, omar, ada = (_person(session, n) for n in ("Sam", "Nina", "Omar", "Ada"))
        # Omar answers Georgia's round, with his place, as Kazakhstan's begins.
        georgia = a_round(session, "GE", now=NOW - timedelta(hours=1))
        in_georgia = _ask(session, georgia, [omar])
        _answer(session, in_georgia[omar.id or 0], Answer.SAFE, 0, location=(3.0, 3.0))
        kazakhstan = _round(session)
        _ask(session, kazakhstan, [sam, nina, omar, ada])
        checkins.record_checkin(
            session,
            staff_id=sam.id or 0,
            kind=CheckInKind.LOCATION,
            note=None,
            location=(1.0, 1.0),
            now=NOW + timedelta(minutes=5),
        )
        # Sam shares his live location after that; Nina's was last seen as the round began;
        # Ada's an instant before.
        for person, place, at in (
            (sam, (5.0, 5.0), NOW + timedelta(minutes=10)),
            (nina, (4.0, 4.0), NOW),
            (ada, (6.0, 6.0), NOW - timedelta(seconds=1)),
        ):
            whereabouts.record_location(
                session,
                staff_id=person.id or 0,
                latitude=place[0],
                longitude=place[1],
                country="KZ",
                city=None,
                zone=None,
                now=at,
            )
        entries = checkins.roll_entries(session, rollcall=kazakhstan)
        assert {e.staff_id: e.location for e in entries} == {
            sam.id: (5.0, 5.0),
            nina.id: (4.0, 4.0),
            omar.id: (3.0, 3.0),
            ada.id: None,
        }
        found = checkins.last_location(session, staff_id=sam.id or 0)
        assert found is not None and (found.latitude, found.longitude, found.at) == (
            5.0,
            5.0,
            NOW + timedelta(minutes=10),
        )


def test_help_is_outstanding_until_a_later_safe_check_in_or_answer(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        staff_id = sam.id or 0
        rollcall = _round(session)
        members = _ask(session, rollcall, [sam])
        _answer(session, members[staff_id], Answer.HELP, 1)
        assert checkins.help_since(session, staff_id=staff_id, since=NOW)
        assert checkins.help_since(session, staff_id=staff_id, since=NOW + timedelta(minutes=1))
        assert not checkins.help_since(session, staff_id=staff_id, since=NOW + timedelta(minutes=2))
        checkins.record_checkin(
            session,
            staff_id=staff_id,
            kind=CheckInKind.SAFE,
            note=None,
            location=None,
            now=NOW + timedelta(minutes=2),
        )
        assert not checkins.help_since(session, staff_id=staff_id, since=NOW)
        checkins.record_checkin(
            session,
            staff_id=staff_id,
            kind=CheckInKind.LOCATION,
            note=None,
            location=(1.0, 1.0),
            now=NOW + timedelta(minutes=3),
        )
        assert not checkins.help_since(session, staff_id=staff_id, since=NOW)
        checkins.record_checkin(
            session,
            staff_id=staff_id,
            kind=CheckInKind.HELP,
            note=None,
            location=None,
            now=NOW + timedelta(minutes=4),
        )
        assert checkins.help_since(session, staff_id=staff_id, since=NOW)
        _answer(session, members[staff_id], Answer.SAFE, 5)
        assert not checkins.help_since(session, staff_id=staff_id, since=NOW)


def test_only_the_persons_own_call_for_help_counts_from_the_instant_given(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, nina = _person(session, "Sam"), _person(session, "Nina")
        members = _ask(session, _round(session), [sam, nina])
        sam_id, nina_id = sam.id or 0, nina.id or 0
        checkins.record_checkin(
            session, staff_id=nina_id, kind=CheckInKind.HELP, note=None, location=None, now=NOW
        )
        _answer(session, members[nina_id], Answer.HELP, 0)
        # Nina's calls for help say nothing about Sam.
        assert checkins.help_since(session, staff_id=nina_id, since=NOW)
        assert not checkins.help_since(session, staff_id=sam_id, since=NOW)
        # Sam's own, pressed exactly at `since`, counts; then his /safe a minute later wins.
        _answer(session, members[sam_id], Answer.HELP, 0)
        assert checkins.help_since(session, staff_id=sam_id, since=NOW)
        checkins.record_checkin(
            session,
            staff_id=sam_id,
            kind=CheckInKind.SAFE,
            note=None,
            location=None,
            now=NOW + timedelta(minutes=1),
        )
        assert not checkins.help_since(session, staff_id=sam_id, since=NOW)
        # Help pressed again after that /safe: the newest of the two kinds of answer wins.
        _answer(session, members[sam_id], Answer.HELP, 2)
        assert checkins.help_since(session, staff_id=sam_id, since=NOW)


def test_a_round_reminds_only_its_own_members_once_each(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = [_person(session, name) for name in ("Sam", "Nina", "Omar")]
        kz, ge = _round(session, "KZ"), _round(session, "GE")
        for rollcall, asked in ((kz, people[:2]), (ge, people[2:])):
            _ask(session, rollcall, asked)
            checkins.link_deliveries(session, round_id=rollcall.id or 0)
        for row in deliveries.claim_due(session, now=NOW, limit=10):
            deliveries.mark_sent_many(
                session, confirmed=[Confirmed(delivery_id=row.id, message_id=1, at=NOW)]
            )
        for rollcall, asked in ((kz, people[:2]), (ge, people[2:])):
            reminded = checkins.to_remind(session, round_id=rollcall.id or 0)
            assert sorted(staff_id for _, staff_id, _ in reminded) == sorted(
                p.id or 0 for p in asked
            )
