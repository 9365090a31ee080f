"""Drills about the bot hearing from Telegram, on the real `dutybot run` process:

- token: the token is revoked while the bot polls; it must exit with status 78 and one
  line, and the time from the revocation to the exit is printed.
- deaf: getUpdates answers 404 for two minutes while a staff member sends /help_me; the
  bot must recover and pass the help on to the lead, and /healthz must answer 503 while
  it hears nothing and 200 after. Prints how long each took and the log lines it made.

The scenarios are those of tests/bot/test_listening_process.py (tests/listening.py), at
full length: the bot's backoff ceiling (10 s) and /healthz's threshold (90 s) are
left at their defaults.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.drills import DrillFailed, Report, realistic_telegram, sqlite_workspace
from bot.cli import EXIT_TOKEN_REJECTED
from bot.sim.telegram.server import FakeTelegram
from tests.listening import REJECTED, BotRun, deaf_for_a_while, token_rejected

DEAF_SECONDS = 120.0
# Over 90 s the bot is unhealthy; a 120 s outage leaves /healthz 30 s to say so.
DEAF_SILENCE_SECONDS = 90.0


def _keep_log(run: BotRun, drill: str) -> None:
    """Keep the bot's log where the other drills keep theirs."""
    kept = Path(tempfile.gettempdir()) / f"dutybot-drill-{drill}.log"
    kept.write_bytes(run.stderr_path.read_bytes())


def _no_token(output: bytes) -> bool:
    return not any(
        part.encode() in output
        for part in (FakeTelegram.TOKEN, FakeTelegram.TOKEN.partition(":")[2])
    )


def drill_token(_people: int) -> list[str]:
    lines = Report()
    with sqlite_workspace() as (folder, url, _engine), realistic_telegram() as fake:
        run = BotRun(fake, url, folder)
        rejection = token_rejected(run, mid_run=True)
        _keep_log(run, "token")
    said = [line for line in rejection.log_lines_after if REJECTED in line]
    if rejection.exit_code != EXIT_TOKEN_REJECTED:
        raise DrillFailed(f"exit status {rejection.exit_code}, not {EXIT_TOKEN_REJECTED}")
    if len(said) != 1:
        raise DrillFailed(f"{len(said)} lines about the rejected token")
    if not _no_token(rejection.output):
        raise DrillFailed("the token is in what the bot wrote")
    lines.extend(
        [
            f"exit status {rejection.exit_code} "
            f"{rejection.seconds_to_exit:.1f} s after the token was revoked",
            f"said once: {said[0][:140]}",
            f"lines written from the revocation to the exit: {len(rejection.log_lines_after)}; "
            "the token in none of them",
        ]
    )
    return lines


def drill_deaf(_people: int) -> list[str]:
    lines = Report()
    with sqlite_workspace() as (folder, url, engine), realistic_telegram() as fake:
        run = BotRun(
            fake,
            url,
            folder,
            env={"HEALTH_TELEGRAM_SILENCE_SECONDS": str(DEAF_SILENCE_SECONDS)},
        )
        try:
            deaf = deaf_for_a_while(run, engine, outage_seconds=DEAF_SECONDS)
        except TimeoutError as error:
            raise DrillFailed(str(error)) from None
        finally:
            run.stop()
            _keep_log(run, "deaf")
    if not deaf.help_reached_lead:
        raise DrillFailed("the /help_me sent during the outage did not reach the lead")
    if len(deaf.failing_lines) != 1 or len(deaf.again_lines) != 1:
        raise DrillFailed(
            f"the outage was logged {len(deaf.failing_lines)} times, its end "
            f"{len(deaf.again_lines)} times"
        )
    lines.extend(
        [
            f"getUpdates answered 404 for {deaf.outage_seconds:.0f} s",
            f"/healthz answered 503 {deaf.unhealthy_after:.0f} s into it "
            f"(threshold {DEAF_SILENCE_SECONDS:.0f} s) and 200 again "
            f"{deaf.healthy_after:.1f} s after it ended",
            f"the /help_me sent during it reached the lead {deaf.recovered_after:.1f} s "
            "after it ended",
            f"log lines about it: {deaf.about_it} (tracebacks: {deaf.tracebacks}):",
            f"  {deaf.failing_lines[0].split(': ', 1)[-1][:110]}",
            f"  {deaf.again_lines[0].split(': ', 1)[-1][:110]}",
        ]
    )
    return lines
