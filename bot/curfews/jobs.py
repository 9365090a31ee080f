"""The scheduler's side of curfews: one job per distinct due time in the next day,
planned again from the database at start-up, every hour, and whenever a curfew, a
subscription or a reminder setting changes (`plan_curfew_jobs`). The hourly run also
brings the pinned cards of countries under curfew to the new night."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, JobQueue

from bot.context import SERVICES_KEY, Context, Services, services
from bot.curfews.rules import plans, queue_due_curfew_messages, refresh_curfew_cards
from db.engine import session_scope

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=26)  # plan a day ahead; re-planned every hour


async def job_curfew_due(context: Context) -> None:
    queue_due_curfew_messages(services(context))


async def job_replan_curfews(context: Context) -> None:
    plan_curfew_jobs(context.application)
    refresh_curfew_cards(services(context))  # tonight's times, once the local day turned


def plan_curfew_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """Drop and re-create one job per distinct due time in the next day, from the database."""
    svc: Services = application.bot_data[SERVICES_KEY]
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    for job in jobs.jobs():
        if job.name and job.name.startswith("curfew-due:"):
            job.schedule_removal()
    now = svc.clock()
    with session_scope(svc.engine) as session:
        reminders, notices, _ = plans(session, now=now, horizon=HORIZON)
    due_times = sorted({r.send_at for r in reminders} | {n.send_at for n in notices})
    for at in due_times:
        # The job runs on the real clock; `at` is an instant on the service clock.
        when = max(0.0, (at - now).total_seconds())
        jobs.run_once(job_curfew_due, when=when, name=f"curfew-due:{at:%Y%m%dT%H%M%S}")
    log.info("planned %d curfew reminder times", len(due_times))
