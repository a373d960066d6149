"""Housekeeping on SQLite and PostgreSQL at a frozen time: what the bot did 31 days ago (commands,
replies, a weekly report, a card click claim, a failed send) is pruned by the leader's daily run
at 04:00 in CROSSTRACK_TIMEZONE, in small batches; what is newer, still pending, the audit log and
report snapshots stay; expired nonces and finished rate windows go at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.jobs.prune import Housekeeping
from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage import idempotency
from storage.models import (
    AuditEntry,
    InboundEventRecord,
    JobRun,
    OutboxMessage,
    RateCounter,
    ReportSnapshot,
    RequestNonce,
)
from tests.harness import chat_runtime

OLD = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 20, 5, tzinfo=UTC)  # 2026-11-22 04:05 in Shanghai, 32 days on
HOUSEKEEPING = Housekeeping(retention_days=30, timezone="Asia/Shanghai", box=None, batch_size=2)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_the_daily_run_prunes_what_is_past_the_retention_and_keeps_the_rest(
    engine: AsyncEngine,
) -> None:
    clock = Clock(OLD)
    async with chat_runtime(engine, clock=clock) as chat:
        factory = chat.runtime.factory
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/阶段 添加 1 开发")
        weekly = JOBS_BY_NAME["weekly-report"]
        [outcome] = await JobRunner(factory, clock).run_job(weekly, at=OLD, project_id=1)
        assert outcome.status == "done"
        await chat.runtime.settle()
        async with factory() as s, s.begin():
            # A card click claim, and an event claimed but never processed (it must survive).
            card = await idempotency.claim_event(
                s, platform="feishu", event_id="click-1", message_id="card:abc", payload={}, now=OLD
            )
            await s.execute(
                update(InboundEventRecord).where(InboundEventRecord.id == card).values(status="done")
            )
            await idempotency.claim_event(
                s, platform="feishu", event_id="stuck", message_id="m-stuck", payload={}, now=OLD
            )
            await idempotency.enqueue(
                s, idempotency_key="gave-up", platform="shell", chat_id="team", payload={}, now=OLD
            )
            await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.idempotency_key == "gave-up")
                .values(status="failed")
            )
            s.add_all(
                [
                    RequestNonce(
                        scope="dingtalk", nonce="expired", owner="e1", expires_at=NOW - timedelta(minutes=1)
                    ),
                    RequestNonce(
                        scope="dingtalk", nonce="live", owner="e2", expires_at=NOW + timedelta(hours=1)
                    ),
                    RateCounter(scope="user", key="alice", window_start=NOW - timedelta(days=2), count=3),
                    RateCounter(scope="user", key="alice", window_start=NOW - timedelta(minutes=1), count=1),
                ]
            )

        clock.now = NOW - timedelta(hours=1)
        await chat.say("alice", "/阶段 添加 2 测试")
        before = await counts(factory)
        assert before["inbound_events"] == 5 and before["job_runs"] == 1

        runner = JobRunner(factory, clock, jobs=[], housekeeping=HOUSEKEEPING)
        await runner.tick(NOW - timedelta(minutes=10))  # 03:55 in Shanghai: not yet
        assert await counts(factory) == before
        await runner.tick(NOW)
        after = await counts(factory)
        assert after == {
            **before,
            "inbound_events": 2,  # the new command, and the one still pending
            "outbox": 1,  # the reply to the new command
            "job_runs": 0,
            "request_nonces": 1,
            "rate_counters": before["rate_counters"] - 1,  # only the two-day-old window goes
        }
        assert after["audit_log"] == before["audit_log"] > 0 and after["report_snapshots"] == 1
        async with factory() as s:
            kept = set(await s.scalars(select(InboundEventRecord.event_id)))
            nonce = await s.scalar(select(RequestNonce.nonce))
        assert "stuck" in kept and nonce == "live"

        await chat.say("alice", "/阶段 添加 3 上线")
        await runner.tick(NOW + timedelta(hours=1))  # once a day
        assert (await counts(factory))["inbound_events"] == 3


async def counts(factory: Any) -> dict[str, int]:
    tables = {
        "inbound_events": InboundEventRecord,
        "outbox": OutboxMessage,
        "job_runs": JobRun,
        "request_nonces": RequestNonce,
        "rate_counters": RateCounter,
        "audit_log": AuditEntry,
        "report_snapshots": ReportSnapshot,
    }
    async with factory() as s:
        return {
            name: int(await s.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in tables.items()
        }
