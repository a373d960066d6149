"""The job scheduler: an APScheduler tick every minute runs the jobs that are due, but only in the
process that leads (leader.py); the others check every few seconds whether they should take over.

The tick runs in UTC; each job's `due` rule reads the project's own local time (jobs.py). A tick
missed by more than the grace time is dropped rather than run late: the next one catches up,
since jobs are due over windows and claimed per business day. Taking over the leadership runs a
tick at once, so a follower replacing a dead leader catches up without waiting for the minute."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.leader import Leadership
from scheduler.runner import JobOutcome, JobRunner

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0
TICK_MISFIRE_GRACE_SECONDS = 30
LEADER_CHECK_SECONDS = 5.0
# Interval ticks counted from a whole minute fall on whole minutes.
_ALIGNED_START = datetime(2000, 1, 1, tzinfo=UTC)
# How long stop() lets a running tick finish (its jobs' transactions) before shutting down.
_STOP_WAIT_SECONDS = 30.0


class SchedulerService:
    def __init__(
        self,
        runner: JobRunner,
        leadership: Leadership,
        *,
        leader_check_seconds: float = LEADER_CHECK_SECONDS,
    ) -> None:
        self._runner = runner
        self._leadership = leadership
        self._leader_check_seconds = leader_check_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._tick_lock = asyncio.Lock()  # the minute tick and a take-over tick never overlap
        self._leader_lock = asyncio.Lock()  # a check in progress and stop() never interleave
        self._leading: bool | None = None  # not known before the first check
        self._stopped = False

    @property
    def leading(self) -> bool:
        return bool(self._leading)

    @property
    def leadership_known(self) -> bool:
        """The first leadership check has answered (leading or standing by)."""
        return self._leading is not None

    async def start(self) -> None:
        self._scheduler.start()
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=TICK_SECONDS, start_date=_ALIGNED_START, timezone=UTC),
            id="tick",
            misfire_grace_time=TICK_MISFIRE_GRACE_SECONDS,
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.add_job(
            self.check_leadership,
            IntervalTrigger(seconds=self._leader_check_seconds, timezone=UTC),
            id="leadership",
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.pause()
        try:
            # Held from now on, so a tick queued meanwhile never starts.
            await asyncio.wait_for(self._tick_lock.acquire(), _STOP_WAIT_SECONDS)
        except TimeoutError:
            log.warning("scheduler: a tick still running after %.0fs is cancelled", _STOP_WAIT_SECONDS)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        async with self._leader_lock:
            self._stopped = True
            await self._leadership.release()
            if self._leading:
                log.info("scheduler: leadership released")
            self._leading = False
            self._runner.metrics.scheduler_leader.set(0)

    async def check_leadership(self) -> bool:
        async with self._leader_lock:
            if self._stopped:
                return False
            try:
                leading = await self._leadership.check()
            except Exception:
                log.exception("scheduler: leadership check failed; stepping down")
                await self._leadership.release()
                leading = False
            self._follow(leading)
        return leading

    def _follow(self, leading: bool) -> None:
        self._runner.metrics.scheduler_leader.set(leading)
        if leading == self._leading:
            return
        if leading:
            log.info("scheduler: this process is now the leader and fires the jobs")
            if self._scheduler.running:
                self._scheduler.add_job(self.tick, id="take-over-tick", replace_existing=True)
        elif self._leading is None:
            log.info("scheduler: another process leads; this one stands by to take over")
        else:
            log.warning("scheduler: lost the leadership; another process fires the jobs")
        self._leading = leading

    async def tick(self) -> list[JobOutcome] | None:
        """Run the jobs due now if this process leads; None when it does not."""
        if not self._leading:
            return None
        async with self._tick_lock:
            try:
                outcomes = await self._runner.tick()
            except Exception:  # the database is away, most likely; the next tick tries again
                log.exception("scheduler: tick failed")
                return []
        return outcomes  # each run is logged and counted by the runner
