"""A roll call over more people than one chunk: the first are asked at once, the rest are
queued a chunk at a time, and everyone is asked once, with buttons of their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.rollcall import rules
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import checkins as db
from db import leads, subscriptions
from db.checkins import RollCall, RollCallAnswer
from db.engine import session_scope
from db.models import Alert, AlertKind, Delivery, DeliveryKind, DeliveryStatus, Role, Staff
from tests.harness import MutableClock, RunningBot, person, running_bot, until_recorded


@pytest.fixture
def settings(settings: BotSettings) -> BotSettings:
    return settings.model_copy(update={"fan_out_chunk": 3, "roll_update_seconds": 0.2})


def _questions(session: Session, round_id: int) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery)
            .where(
                Delivery.round_id == round_id,
                Delivery.kind == DeliveryKind.ROLLCALL_QUESTION.value,
            )
            .order_by(col(Delivery.staff_id))
        ).all()
    )


def _following(session: Session, names: list[str], country: str = "KZ") -> list[Staff]:
    people = [person(session, name) for name in names]
    for someone in people:
        subscriptions.subscribe(session, staff_id=someone.id or 0, country=country)
    return people


async def test_everyone_is_asked_once_with_buttons_of_their_own(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    otto = bot.enrol("Otto Lead", role=Role.LEAD, answers_for=("KZ",))
    people = [bot.enrol(f"Staff {n}", countries=("KZ",)) for n in range(8)]

    reply = await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe? 2h")
    assert "no answer: 8" in reply
    await bot.fake.await_for(lambda f: all(f.messages_to(p.chat_id) for p in people), timeout=30)
    # The other lead's live roll comes once everyone has been asked.
    await bot.fake.await_for(lambda f: bool(f.messages_to(otto.chat_id)), timeout=30)
    await until_recorded(bot.engine)
    assert all(len(bot.fake.messages_to(p.chat_id)) == 1 for p in people)
    assert len(bot.fake.messages_to(otto.chat_id)) == 1
    assert "no answer: 8" in bot.fake.messages_to(otto.chat_id)[0].text

    # Each press is recorded for the person who pressed, whichever chunk asked them.
    last = people[-1]
    (question,) = bot.fake.messages_to(last.chat_id)
    assert question.reply_markup is not None
    labels = {
        b["text"]: b["callback_data"]
        for row in question.reply_markup["inline_keyboard"]
        for b in row
    }
    bot.press(
        last.telegram_user_id,
        chat_id=last.chat_id,
        message_id=question.message_id,
        data=labels["I'm safe"],
    )
    await bot.fake.await_for(lambda f: bool(f.callback_answers), timeout=30)
    with session_scope(bot.engine) as session:
        rollcall = session.exec(select(RollCall)).one()
        assert rollcall.queue_after is None
        (answer,) = session.exec(select(RollCallAnswer)).all()
        member = session.get(db.RollCallMember, answer.member_id)
        assert member is not None and member.staff_id == last.id
        # Every member is tied to their own question.
        questions = {q.id: q.staff_id for q in _questions(session, rollcall.id or 0)}
        members = session.exec(
            select(db.RollCallMember).where(db.RollCallMember.round_id == rollcall.id)
        ).all()
        assert {m.staff_id: questions[m.delivery_id or 0] for m in members} == {
            m.staff_id: m.staff_id for m in members
        }


def test_a_round_is_queued_a_chunk_at_a_time_from_where_it_stopped(engine: Engine) -> None:
    clock = MutableClock()
    with session_scope(engine) as session:
        lena = person(session, "Lena", Role.LEAD)
        otto = person(session, "Otto", Role.LEAD)
        for lead in (lena, otto):
            db_lead(session, lead, "KZ")
        people = _following(session, [f"Staff {n}" for n in range(7)])
        rollcall = _start(session, lena, clock, chunk=3)
        round_id = rollcall.id or 0
        asked = _questions(session, round_id)
        # The first chunk, in staff order; the round remembers the last person asked.
        assert [q.staff_id for q in asked] == [p.id for p in people[:3]]
        assert rollcall.queue_after == people[2].id
        # Everyone is a member already: the roll counts the rest as being asked.
        entries = db.roll_entries(session, rollcall=rollcall)
        assert len(entries) == 7
        assert sum(e.being_sent for e in entries) == 7
        assert not _live_rolls(session, round_id)

    # A restart carries on from the round's place: nobody twice, nobody left out.
    with session_scope(engine) as session:
        assert db.rounds_queueing(session) == [round_id]
        assert not rules.continue_round(session, round_id=round_id, now=clock(), chunk=3)
    with session_scope(engine) as session:
        assert rules.continue_round(session, round_id=round_id, now=clock(), chunk=3)
        assert db.rounds_queueing(session) == []
        asked = _questions(session, round_id)
        assert [q.staff_id for q in asked] == [p.id for p in people]
        assert {q.status for q in asked} == {DeliveryStatus.PENDING.value}
        # The other lead's live roll is queued once everyone is asked, and only once.
        assert [d.staff_id for d in _live_rolls(session, round_id)] == [otto.id]
        assert rules.continue_round(session, round_id=round_id, now=clock(), chunk=3)
        assert len(_questions(session, round_id)) == 7
        assert len(_live_rolls(session, round_id)) == 1


def test_a_departure_advisorys_round_asks_a_first_chunk_of_the_configured_size(
    engine: Engine, settings: BotSettings
) -> None:
    clock = MutableClock()
    with session_scope(engine) as session:
        people = _following(session, [f"Staff {n}" for n in range(5)])
        alert = Alert(kind=AlertKind.DEPARTURE.value, country="KZ", title="Leave Kazakhstan")
        session.add(alert)
        session.flush()
        round_id = rules.start_automatic_round(
            session, alert_id=alert.id or 0, country="KZ", now=clock(), settings=settings
        )
        assert round_id is not None
        # FAN_OUT_CHUNK is 3 here: the rest are queued by the fan-out, 3 at a time.
        assert [q.staff_id for q in _questions(session, round_id)] == [p.id for p in people[:3]]
        assert db.rounds_queueing(session) == [round_id]


def test_a_leads_checkin_asks_a_first_chunk_of_the_configured_size(
    engine: Engine, settings: BotSettings
) -> None:
    clock = MutableClock()
    with session_scope(engine) as session:
        lena = person(session, "Lena", Role.LEAD)
        db_lead(session, lena, "KZ")
        people = _following(session, [f"Staff {n}" for n in range(5)])
        rollcall = rules.start_checkin(
            session, raw="KZ Are you safe? 2h", person=lena, now=clock(), settings=settings
        )
        # FAN_OUT_CHUNK is 3 here, as for a departure advisory's round.
        asked = _questions(session, rollcall.id or 0)
        assert [q.staff_id for q in asked] == [p.id for p in people[:3]]


def test_a_round_closed_while_queueing_asks_nobody_else(engine: Engine) -> None:
    clock = MutableClock()
    with session_scope(engine) as session:
        lena = person(session, "Lena", Role.LEAD)
        db_lead(session, lena, "KZ")
        _following(session, [f"Staff {n}" for n in range(5)])
        rollcall = _start(session, lena, clock, chunk=2)
        round_id = rollcall.id or 0
        assert db.end_round(session, round_id=round_id, by_staff_id=lena.id, now=clock())
    with session_scope(engine) as session:
        assert rules.continue_round(session, round_id=round_id, now=clock(), chunk=2)
        assert len(_questions(session, round_id)) == 2
        assert db.rounds_queueing(session) == []


def test_those_who_cannot_be_reached_are_counted_not_sent(engine: Engine) -> None:
    clock = MutableClock()
    with session_scope(engine) as session:
        lena = person(session, "Lena", Role.LEAD)
        db_lead(session, lena, "KZ")
        people = _following(session, [f"Staff {n}" for n in range(4)])
        people[1].reachable = False
        people[3].reachable = False
        session.flush()
        rollcall = _start(session, lena, clock, chunk=10)
        statuses = {q.staff_id: q.status for q in _questions(session, rollcall.id or 0)}
        assert statuses == {
            people[0].id: DeliveryStatus.PENDING.value,
            people[1].id: DeliveryStatus.UNREACHABLE.value,
            people[2].id: DeliveryStatus.PENDING.value,
            people[3].id: DeliveryStatus.UNREACHABLE.value,
        }
        assert rollcall.queue_after is None


async def test_a_round_cut_short_by_a_crash_is_finished_at_the_next_start(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    with session_scope(engine) as session:
        lena = person(session, "Lena", Role.LEAD)
        db_lead(session, lena, "KZ")
        people = _following(session, [f"Staff {n}" for n in range(8)])
        rollcall = _start(session, lena, clock, chunk=3)
        assert rollcall.queue_after is not None
    async with running_bot(settings, engine=engine, fake=fake, clock=clock):
        await fake.await_for(lambda f: all(f.messages_to(p.chat_id) for p in people), timeout=30)
        await until_recorded(engine)
    assert all(len(fake.messages_to(p.chat_id)) == 1 for p in people)
    with session_scope(engine) as session:
        assert db.rounds_queueing(session) == []


def _start(session: Session, lead: Staff, clock: MutableClock, *, chunk: int) -> RollCall:
    """`lead` asks Kazakhstan "Are you safe?", queueing `chunk` people at a time."""
    return rules.start_round(
        session,
        country="KZ",
        message="Are you safe?",
        deadline=timedelta(hours=1),
        now=clock(),
        started_by=lead,
        alert_id=None,
        remind_every_minutes=30,
        chunk=chunk,
    )


def _live_rolls(session: Session, round_id: int) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery).where(
                Delivery.round_id == round_id, Delivery.kind == DeliveryKind.LIVE_ROLL.value
            )
        ).all()
    )


def db_lead(session: Session, lead: Staff, country: str) -> None:
    """`lead` answers for `country`, as after /lead."""
    assert leads.lead(session, staff_id=lead.id or 0, country=country)
