"""Several senders on one outbox (db.senders): who takes which chats, and what happens to
the rows of one that is gone. On the real database (SQLite, or PostgreSQL via
TEST_DATABASE_URL); the lease runs on the test's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db import deliveries, senders
from db.engine import session_scope
from db.models import Delivery, DeliveryStatus, Priority, Staff
from db.senders import LEASE, Share
from tests.db.test_deliveries import _people, _queue

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _claim(engine: Engine, share: Share, sender_id: int | None, *, now: datetime = NOW) -> set[int]:
    with session_scope(engine) as session:
        rows = deliveries.claim_due(session, now=now, limit=100, share=share, sender_id=sender_id)
    return {row.chat_id for row in rows}


def _two_senders(
    engine: Engine, count: int, text: str
) -> tuple[list[Staff], tuple[int, Share | None], tuple[int, Share | None]]:
    """`count` people with `text` queued for them, and two senders registered at NOW,
    each with its share as its first heartbeat read it."""
    with session_scope(engine) as session:
        people = _people(session, count)
        _queue(session, people, key=f"alert:{text}", parts=[text], priority=Priority.CRITICAL)
        first = senders.register(session, name="first", now=NOW)
        second = senders.register(session, name="second", now=NOW)
        share_first = senders.heartbeat(session, sender_id=first, now=NOW)
        share_second = senders.heartbeat(session, sender_id=second, now=NOW)
    return people, (first, share_first), (second, share_second)


def test_live_senders_split_the_chats_between_them_and_none_is_claimed_twice(
    engine: Engine,
) -> None:
    people, (first, share_a), (second, share_b) = _two_senders(engine, 12, "Stay indoors")
    assert share_a is not None and share_b is not None
    assert share_a == Share(index=0, count=2)
    assert share_b == Share(index=1, count=2)

    chats_a = _claim(engine, share_a, first)
    chats_b = _claim(engine, share_b, second)
    everyone = {p.chat_id for p in people}
    assert chats_a and chats_b
    assert not chats_a & chats_b
    assert chats_a | chats_b == everyone
    assert all(share_a.owns(chat) and not share_b.owns(chat) for chat in chats_a)
    with session_scope(engine) as session:
        claimed_by = {row.chat_id: row.claimed_by for row in session.exec(select(Delivery)).all()}
    assert {claimed_by[chat] for chat in chats_a} == {first}
    assert {claimed_by[chat] for chat in chats_b} == {second}


def test_a_sender_not_heard_from_for_its_lease_gives_back_its_rows_and_its_share(
    engine: Engine,
) -> None:
    people, (gone, share_gone), (stays, _) = _two_senders(engine, 10, "Leave now")
    assert share_gone is not None
    claimed_by_gone = _claim(engine, share_gone, gone)
    assert claimed_by_gone

    # Still within the lease: the rows stay with the sender that claimed them.
    almost = NOW + LEASE - timedelta(seconds=1)
    with session_scope(engine) as session:
        share = senders.heartbeat(session, sender_id=stays, now=almost)
        assert share == Share(index=1, count=2)
        assert senders.reap(session, now=almost) == 0

    later = NOW + LEASE + timedelta(seconds=1)
    with session_scope(engine) as session:
        share = senders.heartbeat(session, sender_id=stays, now=later)
        assert share == Share(index=0, count=1)
        assert senders.reap(session, now=later) == len(claimed_by_gone)
        statuses = {
            row.chat_id: (row.status, row.claimed_by)
            for row in session.exec(
                select(Delivery).where(col(Delivery.chat_id).in_(claimed_by_gone))
            )
        }
    assert set(statuses.values()) == {(DeliveryStatus.PENDING.value, None)}
    # The one left takes every chat now, those of the one gone included.
    assert _claim(engine, share, stays, now=later) == {p.chat_id for p in people}

    # The sender taken for gone, heard from again, is told to register anew.
    with session_scope(engine) as session:
        assert senders.heartbeat(session, sender_id=gone, now=later) is None


def test_rows_a_live_sender_claimed_are_never_given_back_to_the_queue(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _people(session, 4)
        _queue(session, people, key="alert:3", parts=["Curfew at 23:00"], priority=Priority.HIGH)
        only = senders.register(session, name="only", now=NOW)
    claimed = _claim(engine, Share(index=0, count=1), only)
    assert len(claimed) == 4
    with session_scope(engine) as session:
        senders.heartbeat(session, sender_id=only, now=NOW + LEASE)
        assert senders.reap(session, now=NOW + LEASE) == 0
        assert {r.status for r in session.exec(select(Delivery))} == {DeliveryStatus.SENDING.value}


def test_a_sender_that_stops_gives_its_rows_back_at_the_next_reap(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _people(session, 3)
        _queue(session, people, key="alert:4", parts=["Stay indoors"], priority=Priority.HIGH)
        leaving = senders.register(session, name="leaving", now=NOW)
    assert len(_claim(engine, Share(index=0, count=1), leaving)) == 3
    with session_scope(engine) as session:
        senders.deregister(session, sender_id=leaving)
    with session_scope(engine) as session:
        # Well within what would have been its lease: a sender that said it stopped is gone.
        assert senders.reap(session, now=NOW) == 3


def test_a_429_one_sender_got_holds_every_sender_until_it_ends(engine: Engine) -> None:
    until = NOW + timedelta(seconds=7)
    with session_scope(engine) as session:
        flooded = senders.register(session, name="flooded", now=NOW)
        other = senders.register(session, name="other", now=NOW)
        senders.heartbeat(session, sender_id=flooded, now=NOW, flooded_until=until)
        assert senders.heartbeat(session, sender_id=other, now=NOW) == Share(
            index=1, count=2, flooded_until=until
        )
        # Once that time has passed, nobody waits for it.
        later = NOW + timedelta(seconds=8)
        senders.heartbeat(session, sender_id=flooded, now=later)
        assert senders.heartbeat(session, sender_id=other, now=later) == Share(index=1, count=2)


def test_a_429_to_a_paid_broadcast_holds_every_senders_paid_broadcasts_alone(
    engine: Engine,
) -> None:
    free_until, paid_until = NOW + timedelta(seconds=3), NOW + timedelta(seconds=9)
    with session_scope(engine) as session:
        first = senders.register(session, name="first", now=NOW)
        second = senders.register(session, name="second", now=NOW)
        third = senders.register(session, name="third", now=NOW)
        senders.heartbeat(session, sender_id=first, now=NOW, paid_flooded_until=paid_until)
        assert senders.heartbeat(session, sender_id=third, now=NOW) == Share(
            index=2, count=3, paid_flooded_until=paid_until
        )
        # A later wait for the free rate from another sender: each kind keeps its own.
        senders.heartbeat(session, sender_id=second, now=NOW, flooded_until=free_until)
        assert senders.heartbeat(session, sender_id=third, now=NOW) == Share(
            index=2, count=3, flooded_until=free_until, paid_flooded_until=paid_until
        )
        # The free wait is over, the paid one is not; then neither is.
        at = NOW + timedelta(seconds=4)
        for sender in (first, second):
            senders.heartbeat(session, sender_id=sender, now=at)
        assert senders.heartbeat(session, sender_id=third, now=at) == Share(
            index=2, count=3, paid_flooded_until=paid_until
        )
        for sender in (first, second):
            senders.heartbeat(session, sender_id=sender, now=paid_until)
        assert senders.heartbeat(session, sender_id=third, now=paid_until) == Share(
            index=2, count=3
        )


def test_group_chats_with_negative_ids_are_shared_out_too() -> None:
    shares = [Share(index=i, count=3) for i in range(3)]
    for chat in (-1001234567890, -5, 0, 7, 1234567890123):
        assert sum(share.owns(chat) for share in shares) == 1


def test_a_row_left_sending_by_no_sender_goes_back_at_the_first_reap(engine: Engine) -> None:
    # Claimed by a version of the bot that did not name its sender, before an upgrade.
    with session_scope(engine) as session:
        people = _people(session, 2)
        _queue(session, people, key="alert:5", parts=["Stay indoors"], priority=Priority.HIGH)
    assert len(_claim(engine, Share(index=0, count=1), sender_id=None)) == 2
    with session_scope(engine) as session:
        assert senders.reap(session, now=NOW) == 2
        assert {r.status for r in session.exec(select(Delivery))} == {DeliveryStatus.PENDING.value}
