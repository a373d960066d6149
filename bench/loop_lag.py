"""Event-loop lag benchmark: /status and the weekly report on a large plan, through the real runtime
and dispatcher, while a ticker task measures how late the event loop lets it run.

    python -m bench.loop_lag [--tasks 10000]

A temporary SQLite database gets one project with `--tasks` tasks (100 phases, the rest spread over
them) whose dates lie anywhere within ten years of today, the widest the commands accept. Each
command runs twice in the same process: once with the workday count of before (day by day) and
once with the arithmetic one. It prints, for each, the time the command took and the event loop's
worst and 99th-percentile lag, then the ratios."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from adapters import shell
from bot.commands.all import build_registry
from bot.domain import workdays
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Project, Task

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Wednesday
TODAY = date(2026, 11, 25)
TICK_SECONDS = 0.005
COMMANDS = ("/状态", "/周报")


@dataclass(frozen=True)
class Run:
    seconds: float
    worst_lag: float
    p99_lag: float


def _day_by_day(start: date, end: date) -> int:
    """The count as it was before: every day of the range asked one by one."""
    return sum(workdays.is_china_workday(start + timedelta(days=n)) for n in range((end - start).days + 1))


@contextmanager
def counting(counter: Callable[[date, date], int]) -> Iterator[None]:
    original = workdays.china_workdays_between
    workdays.china_workdays_between = counter
    try:
        yield
    finally:
        workdays.china_workdays_between = original


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    """Sleeps TICK_SECONDS at a time and records how much later than asked it woke up."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        await asyncio.sleep(TICK_SECONDS)
        lags.append(loop.time() - asked - TICK_SECONDS)


async def _measure(runtime: Runtime, sender: shell.ShellSender, line: str) -> Run:
    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lags, stop))
    await asyncio.sleep(TICK_SECONDS * 2)
    started = time.perf_counter()
    await runtime.accept([shell.message(line, user="alice", chat="team", now=NOW)])
    await runtime.settle()
    seconds = time.perf_counter() - started
    stop.set()
    await ticker
    assert sender.sent, f"{line} answered nothing"
    sender.sent.clear()
    lags.sort()
    return Run(seconds, lags[-1], lags[int(len(lags) * 0.99)] if lags else 0.0)


async def _seed(runtime: Runtime, sender: shell.ShellSender, count: int) -> None:
    await runtime.accept([shell.message("/项目 新建 大计划", user="alice", chat="team", now=NOW)])
    await runtime.settle()
    sender.sent.clear()
    rng = random.Random(1)
    async with runtime.factory() as session, session.begin():
        project_id = await session.scalar(select(Project.id))
        rows = []
        phases = 100
        for number in range(count):
            phase, index = number % phases + 1, number // phases
            code = str(phase) if index == 0 else f"{phase}.{index}"
            start = TODAY + timedelta(days=rng.randint(-3600, 3000))
            due = start + timedelta(days=rng.randint(0, 600))
            progress = rng.choice((0, 20, 50, 80, 100))
            status = "done" if progress == 100 else "in_progress" if progress else "not_started"
            rows.append(
                {
                    "project_id": project_id,
                    "code": code,
                    "title": f"任务 {code}",
                    "start_date": start,
                    "due_date": due,
                    "progress": progress,
                    "status": status,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        await session.execute(insert(Task), rows)


async def main(tasks: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
        engine = create_engine(url)
        settings = Settings(database_url=url, command_rate_limit=1000, _env_file=None)  # type: ignore[call-arg]
        sender = shell.ShellSender()
        runtime = Runtime(settings, engine, build_registry(), {"shell": sender}, clock=lambda: NOW)
        await runtime.start(run_outbox=False)
        try:
            await _seed(runtime, sender, tasks)
            print(
                f"{tasks} tasks, dates within 10 years of {TODAY}; a tick every {TICK_SECONDS * 1000:.0f} ms"
            )
            print(f"{'command':8} {'count':12} {'seconds':>8} {'worst lag':>10} {'p99 lag':>9}")
            results: dict[tuple[str, str], Run] = {}
            for line in COMMANDS:
                await _measure(runtime, sender, line)  # warm the caches of both ways alike
                for name, counter in (
                    ("day-by-day", _day_by_day),
                    ("arithmetic", workdays.china_workdays_between),
                ):
                    with counting(counter):
                        run = results[line, name] = await _measure(runtime, sender, line)
                    worst, p99 = run.worst_lag * 1000, run.p99_lag * 1000
                    print(f"{line:8} {name:12} {run.seconds:8.3f} {worst:8.1f}ms {p99:7.1f}ms")
            for line in COMMANDS:
                old, new = results[line, "day-by-day"], results[line, "arithmetic"]
                print(
                    f"{line}: {old.seconds / new.seconds:.1f}x faster, worst lag "
                    f"{old.worst_lag * 1000:.0f} ms -> {new.worst_lag * 1000:.0f} ms"
                )
        finally:
            await runtime.stop()
            await engine.dispose()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    sys.exit(asyncio.run(main(parser.parse_args().tasks)))
