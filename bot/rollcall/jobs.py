"""The roll-call jobs, derived from the database: `rollcall-remind:<round>` (the next
reminder) and `rollcall-deadline:<round>` for each open round, planned at start-up and
whenever a round changes, so a restart neither loses nor repeats a reminder or an
escalation; and `rollcall-rolls`, which keeps the live rolls current.

Other features (a feed's departure advisory starts a round) plan through
`plan_round_jobs`; what a reminder or a deadline does is decided in bot.rollcall.rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from telegram.ext import Application, JobQueue

from bot.context import Context, services
from bot.rollcall.live import refresh_roll, services_of
from bot.rollcall.rules import pass_round_deadline, send_due_reminder
from db import checkins as db
from db.checkins import RoundStatus
from db.engine import session_scope
from schedules import rollcall as plan

REMIND_JOB = "rollcall-remind:"
DEADLINE_JOB = "rollcall-deadline:"
ROLLS_JOB = "rollcall-rolls"


def plan_round_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """(Re)plan the next reminder and the deadline of every open round, from the database.

    Idempotent: a job already planned for the same round and time is left alone; jobs of
    rounds that are no longer open are removed. A reminder missed while the bot was down
    is planned for now (only the latest one, and only if not sent).
    """
    svc = services_of(application)
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    now = svc.clock()
    with session_scope(svc.engine) as session:
        rounds = [
            (r.id or 0, r.started_at, r.deadline_at, r.remind_every_minutes, r.reminders_sent)
            for r in db.rounds_to_plan(session)
        ]
    wanted: dict[str, tuple[int, datetime]] = {}
    for round_id, started_at, deadline_at, every, sent in rounds:
        reminder = plan.next_reminder(
            started_at=started_at,
            deadline_at=deadline_at,
            every=timedelta(minutes=every),
            sent=sent,
            now=now,
        )
        if reminder is not None:
            wanted[f"{REMIND_JOB}{round_id}"] = (round_id, reminder.at)
        wanted[f"{DEADLINE_JOB}{round_id}"] = (round_id, deadline_at)
    for job in jobs.jobs():
        name = job.name or ""
        if not name.startswith((REMIND_JOB, DEADLINE_JOB)):
            continue
        if wanted.get(name) == job.data:
            del wanted[name]  # already planned for that time
        else:
            job.schedule_removal()
    for name, (round_id, at) in wanted.items():
        callback = job_remind_round if name.startswith(REMIND_JOB) else job_round_deadline
        # The job runs on the real clock; `at` is an instant on the service clock.
        jobs.run_once(
            callback,
            when=max(0.0, (at - now).total_seconds()),
            name=name,
            data=(round_id, at),
            job_kwargs={"misfire_grace_time": None},
        )


async def job_remind_round(context: Context) -> None:
    assert context.job is not None
    round_id, _ = cast(tuple[int, datetime], context.job.data)
    send_due_reminder(services(context), round_id)
    plan_round_jobs(context.application)


async def job_round_deadline(context: Context) -> None:
    assert context.job is not None
    round_id, _ = cast(tuple[int, datetime], context.job.data)
    if pass_round_deadline(services(context), round_id):
        await refresh_roll(context.application, round_id)
    plan_round_jobs(context.application)


async def job_update_rolls(context: Context) -> None:
    """Every ROLL_UPDATE_SECONDS: bring live rolls up to date with what presses do not
    announce (messages delivered, deadlines, /safe), and plan the jobs of rounds started
    elsewhere (by the feeds) that have none yet."""
    application = context.application
    svc = services_of(application)
    with session_scope(svc.engine) as session:
        live = [(r.id or 0, r.status) for r in db.live_rounds(session)]
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    if any(
        status == RoundStatus.OPEN.value and not jobs.get_jobs_by_name(f"{DEADLINE_JOB}{rid}")
        for rid, status in live
    ):
        plan_round_jobs(application)
    for round_id, _ in live:
        await refresh_roll(application, round_id)
