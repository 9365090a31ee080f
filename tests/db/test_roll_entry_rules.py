"""What a round's roll says of each person, and the queries around it, one rule at a time
(SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db import checkins, deliveries
from db.checkins import Answer, CheckInKind, RollCall, RoundStatus
from db.deliveries import Confirmed, Recipient
from db.engine import session_scope
from db.models import Channel, Delivery, DeliveryKind, DeliveryStatus, Priority, Role, Staff
from tests.harness import a_round, a_trip
from tests.harness import person as _person

NOW = datetime(2022, 1, 5, 18, 0, tzinfo=UTC)


def _ask(
    session: Session,
    rollcall: RollCall,
    people: list[Staff],
    *,
    kind: DeliveryKind = DeliveryKind.ROLLCALL_QUESTION,
    channel: Channel = Channel.TELEGRAM,
) -> None:
    for one in people:
        deliveries.enqueue(
            session,
            kind=kind,
            dedupe_key=f"{checkins.question_key(rollcall.id or 0)}:{kind.value}:{channel.value}",
            round_id=rollcall.id,
            recipients=[Recipient(one.id or 0, one.chat_id)],
            parts=["Are you safe?"],
            priority=Priority.CRITICAL,
            now=NOW,
            channel=channel,
        )


def _rows(session: Session, rollcall: RollCall, channel: Channel) -> dict[int, Delivery]:
    return {
        row.staff_id: row
        for row in session.exec(
            select(Delivery).where(Delivery.round_id == rollcall.id, Delivery.channel == channel)
        )
    }


def test_each_entry_carries_the_person_their_question_and_how_it_reached_them(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        ada, ben, cy, dee, eve = (_person(session, n) for n in ("Ada", "Ben", "Cy", "Dee", "Eve"))
        ada.mobile, ada.email = "+77011234567", "ada@example.org"
        ben.email = "ben@example.org"
        cy.reachable = False
        rollcall = a_round(session, "KZ", now=NOW)
        people = [eve, ada, ben, cy, dee]
        members = checkins.add_members(
            session, round_id=rollcall.id or 0, staff_ids=[p.id or 0 for p in people]
        )
        _ask(session, rollcall, [ada, ben, cy])  # Dee and Eve: not queued yet
        # Ben's question also went by SMS: the member stays tied to the Telegram row.
        _ask(session, rollcall, [ben], channel=Channel.SMS)
        assert checkins.link_deliveries(session, round_id=rollcall.id or 0) == 3
        telegram = _rows(session, rollcall, Channel.TELEGRAM)
        sms = _rows(session, rollcall, Channel.SMS)
        deliveries.mark_sent_many(
            session,
            confirmed=[
                Confirmed(telegram[ada.id or 0].id or 0, 11, NOW, paid=True),
                Confirmed(sms[ben.id or 0].id or 0, 0, NOW),
            ],
        )
        member = checkins.member_with_round(session, member_id=members[ada.id or 0])
        assert member is not None
        checkins.record_answer(
            session,
            member=member[0],
            answer=Answer.SAFE,
            note="at the office",
            location=None,
            late=False,
            via="/safe",
            now=NOW + timedelta(minutes=3),
        )
        entries = {e.name: e for e in checkins.roll_entries(session, rollcall=rollcall)}
        ben_member = checkins.member_with_round(session, member_id=members[ben.id or 0])
        assert ben_member is not None
        assert ben_member[0].delivery_id == telegram[ben.id or 0].id

    assert {
        name: (e.member_id, e.staff_id, e.username, e.telegram_id, e.reachable)
        for name, e in entries.items()
    } == {
        p.display_name: (members[p.id or 0], p.id, p.username, p.telegram_user_id, p is not cy)
        for p in people
    }
    assert {name: (e.delivery, e.paid) for name, e in entries.items()} == {
        "Ada": ("sent", True),
        "Ben": ("pending", False),
        "Cy": ("pending", False),
        "Dee": (None, False),  # the round is not queueing: nothing to say
        "Eve": (None, False),
    }
    assert {name: (e.via, e.reached_by, e.fallback) for name, e in entries.items()} == {
        "Ada": ("/safe", None, ("sms", "email")),
        "Ben": (None, "sms", ("email",)),
        "Cy": (None, None, ()),
        "Dee": (None, None, ()),
        "Eve": (None, None, ()),
    }


def test_reached_by_counts_this_rounds_questions_and_reminders_that_went_out(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        names = ("By SMS", "By e-mail", "Elsewhere", "Failed", "Report", "Reminded")
        sms, email, elsewhere, failed, report, reminded = (_person(session, n) for n in names)
        rollcall = a_round(session, "KZ", now=NOW)
        other = a_round(session, "GE", now=NOW)
        checkins.add_members(
            session,
            round_id=rollcall.id or 0,
            staff_ids=[p.id or 0 for p in (sms, email, elsewhere, failed, report, reminded)],
        )
        _ask(session, rollcall, [sms, failed], channel=Channel.SMS)
        _ask(session, rollcall, [sms, email], channel=Channel.EMAIL)
        _ask(session, other, [elsewhere], channel=Channel.SMS)  # another round's question
        _ask(session, rollcall, [report], kind=DeliveryKind.ROLLCALL_REPORT, channel=Channel.SMS)
        _ask(
            session, rollcall, [reminded], kind=DeliveryKind.ROLLCALL_REMINDER, channel=Channel.SMS
        )
        rows = session.exec(select(Delivery).where(Delivery.channel != Channel.TELEGRAM)).all()
        deliveries.mark_sent_many(
            session,
            confirmed=[Confirmed(r.id or 0, 0, NOW) for r in rows if r.staff_id != failed.id],
        )
        (failed_row,) = [r for r in rows if r.staff_id == failed.id]
        deliveries.mark_failed(session, delivery_id=failed_row.id or 0, error="SMS refused")
        reached = checkins.reached_in_round(session, round_id=rollcall.id or 0)
    assert reached == {sms.id: "sms", email.id: "email", reminded.id: "sms"}


def test_each_member_is_tied_to_this_rounds_question_whatever_was_queued_since(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        rollcall = a_round(session, "KZ", now=NOW)
        other = a_round(session, "GE", now=NOW)
        members = checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=[sam.id or 0])
        _ask(session, rollcall, [sam])
        # Queued after it: another round's question and this round's reminder.
        _ask(session, other, [sam])
        _ask(session, rollcall, [sam], kind=DeliveryKind.ROLLCALL_REMINDER)
        assert checkins.link_deliveries(session, round_id=rollcall.id or 0) == 1
        question = session.exec(
            select(Delivery.id).where(
                Delivery.round_id == rollcall.id,
                Delivery.kind == DeliveryKind.ROLLCALL_QUESTION,
            )
        ).one()
        member = checkins.member_with_round(session, member_id=members[sam.id or 0])
        assert member is not None and member[0].delivery_id == question


def test_a_round_still_queueing_shows_those_not_queued_yet_as_pending(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        rollcall = a_round(session, "KZ", now=NOW)
        rollcall.queue_after = 0
        checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=[sam.id or 0])
        [entry] = checkins.roll_entries(session, rollcall=rollcall)
    assert entry.delivery == DeliveryStatus.PENDING.value and entry.being_sent


def test_on_a_trip_means_there_when_the_round_began(engine: Engine) -> None:
    day, second = timedelta(days=1), timedelta(seconds=1)
    with session_scope(engine) as session:
        names = ("Starts then", "Ends then", "Cut short then", "Cut short after", "Elsewhere")
        starts, ends, cut, cut_later, elsewhere = (_person(session, n) for n in names)
        starts_after = _person(session, "Starts after")
        open_trip = _person(session, "Open")
        not_asked = _person(session, "Not asked")
        a_trip(session, starts, "KZ", starts=NOW, ends=NOW + day)
        a_trip(session, starts_after, "KZ", starts=NOW + second, ends=NOW + day)
        a_trip(session, ends, "KZ", starts=NOW - day, ends=NOW)
        a_trip(session, cut, "KZ", starts=NOW - day, ends=NOW + day, ended=NOW)
        a_trip(session, cut_later, "KZ", starts=NOW - day, ends=NOW + day, ended=NOW + second)
        a_trip(session, elsewhere, "GE", starts=NOW - day, ends=NOW + day)
        a_trip(session, open_trip, "KZ", starts=NOW - day, ends=NOW + day)
        a_trip(session, not_asked, "KZ", starts=NOW - day, ends=NOW + day)
        rollcall = a_round(session, "KZ", now=NOW)
        asked = [starts, starts_after, ends, cut, cut_later, elsewhere, open_trip]
        checkins.add_members(
            session, round_id=rollcall.id or 0, staff_ids=[p.id or 0 for p in asked]
        )
        on_trip = {e.name for e in checkins.roll_entries(session, rollcall=rollcall) if e.on_trip}
    assert on_trip == {"Starts then", "Cut short after", "Open"}


def test_the_next_people_to_ask_are_this_rounds_in_staff_order(engine: Engine) -> None:
    with session_scope(engine) as session:
        a, b, c, d = (_person(session, n) for n in ("A", "B", "C", "D"))
        first = a_round(session, "KZ", now=NOW)
        other = a_round(session, "GE", now=NOW)

        def ids(*people: Staff) -> list[int]:
            return [p.id or 0 for p in people]

        members = checkins.add_members(session, round_id=first.id or 0, staff_ids=ids(c, a, b))
        checkins.add_members(session, round_id=other.id or 0, staff_ids=ids(d))
        asked = checkins.to_ask(session, round_id=first.id or 0, after=0, limit=2)
        assert [(m, p.display_name) for m, p in asked] == [
            (members[a.id or 0], "A"),
            (members[b.id or 0], "B"),
        ]
        rest = checkins.to_ask(session, round_id=first.id or 0, after=b.id or 0, limit=2)
        assert [p.display_name for _, p in rest] == ["C"]


def test_a_new_round_closes_only_that_countrys_rounds_past_their_deadline(engine: Engine) -> None:
    later = NOW + timedelta(hours=5)
    with session_scope(engine) as session:
        kz, ge = a_round(session, "KZ", now=NOW), a_round(session, "GE", now=NOW)
        for rollcall in (kz, ge):
            assert checkins.pass_deadline(session, round_id=rollcall.id or 0, now=later)
        assert checkins.supersede_rounds(session, country="KZ", now=later) == 1
        session.refresh(kz)
        session.refresh(ge)
    assert (kz.status, kz.closed_at, kz.close_reason) == ("closed", later, "superseded")
    assert (ge.status, ge.closed_at) == (RoundStatus.PAST_DEADLINE.value, None)


def test_a_round_keeps_the_reminder_interval_it_was_given(engine: Engine) -> None:
    with session_scope(engine) as session:
        rollcall = a_round(session, "KZ", now=NOW, remind_every_minutes=15)
        found = checkins.by_id(session, round_id=rollcall.id or 0)
        assert found is not None and found.remind_every_minutes == 15


def test_the_latest_answer_is_the_last_one_given(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        rollcall = a_round(session, "KZ", now=NOW)
        members = checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=[sam.id or 0])
        found = checkins.member_with_round(session, member_id=members[sam.id or 0])
        assert found is not None
        for minutes, answer in ((1, Answer.HELP), (2, Answer.SAFE)):
            checkins.record_answer(
                session,
                member=found[0],
                answer=answer,
                note=None,
                location=None,
                late=False,
                via="button",
                now=NOW + timedelta(minutes=minutes),
            )
        latest = checkins.latest_answer(session, member_id=members[sam.id or 0])
        assert latest is not None and (latest.answer, latest.member_id) == (
            "safe",
            members[sam.id or 0],
        )


def test_only_this_rounds_live_rolls_are_its_targets_and_pending(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena, sam = _person(session, "Lena", Role.LEAD), _person(session, "Sam")
        rollcall, other = a_round(session, "KZ", now=NOW), a_round(session, "GE", now=NOW)
        # Another round's live roll, still queued, and this round's question, sent to Lena
        # and still queued for Sam.
        _ask(session, other, [lena], kind=DeliveryKind.LIVE_ROLL)
        _ask(session, rollcall, [lena, sam])
        question = _rows(session, rollcall, Channel.TELEGRAM)[lena.id or 0]
        deliveries.mark_sent_many(session, confirmed=[Confirmed(question.id or 0, 5, NOW)])
        assert not checkins.live_rolls_pending(session, round_id=rollcall.id or 0)
        assert checkins.live_rolls_pending(session, round_id=other.id or 0)
        other_roll = _rows(session, other, Channel.TELEGRAM)[lena.id or 0]
        deliveries.mark_sent_many(session, confirmed=[Confirmed(other_roll.id or 0, 6, NOW)])
        assert checkins.report_targets(session, rollcall=rollcall) == []
        assert checkins.report_targets(session, rollcall=other) == [(lena.chat_id, 6)]


def test_help_counts_from_the_very_instant_given(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        checkins.record_checkin(
            session, staff_id=sam.id or 0, kind=CheckInKind.HELP, note=None, location=None, now=NOW
        )
        assert checkins.help_since(session, staff_id=sam.id or 0, since=NOW)
        assert not checkins.help_since(session, staff_id=sam.id or 0, since=NOW + timedelta(0, 1))
