"""Crash safety: SIGKILL the real `dutybot run` process mid-broadcast and start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.broadcasts import staff_message
from bot.sim.telegram.server import FakeTelegram
from db import broadcasts, staff, subscriptions
from db.engine import session_scope
from db.models import AlertStatus, Delivery, DeliveryStatus, Role
from db.types import utcnow

# Runs the dutybot process itself (left out of mutation runs: the mutants live in this one).
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 300


def _start_bot(fake: FakeTelegram, database_url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": FakeTelegram.TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "SEND_RATE_PER_SECOND": "150",
        "HEALTH_PORT": "0",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _queue_broadcast(engine: Engine) -> int:
    now = utcnow()
    with session_scope(engine) as session:
        lead = staff.enrol(
            session,
            telegram_user_id=4_000_000_000,
            chat_id=4_000_000_000,
            display_name="Lena Lead",
            username="lena",
            role=Role.LEAD,
        )
        for n in range(PEOPLE):
            person = staff.enrol(
                session,
                telegram_user_id=6_000_000_000 + n,
                chat_id=6_000_000_000 + n,
                display_name=f"Staff {n}",
                username=None,
                role=Role.STAFF,
            )
            subscriptions.subscribe(session, staff_id=person.id or 0, country="KZ")
        alert = broadcasts.create_draft(
            session, country="KZ", text="Stay indoors", author_staff_id=lead.id or 0, now=now
        )
        assert broadcasts.claim_draft(
            session,
            alert_id=alert.id or 0,
            author_staff_id=lead.id or 0,
            status=AlertStatus.SENT,
            now=now,
        )
        broadcasts.fan_out(session, alert=alert, parts=staff_message(alert, "Lena Lead"), now=now)
        return alert.id or 0


def test_sigkill_mid_broadcast_loses_nothing_and_repeats_nothing_confirmed(
    fake: FakeTelegram, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _queue_broadcast(engine)
    process = _start_bot(fake, database_url, tmp_path)
    try:
        fake.wait_for(lambda f: len(f.sent) >= PEOPLE // 3, timeout=30)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        with session_scope(engine) as session:
            rows = session.exec(select(Delivery)).all()
            confirmed = {r.chat_id for r in rows if r.status == DeliveryStatus.SENT.value}
            in_doubt = {r.chat_id for r in rows if r.status == DeliveryStatus.SENDING.value}
        sent_before_kill = len(fake.sent)
        assert 0 < len(confirmed) < PEOPLE

        process = _start_bot(fake, database_url, tmp_path)
        fake.wait_for(lambda f: len({m.chat_id for m in f.sent}) >= PEOPLE, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                waiting = [
                    r
                    for r in session.exec(select(Delivery)).all()
                    if r.status != DeliveryStatus.SENT.value
                ]
            if not waiting:
                break
            time.sleep(0.1)
        assert not waiting, f"{len(waiting)} deliveries never sent"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()

    copies = Counter(m.chat_id for m in fake.sent)
    staff_chats = {6_000_000_000 + n for n in range(PEOPLE)}
    assert set(copies) == staff_chats  # everyone served; nobody else written to
    duplicated = {chat for chat, n in copies.items() if n > 1}
    # Only a message whose fate was unknown at the kill may arrive twice; never a confirmed one.
    assert not duplicated & confirmed
    assert duplicated <= in_doubt
    assert max(copies.values()) <= 2
    print(
        f"\nkilled after {sent_before_kill} of {PEOPLE} sent: {len(confirmed)} confirmed, "
        f"{len(in_doubt)} in flight, {len(duplicated)} delivered twice"
    )
