"""The leads' live rolls: counts edited in place as answers come in, at most every
ROLL_UPDATE_SECONDS and only when the text changed. The cache of what each roll last
showed lives in the application; losing it (a restart) costs one edit per roll."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import cast

from telegram.ext import Application, JobQueue

from bot.context import SERVICES_KEY, Context, Services
from bot.messages import edit_text
from bot.rollcall.texts import live_roll_text
from db import checkins as db
from db.checkins import RollCall, RoundStatus
from db.engine import session_scope

log = logging.getLogger(__name__)

ROLL_JOB = "rollcall-roll:"  # one catch-up edit of one round's live roll


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    return cast(Services, application.bot_data[SERVICES_KEY])


@dataclass
class _Rolls:
    """What the live rolls last showed, to edit only on change and not too often. Losing
    it (a restart) costs one edit per roll."""

    shown: dict[tuple[int, int], str] = field(default_factory=dict)
    last_edit: dict[int, float] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def rolls(application: Application) -> _Rolls:  # type: ignore[type-arg]
    return cast(_Rolls, application.bot_data.setdefault("rollcall_rolls", _Rolls()))


async def refresh_roll(application: Application, round_id: int) -> None:  # type: ignore[type-arg]
    """Edit a round's live rolls to the current counts, at most every ROLL_UPDATE_SECONDS
    and only when the text changed. Closed rounds get a last edit and are then left."""
    svc = services_of(application)
    state = rolls(application)
    async with state.lock:
        since = time.monotonic() - state.last_edit.get(round_id, float("-inf"))
        if since < svc.settings.roll_update_seconds:
            # Edited a moment ago: edit again as soon as the interval is over.
            _plan_trailing_edit(application, round_id, svc.settings.roll_update_seconds - since)
            return
        # Reading and counting thousands of answers takes a while: it runs off the event
        # loop, so that presses and replies go on meanwhile.
        read = await asyncio.to_thread(_read_roll, svc, round_id)
        if read is None:
            return
        rollcall, text, targets, pending = read
        edited = False
        for chat_id, message_id in targets:
            if state.shown.get((chat_id, message_id)) == text:
                continue
            settled = await edit_text(
                application.bot,
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                what=f"roll call {round_id}: live roll",
                extra={"round_id": round_id},
            )
            if not settled:
                continue  # try again on the next tick
            edited = True
            state.shown[(chat_id, message_id)] = text
        if edited:
            state.last_edit[round_id] = time.monotonic()
        if rollcall.status == RoundStatus.CLOSED.value and not pending:
            for target in targets:
                state.shown.pop(target, None)
            state.last_edit.pop(round_id, None)
            with session_scope(svc.engine) as session:
                db.close_report(session, round_id=round_id)


async def refresh_rolls_of(application: Application, staff_id: int) -> None:  # type: ignore[type-arg]
    """Edit the live rolls of every round a person was asked in: what the roll shows
    about them changed outside the round (their call for help was taken or closed)."""
    with session_scope(services_of(application).engine) as session:
        round_ids = db.live_rounds_of(session, staff_id=staff_id)
    for round_id in round_ids:
        await refresh_roll(application, round_id)


def _read_roll(
    svc: Services, round_id: int
) -> tuple[RollCall, str, list[tuple[int, int]], bool] | None:
    """A round's live roll as it stands, where it is shown and whether any of it is still
    being sent; None once its report is done."""
    with session_scope(svc.engine) as session:
        rollcall = db.by_id(session, round_id=round_id)
        if rollcall is None or rollcall.report_done:
            return None
        text = live_roll_text(rollcall, db.roll_entries(session, rollcall=rollcall))
        targets = db.report_targets(session, rollcall=rollcall)
        pending = db.live_rolls_pending(session, round_id=round_id)
    return rollcall, text, targets, pending


def _plan_trailing_edit(application: Application, round_id: int, delay: float) -> None:  # type: ignore[type-arg]
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    name = f"{ROLL_JOB}{round_id}"
    if not jobs.get_jobs_by_name(name):
        jobs.run_once(job_refresh_roll, when=delay, name=name, data=round_id)


async def job_refresh_roll(context: Context) -> None:
    assert context.job is not None
    await refresh_roll(context.application, cast(int, context.job.data))
