"""Leadership: one lock holder among several schedulers, on SQLite (flock) and PostgreSQL (advisory
lock), in one process and across real `crosstrack scheduler` processes that get killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from scheduler.leader import ADVISORY_LOCK_KEY, AdvisoryLock, FileLock, leadership_for
from storage.db import create_engine, session_factory, unit_of_work
from storage.models import Base, JobRun, Project

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


async def test_file_lock_has_one_holder_until_released(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    assert await first.check() is True
    assert await second.check() is False
    assert await first.check() is True  # keeping it
    assert (tmp_path / "x.lock").read_text().strip() == str(os.getpid())
    await first.release()
    assert await second.check() is True
    assert await first.check() is False
    await second.release()


def test_sqlite_locks_a_file_next_to_the_database(tmp_path: Path) -> None:
    leadership = leadership_for(f"sqlite:///{tmp_path}/app.db")
    assert isinstance(leadership, FileLock)
    with pytest.raises(ValueError, match="in-memory"):
        leadership_for("sqlite://")


@pytest.mark.postgres
async def test_advisory_lock_is_lost_with_its_connection(postgres_migrated: str) -> None:
    # The worker's own database: advisory locks are per database, so parallel workers never meet.
    first, second = AdvisoryLock(postgres_migrated), AdvisoryLock(postgres_migrated)
    admin = create_engine(postgres_migrated)
    try:
        assert await first.check() is True
        assert await second.check() is False
        assert await first.check() is True
        # The leader's connection dies (a network cut, a restarted server): it must step down.
        async with admin.begin() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND granted AND ((classid::bigint << 32) | objid::bigint) = :key"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"key": ADVISORY_LOCK_KEY},
            )
        assert killed == 1
        assert await second.check() is True
        assert await first.check() is False
    finally:
        await first.release()
        await second.release()
        await admin.dispose()


# --- two real scheduler processes ------------------------------------------------------------------


class Scheduler:
    """A `crosstrack scheduler` process, its log in a file."""

    def __init__(self, name: str, database_url: str, workdir: Path) -> None:
        self.log_path = workdir / f"{name}.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith("CROSSTRACK_")}
        env["CROSSTRACK_DATABASE_URL"] = database_url
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "scheduler", "--leader-check", "0.2"],
                cwd=workdir,  # no .env from the repository
                env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.05)


async def add_project(database_url: str, name: str) -> int:
    engine = create_engine(database_url)
    async with unit_of_work(session_factory(engine)) as session:
        project = Project(name=name, timezone="Asia/Shanghai", locale="zh", created_at=NOW, updated_at=NOW)
        session.add(project)
        await session.flush()
        project_id = project.id
    await engine.dispose()
    return project_id


async def calendar_runs(database_url: str) -> list[int]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        runs = await session.scalars(select(JobRun.project_id).where(JobRun.job == "calendar-check"))
        project_ids = sorted(runs)
    await engine.dispose()
    return project_ids


async def empty_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
def schedulers(database_url: str, tmp_path: Path) -> Iterator[list[Scheduler]]:
    asyncio.run(empty_tables(database_url))
    started = [Scheduler(name, database_url, tmp_path) for name in ("one", "two")]
    yield started
    for scheduler in started:
        if scheduler.process.poll() is None:
            scheduler.process.kill()
        scheduler.process.wait()


LEADS = "this process is now the leader"


def test_one_of_two_schedulers_fires_and_the_other_takes_over_when_it_is_killed(
    database_url: str, schedulers: list[Scheduler]
) -> None:
    """calendar-check is due every day: whoever leads runs it for each project as soon as it leads."""
    first_project = asyncio.run(add_project(database_url, "One"))
    wait_for(lambda: any(LEADS in s.log for s in schedulers), 30, "a leader")
    [leader] = [s for s in schedulers if LEADS in s.log]
    [follower] = [s for s in schedulers if s is not leader]
    ran_first = f"calendar-check for project {first_project} on"
    wait_for(lambda: ran_first in leader.log, 15, "the leader runs the job")
    time.sleep(1)  # five leadership checks of the follower
    assert LEADS not in follower.log and " for project " not in follower.log

    # Freeze the leader so that it cannot run the new project's job, then kill it.
    leader.process.send_signal(signal.SIGSTOP)
    second_project = asyncio.run(add_project(database_url, "Two"))
    leader.process.kill()
    killed_at = time.monotonic()
    wait_for(lambda: LEADS in follower.log, 10, "the follower takes over")
    took_over_after = time.monotonic() - killed_at
    wait_for(lambda: f"calendar-check for project {second_project} on" in follower.log, 15, "it runs the job")

    assert took_over_after < 5
    assert asyncio.run(calendar_runs(database_url)) == [first_project, second_project]
    # The job ran once for each project: the new leader found the first project's run claimed.
    assert leader.log.count(ran_first) == 1 and ran_first not in follower.log

    follower.process.send_signal(signal.SIGTERM)
    assert follower.process.wait(15) == 0
    assert "leadership released" in follower.log
