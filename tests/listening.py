"""Scenarios about the bot hearing from Telegram, run on the real `dutybot run` process
against the simulated Bot API: a token rejected at start-up or mid-run, getUpdates (or
getMe) answering 404 for a while. tests/bot/test_listening_process.py runs them in
seconds, `make drill` (benchmarks/listening.py) for minutes, and both read the figures
they return."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from bot.sim.telegram.server import FakeTelegram
from db import leads, staff, subscriptions
from db.engine import session_scope
from db.models import Role
from tests.harness import free_ports

ROOT = Path(__file__).resolve().parents[1]
LEAD_ID = 4_100_000_001
STAFF_ID = 6_100_000_001
REJECTED = "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)"
# What the bot logs when it stops hearing from Telegram, and when it hears again.
FAILING = "not hearing from Telegram"
AGAIN = "hearing from Telegram again after"


def wait_until(what: str, predicate: Callable[[], bool], timeout: float) -> float:
    """Poll `predicate` until it holds; returns when (time.monotonic())."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic()


@dataclass
class BotRun:
    """`python -m bot run` against `fake`, its stdout and stderr kept, byte for byte."""

    fake: FakeTelegram
    database_url: str
    folder: Path
    log_format: str = "text"
    env: dict[str, str] = field(default_factory=dict)
    health_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def stdout_path(self) -> Path:
        return self.folder / "bot.stdout"

    @property
    def stderr_path(self) -> Path:
        return self.folder / "bot.stderr"

    @property
    def healthz(self) -> str:
        return f"http://127.0.0.1:{self.health_port}/healthz"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # A second process would leave the first polling, unseen, until the machine stops.
            raise RuntimeError("this bot is running already")
        if not self.health_port:
            (self.health_port,) = free_ports(1)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HEALTH_"))},
            "TELEGRAM_BOT_TOKEN": FakeTelegram.TOKEN,
            "TELEGRAM_BASE_URL": self.fake.base_url,
            "DATABASE_URL": self.database_url,
            "FEEDS_ENABLED": "false",
            "HEALTH_PORT": str(self.health_port),
            "LOG_FORMAT": self.log_format,
            "PYTHONPATH": str(ROOT),
            **self.env,
        }
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.folder,
                env=env,
                stdout=out,
                stderr=err,
            )

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not stop; its exit status (None if killed)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return None

    def output(self) -> bytes:
        """Every byte the process wrote, stdout then stderr."""
        return self.stdout_path.read_bytes() + self.stderr_path.read_bytes()

    def lines(self, pattern: str = "") -> list[str]:
        """The lines of stderr (the log) that match `pattern`."""
        regex = re.compile(pattern)
        text = self.stderr_path.read_text("utf-8", errors="replace")
        return [line for line in text.splitlines() if regex.search(line)]

    def health(self) -> int | None:
        """The status /healthz answers, or None when nothing answers yet."""
        try:
            return httpx.get(self.healthz, timeout=5).status_code
        except httpx.HTTPError:
            return None


def getupdates_calls(fake: FakeTelegram) -> int:
    with fake._cond:
        return sum(1 for method, _ in fake.calls if method == "getUpdates")


def wait_until_polling(run: BotRun, timeout: float = 60) -> None:
    """Until the bot is up and has long-polled Telegram at least twice."""
    wait_until("the bot to poll", lambda: getupdates_calls(run.fake) >= 2, timeout)


@dataclass(frozen=True)
class Rejection:
    exit_code: int | None
    seconds_to_exit: float  # from the token's revocation (or the start) to the exit
    log_lines_after: list[str]  # what it wrote from the revocation on
    output: bytes


def token_rejected(run: BotRun, *, mid_run: bool, timeout: float = 60) -> Rejection:
    """Revoke the token (before the start, or once the bot polls) and time the exit."""
    if not mid_run:
        run.fake.revoke_token()
        revoked = time.monotonic()
        run.start()
        logged_before = 0
    else:
        if run.process is None:
            run.start()
        wait_until_polling(run, timeout)
        logged_before = len(run.lines())
        run.fake.revoke_token()
        revoked = time.monotonic()
    try:
        code: int | None = run.wait(timeout)
    except subprocess.TimeoutExpired:
        code = run.stop()
    exited = time.monotonic()
    return Rejection(
        exit_code=code,
        seconds_to_exit=exited - revoked,
        log_lines_after=run.lines()[logged_before:],
        output=run.output(),
    )


def enrol_lead_and_staff(engine: Engine) -> None:
    """A lead answering for Kazakhstan and a staff member following it."""
    with session_scope(engine) as session:
        lead = staff.enrol(
            session,
            telegram_user_id=LEAD_ID,
            chat_id=LEAD_ID,
            display_name="Lena Lead",
            username="lena",
            role=Role.LEAD,
        )
        leads.lead(session, staff_id=lead.id or 0, country="KZ")
        person = staff.enrol(
            session,
            telegram_user_id=STAFF_ID,
            chat_id=STAFF_ID,
            display_name="Daniyar",
            username="daniyar",
            role=Role.STAFF,
        )
        subscriptions.subscribe(session, staff_id=person.id or 0, country="KZ")


@dataclass(frozen=True)
class Deafness:
    outage_seconds: float  # how long getUpdates answered 404
    unhealthy_after: float  # from the outage's start to /healthz answering 503
    recovered_after: float  # from the outage's end to the lead getting the /help_me
    healthy_after: float  # from the outage's end to /healthz answering 200 again
    help_reached_lead: bool
    failing_lines: list[str]  # "not hearing from Telegram" lines
    again_lines: list[str]  # "hearing from Telegram again" lines
    about_it: int  # log lines about it: the outage, its end, /healthz failing
    tracebacks: int
    exit_code: int | None


def deaf_for_a_while(run: BotRun, engine: Engine, *, outage_seconds: float) -> Deafness:
    """getUpdates answers 404 for `outage_seconds`; a staff member sends /help_me meanwhile.

    `run.env` should set HEALTH_TELEGRAM_SILENCE_SECONDS well under the outage (and
    TELEGRAM_RETRY_MAX_SECONDS to taste), so that /healthz has time to notice.
    """
    enrol_lead_and_staff(engine)
    run.start()
    wait_until_polling(run)
    wait_until("/healthz to answer 200", lambda: run.health() == 200, 60)
    answered = run.fake.outage_answers
    run.fake.fail_for("getUpdates", outage_seconds, status=404, description="Not Found")
    began = time.monotonic()
    # Once a getUpdates has met the 404 (one already waiting would carry the message).
    wait_until("a getUpdates to fail", lambda: run.fake.outage_answers > answered, 30)
    run.fake.inject_message(STAFF_ID, "/help_me car broke down", first_name="Daniyar")
    unhealthy = wait_until("/healthz to answer 503", lambda: run.health() == 503, outage_seconds)
    if run.fake.messages_to(LEAD_ID):
        raise AssertionError("the lead heard of the /help_me while getUpdates failed")
    ended = wait_until(
        "the outage to end", lambda: not run.fake.in_outage("getUpdates"), outage_seconds + 5
    )
    ended = min(ended, began + outage_seconds)
    reached = wait_until("the lead to hear", lambda: bool(run.fake.messages_to(LEAD_ID)), 120)
    healthy = wait_until("/healthz to answer 200 again", lambda: run.health() == 200, 120)
    help_text = run.fake.messages_to(LEAD_ID)[0].text
    code = run.stop()
    return Deafness(
        outage_seconds=outage_seconds,
        unhealthy_after=unhealthy - began,
        recovered_after=reached - ended,
        healthy_after=healthy - ended,
        help_reached_lead="Daniyar" in help_text and "car broke down" in help_text,
        failing_lines=run.lines(FAILING),
        again_lines=run.lines(AGAIN),
        about_it=len(run.lines(r"Telegram|getUpdates")),
        tracebacks=len(run.lines(r"Traceback")),
        exit_code=code,
    )
