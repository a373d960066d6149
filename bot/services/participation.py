"""Load a project's participation and timeliness (bot/domain/participation.py) over a window: the
snapshot with its progress history, then the standup prompts, replies and leaves in one query each,
whatever the number of members or tasks.

The prompts are the "standup-prompt" job runs (their `started_at` is when members were prompted);
job runs are pruned after the instance's retention, so on older days only the replies given count.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.participation import Participation, participation
from bot.services import snapshot
from storage.models import JobRun, Leave, Project, StandupReport

PROMPT_JOB = "standup-prompt"


def standups_through(project: Project, today: date, now: datetime) -> date:
    """The last day whose standups count: today once its cutoff has passed, else yesterday."""
    local = now.astimezone(ZoneInfo(project.timezone))
    passed = local.date() > today or local.time() >= time.fromisoformat(project.standup_cutoff)
    return today if passed else today - timedelta(days=1)


async def load(
    session: AsyncSession,
    project: Project,
    *,
    since: date,
    until: date,
    today: date,
    now: datetime | None = None,
) -> Participation:
    """The window from `since` to `until` (both included) as of `today`; with `now`, today's standup
    counts as soon as its cutoff has passed (else from tomorrow)."""
    pid = project.id
    tz = ZoneInfo(project.timezone)

    def local_day(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    # Progress from the window's first day to the end of today: the day each task due in it finished
    # (one finished before that was finished before its due date).
    first = datetime.combine(since, time(), tzinfo=tz)
    last = datetime.combine(max(until, today) + timedelta(days=1), time(), tzinfo=tz)
    snap = await snapshot.load(session, project, history=(first, last))
    prompts = {
        day: started
        for day, started in await session.execute(
            select(JobRun.business_date, JobRun.started_at).where(
                JobRun.project_id == pid,
                JobRun.job == PROMPT_JOB,
                JobRun.status == "done",
                JobRun.business_date >= since,
                JobRun.business_date <= until,
            )
        )
    }
    replies = {
        (member_id, day): created
        for member_id, day, created in await session.execute(
            select(StandupReport.member_id, StandupReport.business_date, StandupReport.created_at).where(
                StandupReport.project_id == pid,
                StandupReport.business_date >= since,
                StandupReport.business_date <= until,
            )
        )
    }
    leaves = [
        (member_id, start, end)
        for member_id, start, end in await session.execute(
            select(Leave.member_id, Leave.start_date, Leave.end_date).where(
                Leave.project_id == pid, Leave.start_date <= until, Leave.end_date >= since
            )
        )
    ]
    # Pure and proportional to members × days × tasks: off the event loop.
    return await asyncio.to_thread(
        partial(
            participation,
            snap,
            prompts=prompts,
            replies=replies,
            leaves=leaves,
            local_day=local_day,
            since=since,
            until=until,
            today=today,
            is_workday=snap.calendar,
            closed_through=standups_through(project, today, now) if now is not None else None,
        )
    )
