"""Runs jobs: one transaction per (job, project, business day), claimed so it happens once, and one
project's failure never stops the others."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.context import JobContext
from bot.jobs.prune import Housekeeping
from bot.metrics import Metrics
from bot.services import calendar as calendar_service
from scheduler.jobs import INSTANCE_JOBS, JOBS, InstanceJob, Job
from storage import idempotency
from storage.db import unit_of_work
from storage.models import JobRun, Project

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    job: str
    project_id: int
    business_date: date
    status: str  # "done", "skipped" (already ran), "failed"


class JobRunner:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        *,
        jobs: Sequence[Job] = JOBS,
        on_queued: Callable[[], None] = lambda: None,
        tables: Mapping[str, object] | None = None,
        housekeeping: Housekeeping | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self._factory = factory
        self._clock = clock
        self._jobs = tuple(jobs)
        self._on_queued = on_queued  # wakes the outbox sender
        self._tables = dict(tables or {})
        self._housekeeping = housekeeping  # None: the instance jobs do not run
        self._instance_days: dict[str, date] = {}  # the local day each instance job last ran

    async def tick(self, now: datetime | None = None) -> list[JobOutcome]:
        """Run every job that is due now, for every active project."""
        now = now or self._clock()
        outcomes: list[JobOutcome] = []
        for project_id in await self._active_projects():
            for job in self._jobs:
                async with self._factory() as session:
                    project = await session.get(Project, project_id)
                    if project is None:
                        continue
                    calendar = await calendar_service.for_project(session, project_id)
                    business_date = job.due(project, now.astimezone(ZoneInfo(project.timezone)), calendar)
                if business_date is not None:
                    outcomes.append(await self._timed(job, project_id, business_date, now, force=False))
        await self._run_instance_jobs(now)
        return outcomes

    async def _run_instance_jobs(self, now: datetime) -> None:
        if self._housekeeping is None:
            return
        local = now.astimezone(ZoneInfo(self._housekeeping.timezone))
        for job in INSTANCE_JOBS:
            if local.time() >= job.at and self._instance_days.get(job.name) != local.date():
                self._instance_days[job.name] = local.date()  # failed or not: tried again tomorrow
                await self.run_instance_job(job, at=now)

    async def run_instance_job(self, job: InstanceJob, *, at: datetime) -> dict[str, int] | None:
        """Run an instance job now (the tick, or an operator); what it did, None when it failed."""
        assert self._housekeeping is not None, "instance jobs need the housekeeping settings"
        try:
            done = await job.run(self._factory, self._housekeeping, at)
        except Exception:
            log.exception("job %s failed", job.name)
            return None
        log.info("job %s: %s", job.name, ", ".join(f"{count} {what}" for what, count in done.items()))
        return done

    async def run_job(self, job: Job, *, at: datetime, project_id: int | None = None) -> list[JobOutcome]:
        """Run one job as if at `at`, whether or not it is due (for operators and tests); what it
        already sent for that business day is not sent again."""
        project_ids = [project_id] if project_id is not None else await self._active_projects()
        outcomes = []
        for pid in project_ids:
            async with self._factory() as session:
                project = await session.get(Project, pid)
                if project is None:
                    raise LookupError(f"no project {pid}")
                business_date = at.astimezone(ZoneInfo(project.timezone)).date()
            outcomes.append(await self._timed(job, pid, business_date, at, force=True))
        return outcomes

    async def _active_projects(self) -> list[int]:
        async with self._factory() as session:
            return list(
                await session.scalars(
                    select(Project.id).where(Project.status == "active").order_by(Project.id)
                )
            )

    async def _timed(
        self, job: Job, project_id: int, business_date: date, now: datetime, *, force: bool
    ) -> JobOutcome:
        started = time.perf_counter()
        outcome = await self._run(job, project_id, business_date, now, force=force)
        self.metrics.observe_job(outcome, time.perf_counter() - started)
        return outcome

    async def _run(
        self, job: Job, project_id: int, business_date: date, now: datetime, *, force: bool
    ) -> JobOutcome:
        try:
            async with unit_of_work(self._factory) as session:
                # The claim commits with the job's work: a crash mid-run leaves no claim, so it reruns;
                # a second scheduler's claim waits on ours and then finds it taken.
                claimed = await idempotency.claim_job(
                    session, job=job.name, project_id=project_id, business_date=business_date, now=now
                )
                if not claimed and not force:
                    return JobOutcome(job.name, project_id, business_date, "skipped")
                project = await session.get(Project, project_id)
                assert project is not None
                calendar = await calendar_service.for_project(session, project_id)
                await job.run(
                    JobContext(session, job.name, project, now, business_date, calendar, self._tables)
                )
                await idempotency.finish_job(
                    session, job=job.name, project_id=project_id, business_date=business_date, now=now
                )
        except Exception as error:
            log.exception("job %s failed for project %s on %s", job.name, project_id, business_date)
            await self._record_failure(job, project_id, business_date, now, error)
            return JobOutcome(job.name, project_id, business_date, "failed")
        self._on_queued()
        return JobOutcome(job.name, project_id, business_date, "done")

    async def _record_failure(
        self, job: Job, project_id: int, business_date: date, now: datetime, error: Exception
    ) -> None:
        """Mark the day's run failed so the tick does not retry it every minute; run-job can redo it."""
        async with unit_of_work(self._factory) as session:
            await idempotency.claim_job(
                session, job=job.name, project_id=project_id, business_date=business_date, now=now
            )
            run = await session.scalar(
                select(JobRun).where(
                    JobRun.job == job.name,
                    JobRun.project_id == project_id,
                    JobRun.business_date == business_date,
                )
            )
            if run is not None:
                run.status = "failed"
                run.error = repr(error)[:2000]
                run.finished_at = now
