"""The real `dutybot run` never stops listening silently: a token Telegram rejects ends it
with one line and exit status 78, at start-up or mid-run; getMe and getUpdates answering
404 for a while are ridden out, logged once each way; and not one byte it writes, in
either log format, holds the token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.cli import EXIT_TOKEN_REJECTED
from bot.sim.telegram.server import FakeTelegram
from tests.bot.test_webhook import webhook_bot
from tests.listening import (
    AGAIN,
    FAILING,
    REJECTED,
    ROOT,
    BotRun,
    deaf_for_a_while,
    token_rejected,
    wait_until,
    wait_until_polling,
)

# Runs the dutybot process itself (left out of mutation runs: the mutants live in this one).
pytestmark = pytest.mark.process

TOKEN_PARTS = (FakeTelegram.TOKEN, FakeTelegram.TOKEN.partition(":")[2])
FAST = {"TELEGRAM_RETRY_MAX_SECONDS": "0.3"}


def _no_token(output: bytes) -> None:
    assert output, "the process wrote nothing"
    for part in TOKEN_PARTS:
        assert part.encode() not in output


def _is_rejection(line: str, log_format: str) -> bool:
    if log_format == "json":
        record = json.loads(line)
        return bool(record["level"] == "CRITICAL" and record["message"].startswith(REJECTED))
    return line.startswith(f"dutybot: {REJECTED}")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_404s_are_ridden_out_then_a_revoked_token_ends_the_run_with_one_line(
    log_format: str, fake: FakeTelegram, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    # A Bot API server behind a proxy that answers 404 for a while: at start-up, then mid-run.
    fake.fail_next("getMe", status=404, description="Not Found", count=3)
    run = BotRun(fake, database_url, tmp_path, log_format=log_format, env=FAST)
    run.start()
    try:
        wait_until_polling(run)
        fake.fail_next("getUpdates", status=404, description="Not Found", count=4)
        wait_until("the bot to poll past the 404s", lambda: len(run.lines(AGAIN)) >= 2, 60)
    except BaseException:
        run.stop()
        raise
    failing, again = run.lines(FAILING), run.lines(AGAIN)
    assert len(failing) == 2 and len(again) == 2, run.lines()
    assert "getMe failed (404 Not Found)" in failing[0]
    assert "getUpdates failed (404 Not Found)" in failing[1]
    assert "(3 attempts failed)" in again[0] and "(4 attempts failed)" in again[1]
    assert run.process is not None and run.process.poll() is None  # still running

    try:
        rejection = token_rejected(run, mid_run=True)
    finally:
        run.stop()
    assert rejection.exit_code == EXIT_TOKEN_REJECTED
    said = [line for line in rejection.log_lines_after if REJECTED in line]
    assert len(said) == 1 and _is_rejection(said[0], log_format), rejection.log_lines_after
    assert run.lines(r"Traceback|Invalid token|Aborting") == []
    if log_format == "json":
        for line in run.lines():
            json.loads(line)  # every line is one JSON object
    _no_token(rejection.output)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_token_rejected_at_start_up_ends_it_with_one_line(
    log_format: str, fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    run = BotRun(fake, database_url, tmp_path, log_format=log_format)
    rejection = token_rejected(run, mid_run=False)
    assert rejection.exit_code == EXIT_TOKEN_REJECTED
    said = [line for line in run.lines() if REJECTED in line]
    assert len(said) == 1 and _is_rejection(said[0], log_format)
    assert said[0] == run.lines()[-1]  # the last word
    assert run.lines(r"Traceback|Invalid token|Aborting|Dutybot is up") == []
    assert [m for m, _ in fake.calls] == ["getMe"]  # asked once, then stopped
    _no_token(rejection.output)


def test_getupdates_404_for_a_while_the_bot_recovers_and_healthz_tells(
    fake: FakeTelegram, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = {**FAST, "HEALTH_TELEGRAM_SILENCE_SECONDS": "1.5"}
    run = BotRun(fake, database_url, tmp_path, env=env)
    try:
        deaf = deaf_for_a_while(run, engine, outage_seconds=6)
    finally:
        run.stop()
    assert deaf.help_reached_lead
    assert 1.5 <= deaf.unhealthy_after < deaf.outage_seconds
    assert deaf.recovered_after < 10 and deaf.healthy_after < 10
    (failing,) = deaf.failing_lines
    assert "getUpdates failed (404 Not Found)" in failing
    assert len(deaf.again_lines) == 1
    # The outage, /healthz going bad (it names the outage), the recovery: once each.
    assert deaf.about_it == 3 and deaf.tracebacks == 0
    assert deaf.exit_code == 0
    _no_token(run.output())


def test_webhook_mode_reports_what_getwebhookinfo_says(
    fake: FakeTelegram, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    fake.webhook_delivery_failed("Wrong response from the webhook: 502 Bad Gateway", at=1709294400)
    with webhook_bot(fake, database_url, tmp_path, tmp_path / "bot.log") as (_webhook, healthz):
        # The first check runs as the bot starts; until then the report says it has not run.
        wait_until(
            "the first getWebhookInfo",
            lambda: httpx.get(healthz, timeout=10).json()["telegram"]["webhook"] is not None,
            60,
        )
        response = httpx.get(healthz, timeout=10)
    assert response.status_code == 200
    telegram = response.json()["telegram"]
    assert telegram["heard_by"] in ("getWebhookInfo", "update")
    assert telegram["webhook"] == {
        "checked_at": telegram["webhook"]["checked_at"],
        "pending_update_count": 0,
        "last_error_date": "2024-03-01T12:00:00+00:00",
        "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
    }
    log = (tmp_path / "bot.log").read_text()
    assert log.count("Telegram could not deliver an update to the webhook") == 1


def test_what_python_would_print_by_itself_goes_through_the_masking_log(tmp_path: Path) -> None:
    script = f"""
import asyncio, threading, warnings
from bot.logs import configure_logging, log_loop_exception, redact
TOKEN = {FakeTelegram.TOKEN!r}
configure_logging("json")
redact([TOKEN, TOKEN.partition(":")[2]])
warnings.warn("calling bot" + TOKEN)
thread = threading.Thread(target=lambda: 1 / 0 if TOKEN else None, name="worker")
thread.start()
thread.join()
loop = asyncio.new_event_loop()
loop.set_exception_handler(log_loop_exception)
async def fails():
    raise RuntimeError("loop saw " + TOKEN)
task = loop.create_task(fails())
loop.run_until_complete(asyncio.sleep(0.01))
del task
loop.close()
raise RuntimeError("bot" + TOKEN.partition(":")[2] + " refused")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    _no_token(result.stdout + result.stderr)
    records = [json.loads(line) for line in result.stderr.decode().splitlines()]
    messages = [r["message"] for r in records]
    assert any("calling bot[redacted]" in m for m in messages)  # a warning
    assert "uncaught exception in worker" in messages
    assert any(m.startswith("Task exception was never retrieved") for m in messages)
    assert messages[-1] == "uncaught exception"
    assert "bot[redacted] refused" in records[-1]["exc_info"]
