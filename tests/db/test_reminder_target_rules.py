"""Who a roll call reminds, and which rounds' live rolls a person's answer updates, on the
real database (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import checkins, deliveries
from db.checkins import Answer, RollCall, RollCallMember
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Channel, DeliveryKind, DeliveryStatus, Priority, Staff
from tests.harness import a_round, person

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _round(session: Session, country: str) -> RollCall:
    return a_round(session, country, now=NOW)


def _ask(
    session: Session, rollcall: RollCall, asked: dict[str, tuple[Staff, DeliveryStatus]]
) -> dict[str, RollCallMember]:
    """Ask each person, their question on Telegram left in the given state; their members."""
    round_id = rollcall.id or 0
    ids = checkins.add_members(
        session, round_id=round_id, staff_ids=[p.id or 0 for p, _ in asked.values()]
    )
    for someone, status in asked.values():
        deliveries.enqueue(
            session,
            kind=DeliveryKind.ROLLCALL_QUESTION,
            dedupe_key=checkins.question_key(round_id),
            round_id=round_id,
            recipients=[Recipient(someone.id or 0, someone.chat_id)],
            parts=["Are you safe?"],
            priority=Priority.CRITICAL,
            now=NOW,
            status=status,
        )
    checkins.link_deliveries(session, round_id=round_id)
    members = {}
    for name, (someone, _) in asked.items():
        member = session.get(RollCallMember, ids[someone.id or 0])
        assert member is not None and member.delivery_id is not None
        members[name] = member
    return members


def _by_sms(session: Session, member: RollCallMember, who: Staff, status: DeliveryStatus) -> None:
    """The member's question copied to SMS, that copy left in the given state."""
    deliveries.enqueue(
        session,
        kind=DeliveryKind.ROLLCALL_QUESTION,
        dedupe_key=f"sms-copy:{member.delivery_id}",
        round_id=member.round_id,
        recipients=[Recipient(who.id or 0, who.chat_id)],
        parts=["Are you safe?"],
        priority=Priority.CRITICAL,
        now=NOW,
        status=status,
        channel=Channel.SMS,
        fallback_for_id=member.delivery_id,
    )


def _cut_off(session: Session, *people: Staff) -> None:
    for someone in people:
        someone.reachable = False
        session.add(someone)
    session.flush()


def test_a_reminder_goes_to_exactly_those_who_got_the_question_and_have_not_answered(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        sent, sending, answered, refused, queued = (
            person(session, name) for name in ("Sam", "Sid", "Ann", "Rob", "Pia")
        )
        texted, text_failed, text_waiting, never_texted = (
            person(session, name) for name in ("Tex", "Fay", "Wes", "Nel")
        )
        rollcall = _round(session, "KZ")
        members = _ask(
            session,
            rollcall,
            {
                "sent": (sent, DeliveryStatus.SENT),
                "sending": (sending, DeliveryStatus.SENDING),
                "answered": (answered, DeliveryStatus.SENT),
                "refused": (refused, DeliveryStatus.FAILED),
                "queued": (queued, DeliveryStatus.PENDING),
                "texted": (texted, DeliveryStatus.UNREACHABLE),
                "text failed": (text_failed, DeliveryStatus.UNREACHABLE),
                "text waiting": (text_waiting, DeliveryStatus.UNREACHABLE),
                "never texted": (never_texted, DeliveryStatus.UNREACHABLE),
            },
        )
        _cut_off(session, texted, text_failed, text_waiting, never_texted)
        # Telegram cannot reach four of them; the question reached one by SMS, failed for
        # another and still waits for a third; the fourth has no number.
        _by_sms(session, members["texted"], texted, DeliveryStatus.SENT)
        _by_sms(session, members["text failed"], text_failed, DeliveryStatus.FAILED)
        _by_sms(session, members["text waiting"], text_waiting, DeliveryStatus.PENDING)
        checkins.record_answer(
            session,
            member=members["answered"],
            answer=Answer.SAFE,
            note=None,
            location=None,
            late=False,
            via="button",
            now=NOW + timedelta(minutes=5),
        )
        reminded = checkins.to_remind(session, round_id=rollcall.id or 0)
    assert reminded == [
        (members[name].id, someone.id, someone.chat_id)
        for name, someone in (("sent", sent), ("sending", sending), ("texted", texted))
    ]


def test_an_sms_still_on_its_way_counts_as_got_like_a_telegram_message_being_sent(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        tex, wes = person(session, "Tex"), person(session, "Wes")
        rollcall = _round(session, "KZ")
        members = _ask(
            session,
            rollcall,
            {
                "tex": (tex, DeliveryStatus.UNREACHABLE),
                "wes": (wes, DeliveryStatus.UNREACHABLE),
            },
        )
        _cut_off(session, tex, wes)
        _by_sms(session, members["tex"], tex, DeliveryStatus.SENDING)
        _by_sms(session, members["wes"], wes, DeliveryStatus.UNREACHABLE)
        reminded = checkins.to_remind(session, round_id=rollcall.id or 0)
    assert reminded == [(members["tex"].id, tex.id, tex.chat_id)]


def test_a_reminder_of_one_round_ignores_the_people_and_answers_of_another(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        sam, gia = person(session, "Sam"), person(session, "Gia")
        kz = _round(session, "KZ")
        ge = _round(session, "GE")
        in_kz = _ask(session, kz, {"sam": (sam, DeliveryStatus.SENT)})
        in_ge = _ask(
            session, ge, {"sam": (sam, DeliveryStatus.SENT), "gia": (gia, DeliveryStatus.SENT)}
        )
        checkins.record_answer(
            session,
            member=in_ge["sam"],
            answer=Answer.SAFE,
            note=None,
            location=None,
            late=False,
            via="button",
            now=NOW,
        )
        kz_reminded = checkins.to_remind(session, round_id=kz.id or 0)
        ge_reminded = checkins.to_remind(session, round_id=ge.id or 0)
    assert kz_reminded == [(in_kz["sam"].id, sam.id, sam.chat_id)]
    assert ge_reminded == [(in_ge["gia"].id, gia.id, gia.chat_id)]


def test_the_live_rounds_of_a_person_are_listed_oldest_first(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, nina = person(session, "Sam"), person(session, "Nina")
        first, second, third = _round(session, "KZ"), _round(session, "GE"), _round(session, "AM")
        ids = [r.id or 0 for r in (first, second, third)]
        # Asked in the newest round before the older ones (a round still queueing its
        # question adds people later than one started after it).
        for round_id in reversed(ids):
            checkins.add_members(session, round_id=round_id, staff_ids=[sam.id or 0])
        checkins.add_members(session, round_id=ids[1], staff_ids=[nina.id or 0])
        checkins.close_report(session, round_id=ids[1])
        session.flush()
        sams = checkins.live_rounds_of(session, staff_id=sam.id or 0)
        ninas = checkins.live_rounds_of(session, staff_id=nina.id or 0)
    assert sams == [ids[0], ids[2]]
    assert ninas == []
