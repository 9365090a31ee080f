"""Drill: Telegram cut off during a roll call, as in Kazakhstan in January 2022, on the
real `dutybot run` process with the fake SMS provider.

A lead abroad starts a roll call for Kazakhstan; every message to Telegram fails (502)
for the blackout. Half of the staff gave a mobile number. Each of them must get the
question by SMS once the fallback window has passed, answer "SAFE RCn" by SMS (the drill
plays the provider, posting signed answers to the bot's /sms/inbound), and have the
answer recorded; nobody may get an SMS twice, and nobody without a number gets one.
When Telegram is back every question is delivered there too.

Real time throughout: the 10 minutes of a real blackout are scaled down (60 s by
default, `--blackout-seconds`), and FALLBACK_AFTER_SECONDS with them (300 s of 600 s:
half the blackout), so that the drill stays short; the output says so.
"""

from __future__ import annotations

import socket
import time
from collections import Counter

import httpx
from sqlmodel import col, select

from benchmarks.drills import (
    BotProcess,
    DrillFailed,
    Report,
    realistic_telegram,
    sqlite_workspace,
    wait_until,
)
from benchmarks.people import LEAD_ID, enrol_lead, enrol_staff
from bot.fallback.inbound import twilio_signature
from bot.sim.sms import FakeSmsProvider, sms_provider
from db.checkins import RollCall, RollCallAnswer
from db.engine import session_scope
from db.models import Channel, Delivery, DeliveryKind, DeliveryStatus

REAL_BLACKOUT_SECONDS = 600.0
REAL_FALLBACK_SECONDS = 300.0
BLACKOUT_SECONDS = 60.0
PEOPLE = 100  # a country's staff; half of them gave a mobile number


def _mobile(n: int) -> str:
    return f"+7701{1_000_000 + n:07d}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(engine: object, people: int) -> dict[str, int]:
    """The lead, and `people` staff following Kazakhstan; even ones have a mobile."""
    numbers = {}
    with session_scope(engine) as session:  # type: ignore[arg-type]
        enrol_lead(session)
        for n, person in enumerate(enrol_staff(session, people)):
            if n % 2 == 0:
                person.mobile = _mobile(n)
                session.add(person)
                numbers[person.mobile] = person.id or 0
    return numbers


def _answer_all(sms: FakeSmsProvider, url: str, answered: set[str], code: str) -> int:
    """Every SMS not yet answered gets "SAFE <code>", posted as the provider would."""
    sent = 0
    with httpx.Client(timeout=10) as client:
        for message in list(sms.sent):
            if message.to in answered:
                continue
            form = {"From": message.to, "Body": f"SAFE {code}", "To": sms.from_number}
            signature = twilio_signature(
                sms.auth_token, url, {name: [value] for name, value in form.items()}
            )
            response = client.post(url, data=form, headers={"X-Twilio-Signature": signature})
            if response.status_code != 200:
                raise DrillFailed(f"the bot answered {response.status_code} to a signed SMS")
            answered.add(message.to)
            sent += 1
    return sent


def drill_blackout(people: int, *, blackout_seconds: float = BLACKOUT_SECONDS) -> list[str]:
    people = min(people, PEOPLE)
    scale = blackout_seconds / REAL_BLACKOUT_SECONDS
    fallback_after = REAL_FALLBACK_SECONDS * scale
    lines = Report()
    lines.append(
        f"the real 10-minute blackout is scaled down to {blackout_seconds:.0f} s, and "
        f"FALLBACK_AFTER_SECONDS with it: {fallback_after:.0f} s instead of 300 s; "
        f"{people} staff (a country's, at most {PEOPLE} whatever --people says)"
    )
    with (
        sqlite_workspace() as (folder, url, engine),
        realistic_telegram() as fake,
        sms_provider() as sms,
    ):
        numbers = _seed(engine, people)
        port = _free_port()
        inbound = f"http://127.0.0.1:{port}/sms/inbound"
        bot = BotProcess(
            fake,
            url,
            folder,
            "blackout",
            env={
                "HEALTH_PORT": str(port),
                "FALLBACK_AFTER_SECONDS": str(fallback_after),
                "SMS_API_URL": sms.base_url,
                "SMS_ACCOUNT_SID": sms.account_sid,
                "SMS_AUTH_TOKEN": sms.auth_token,
                "SMS_FROM": sms.from_number,
            },
        )
        bot.start()
        try:
            wait_until(
                "the bot to start polling",
                lambda: any(method == "getUpdates" for method, _ in list(fake.calls)),
                60,
            )
            # Telegram goes dark for everyone the bot writes to; the lead, abroad, can
            # still reach the bot.
            fake.fail_for("sendMessage", blackout_seconds)
            fake.fail_for("editMessageText", blackout_seconds)
            started = time.monotonic()
            fake.inject_message(LEAD_ID, "/checkin KZ Are you safe? Stay indoors.")

            def rollcall_id() -> int | None:
                with session_scope(engine) as session:
                    found = session.exec(select(RollCall.id)).first()
                return found

            wait_until("the roll call to start", lambda: rollcall_id() is not None, 60)
            code = f"RC{rollcall_id()}"
            answered: set[str] = set()
            first_sms: float | None = None
            while len(answered) < len(numbers):
                if time.monotonic() - started > blackout_seconds + 120:
                    raise DrillFailed(f"only {len(sms.sent)} of {len(numbers)} people got an SMS")
                if sms.sent and first_sms is None:
                    first_sms = time.monotonic() - started
                _answer_all(sms, inbound, answered, code)
                time.sleep(0.1)
            last_sms = time.monotonic() - started

            def recorded() -> int:
                with session_scope(engine) as session:
                    return len(
                        session.exec(
                            select(RollCallAnswer.id).where(RollCallAnswer.via == "sms")
                        ).all()
                    )

            wait_until("every SMS answer to be recorded", lambda: recorded() == len(numbers), 60)
            in_blackout = fake.in_outage("sendMessage")
            wait_until(
                "every question to reach Telegram after the blackout",
                lambda: _telegram_questions_sent(engine) == people,
                blackout_seconds + 300,
            )
            back = time.monotonic() - started
        finally:
            bot.stop()
        per_number = Counter(m.to for m in sms.sent)
        twice = [n for n, count in per_number.items() if count > 1]
        strangers = set(per_number) - set(numbers)
        if twice:
            raise DrillFailed(f"{len(twice)} people got the SMS more than once")
        if strangers:
            raise DrillFailed(f"{len(strangers)} SMS went to numbers nobody gave")
        if set(per_number) != set(numbers):
            raise DrillFailed(f"{len(set(numbers) - set(per_number))} people got no SMS")
        with session_scope(engine) as session:
            fallbacks = session.exec(
                select(Delivery.status).where(col(Delivery.channel) == Channel.SMS.value)
            ).all()
        segments = Counter(m.segments for m in sms.sent)
        lines.extend(
            [
                f"{people} staff asked, {len(numbers)} with a mobile number; Telegram down "
                f"{blackout_seconds:.0f} s",
                f"SMS: {len(sms.sent)} sent, each person once ({dict(segments)} by segments); "
                f"the first {first_sms or 0:.1f} s after the roll call started, every one "
                f"answered by {last_sms:.1f} s; {len(fallbacks)} SMS rows, "
                f"{sum(1 for s in fallbacks if s == DeliveryStatus.SENT.value)} sent",
                f"answers by SMS recorded: {recorded()} of {len(numbers)}"
                + (" while Telegram was still down" if in_blackout else ""),
                f"every question also delivered on Telegram {back:.0f} s after the start",
            ]
        )
    return lines


def _telegram_questions_sent(engine: object) -> int:
    with session_scope(engine) as session:  # type: ignore[arg-type]
        return len(
            session.exec(
                select(Delivery.id).where(
                    Delivery.kind == DeliveryKind.ROLLCALL_QUESTION.value,
                    Delivery.channel == Channel.TELEGRAM.value,
                    Delivery.status == DeliveryStatus.SENT.value,
                )
            ).all()
        )
