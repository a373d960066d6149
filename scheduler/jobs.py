"""The explicit job list: what runs, and when it is due for a project (in the project's own time).

A tick every minute asks each job whether it is due for each project; a job claimed for a
business day runs once (see runner.py), so windows rather than instants make catch-up after a
restart or a missed tick natural."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.workdays import WorkCalendar
from bot.jobs import alerts, calendar_notice, prune, report, standup
from bot.jobs.context import JobContext
from bot.jobs.prune import Housekeeping
from storage.models import Project

# The one standup reminder goes out this long before the cutoff (or halfway, if that is sooner).
REMIND_BEFORE_CUTOFF = timedelta(minutes=60)


def hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


Due = Callable[[Project, datetime, WorkCalendar], date | None]


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[JobContext], Awaitable[None]]
    due: Due


def _on_workday_between(start: Callable[[Project], time], end: Callable[[Project], time]) -> Due:
    def due(project: Project, local: datetime, calendar: WorkCalendar) -> date | None:
        today = local.date()
        if not calendar.is_workday(today):
            return None
        return today if start(project) <= local.time() < end(project) else None

    return due


def remind_time(project: Project) -> time:
    start = datetime.combine(date.min, hhmm(project.standup_time))
    cutoff = datetime.combine(date.min, hhmm(project.standup_cutoff))
    return max(start + (cutoff - start) / 2, cutoff - REMIND_BEFORE_CUTOFF).time()


def _weekly_report_due(project: Project, local: datetime, calendar: WorkCalendar) -> date | None:
    today = local.date()
    if today.weekday() != project.report_weekday or local.time() < hhmm(project.report_time):
        return None
    return today


def _daily(project: Project, local: datetime, calendar: WorkCalendar) -> date | None:
    return local.date()


END_OF_DAY = time(23, 59, 59)

JOBS: tuple[Job, ...] = (
    Job(
        "standup-prompt",
        standup.prompt,
        _on_workday_between(lambda p: hhmm(p.standup_time), lambda p: hhmm(p.standup_cutoff)),
    ),
    Job("standup-remind", standup.remind, _on_workday_between(remind_time, lambda p: hhmm(p.standup_cutoff))),
    Job(
        "standup-summary",
        standup.summary,
        _on_workday_between(lambda p: hhmm(p.standup_cutoff), lambda p: END_OF_DAY),
    ),
    # After the summary (this list's order), so missed standups of today count.
    Job(
        "risk-scan", alerts.scan, _on_workday_between(lambda p: hhmm(p.standup_cutoff), lambda p: END_OF_DAY)
    ),
    Job("weekly-report", report.weekly, _weekly_report_due),
    Job("calendar-check", calendar_notice.check, _daily),
)

JOBS_BY_NAME = {job.name: job for job in JOBS}


@dataclass(frozen=True)
class InstanceJob:
    """A job for the whole instance rather than one project (housekeeping), due once a day from `at`
    in CROSSTRACK_TIMEZONE on the leader. Idempotent, so it needs no claim in `job_runs`: a restart
    or a new leader running it again the same day finds nothing left to do."""

    name: str
    run: Callable[[async_sessionmaker[AsyncSession], Housekeeping, datetime], Awaitable[dict[str, int]]]
    at: time


# Early morning: after the day's messages, before the first standup prompt.
INSTANCE_JOBS: tuple[InstanceJob, ...] = (InstanceJob("prune", prune.prune, time(4, 0)),)

INSTANCE_JOBS_BY_NAME = {job.name: job for job in INSTANCE_JOBS}
