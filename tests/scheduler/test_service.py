"""The scheduler service: ticks only while it leads, takes over at once from a leader that stops,
and runs the jobs that are due through the JobRunner (two services on one SQLite file here; the
two-process test on PostgreSQL is in test_leader.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.workdays import WorkCalendar
from bot.jobs.context import JobContext
from bot.main import create_app
from bot.settings import Settings
from scheduler.jobs import Job
from scheduler.leader import FileLock
from scheduler.runner import JobRunner
from scheduler.service import SchedulerService
from storage.db import create_engine, session_factory, unit_of_work
from storage.migrate import upgrade
from storage.models import JobRun, Project

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A file database with one active project (the leader lock lives next to the file)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    async with unit_of_work(session_factory(engine)) as session:
        session.add(Project(name="P", timezone="Asia/Shanghai", locale="zh", created_at=NOW, updated_at=NOW))
    yield engine
    await engine.dispose()


class Recorder:
    """A job that is always due and records which service ran it and when."""

    def __init__(self) -> None:
        self.ticks: list[str] = []  # the service that asked whether the job was due, per tick
        self.ran: list[tuple[str, date]] = []
        self.asked = asyncio.Event()

    def job(self, service: str) -> Job:
        def due(project: Project, local: datetime, calendar: WorkCalendar) -> date | None:
            self.ticks.append(service)
            self.asked.set()
            return local.date()

        async def run(ctx: JobContext) -> None:
            self.ran.append((service, ctx.business_date))

        return Job("recorder", run, due)


def service(engine: AsyncEngine, recorder: Recorder, name: str, lock: Path) -> SchedulerService:
    runner = JobRunner(session_factory(engine), lambda: NOW, jobs=[recorder.job(name)])
    return SchedulerService(runner, FileLock(lock), leader_check_seconds=0.05)


async def test_only_the_leader_ticks_and_the_other_leads_once_it_stops(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    recorder = Recorder()
    lock = tmp_path / "app.db.scheduler.lock"
    first, second = service(engine, recorder, "first", lock), service(engine, recorder, "second", lock)
    assert await first.check_leadership() is True
    assert await second.check_leadership() is False

    assert await second.tick() is None
    [outcome] = await first.tick() or []
    assert (outcome.job, outcome.status) == ("recorder", "done")
    assert await first.tick() is not None  # ticks again, finds the day's run claimed
    assert recorder.ticks == ["first", "first"] and recorder.ran == [("first", date(2026, 11, 25))]

    await first.stop()
    assert await second.check_leadership() is True
    [outcome] = await second.tick() or []
    assert outcome.status == "skipped"  # one run per job, project and business day, whoever leads
    await second.stop()


async def test_running_services_one_fires_and_a_follower_takes_over_at_once(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    recorder = Recorder()
    lock = tmp_path / "app.db.scheduler.lock"
    first = service(engine, recorder, "first", lock)
    await first.start()
    await asyncio.wait_for(recorder.asked.wait(), 5)  # taking the lead ticks at once
    second = service(engine, recorder, "second", lock)
    await second.start()
    await asyncio.sleep(0.3)  # several leadership checks
    assert first.leading and not second.leading
    assert set(recorder.ticks) == {"first"}

    recorder.asked.clear()
    await first.stop()
    await asyncio.wait_for(recorder.asked.wait(), 5)
    assert second.leading
    assert recorder.ticks[-1] == "second"
    await second.stop()
    async with session_factory(engine)() as session:
        assert len(list(await session.scalars(select(JobRun)))) == 1


async def test_ticks_fall_on_whole_minutes(engine: AsyncEngine, tmp_path: Path) -> None:
    running = service(engine, Recorder(), "only", tmp_path / "lock")
    await running.start()
    try:
        tick = running._scheduler.get_job("tick")
        assert tick is not None and tick.next_run_time is not None
        assert (tick.next_run_time.second, tick.next_run_time.microsecond) == (0, 0)
        assert tick.next_run_time.utcoffset().total_seconds() == 0
    finally:
        await running.stop()


async def test_the_app_runs_the_scheduler_when_asked(engine: AsyncEngine, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'app.db'}")  # type: ignore[call-arg]
    lock = FileLock(tmp_path / "app.db.scheduler.lock")
    assert create_app(settings).state.scheduler is None  # `serve --no-scheduler`

    app = create_app(settings, scheduler=True)
    async with app.router.lifespan_context(app):
        assert await app.state.scheduler.check_leadership() is True
        assert await lock.check() is False
    assert await lock.check() is True  # released at shutdown
    await lock.release()
