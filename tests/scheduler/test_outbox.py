"""The outbox worker against the real tables: retries, give-ups and restarts lose and duplicate nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import SendError
from adapters.codec import reply_to_json
from adapters.models import OutboundMessage, Text
from scheduler.outbox import MAX_ATTEMPTS, OutboxWorker, backoff_seconds
from storage import idempotency
from storage.db import session_factory, unit_of_work
from storage.models import OutboxMessage

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class ScriptedSender:
    """A platform that fails as scripted, then succeeds; records every attempt."""

    platform = "fake"

    def __init__(self, *failures: SendError) -> None:
        self.failures = list(failures)
        self.attempts: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> str:
        self.attempts.append(message)
        if self.failures:
            raise self.failures.pop(0)
        return f"m{len(self.attempts)}"


async def queue(engine: AsyncEngine, key: str, text: str = "hi") -> None:
    async with unit_of_work(session_factory(engine)) as session:
        await idempotency.enqueue(
            session,
            idempotency_key=key,
            platform="fake",
            chat_id="c1",
            payload={"content": reply_to_json(Text(text))},
            now=T0,
        )


async def rows(engine: AsyncEngine) -> list[OutboxMessage]:
    async with session_factory(engine)() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_enqueue_is_idempotent_on_its_key(engine: AsyncEngine) -> None:
    await queue(engine, "k1")
    await queue(engine, "k1", "other text")
    [row] = await rows(engine)
    assert row.payload["content"]["text"] == "hi"


async def test_rate_limited_send_waits_for_the_reset_and_reuses_the_key(engine: AsyncEngine) -> None:
    clock = Clock()
    sender = ScriptedSender(SendError("429", retryable=True, retry_after=52))
    worker = OutboxWorker(session_factory(engine), {"fake": sender}, clock)
    await queue(engine, "k1")
    assert await worker.send_due() == 1
    [row] = await rows(engine)
    assert row.status == "pending" and row.next_attempt_at == T0 + timedelta(seconds=52)
    clock.now = T0 + timedelta(seconds=51)
    assert await worker.send_due() == 0  # not due yet
    clock.now = T0 + timedelta(seconds=52)
    assert await worker.send_due() == 1
    [row] = await rows(engine)
    assert row.status == "sent" and row.platform_message_id == "m2" and row.attempts == 2
    assert [m.idempotency_key for m in sender.attempts] == ["k1", "k1"]


async def test_permanent_error_gives_up_at_once(engine: AsyncEngine) -> None:
    sender = ScriptedSender(SendError("230002 bot not in chat", retryable=False))
    worker = OutboxWorker(session_factory(engine), {"fake": sender}, Clock())
    await queue(engine, "k1")
    await worker.send_due()
    [row] = await rows(engine)
    assert row.status == "failed" and "230002" in (row.last_error or "")


async def test_retryable_errors_back_off_then_give_up(engine: AsyncEngine) -> None:
    clock = Clock()
    sender = ScriptedSender(*[SendError("503", retryable=True) for _ in range(MAX_ATTEMPTS)])
    worker = OutboxWorker(session_factory(engine), {"fake": sender}, clock, rng=random.Random(7))
    await queue(engine, "k1")
    for _ in range(MAX_ATTEMPTS):
        clock.now += timedelta(hours=1)
        assert await worker.send_due() == 1
    [row] = await rows(engine)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS


async def test_unexpected_exception_keeps_the_message_for_retry(engine: AsyncEngine) -> None:
    class Broken(ScriptedSender):
        async def send(self, message: OutboundMessage) -> str:
            raise RuntimeError("boom")

    worker = OutboxWorker(session_factory(engine), {"fake": Broken()}, Clock())
    await queue(engine, "k1")
    await worker.send_due()
    [row] = await rows(engine)
    assert row.status == "pending" and row.attempts == 1 and "boom" in (row.last_error or "")


async def test_a_new_worker_after_restart_sends_what_was_left(engine: AsyncEngine) -> None:
    await queue(engine, "k1")
    await queue(engine, "k2")
    sender = ScriptedSender()
    restarted = OutboxWorker(session_factory(engine), {"fake": sender}, Clock())
    assert await restarted.send_due() == 2
    assert await restarted.send_due() == 0
    assert [m.idempotency_key for m in sender.attempts] == ["k1", "k2"]


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    assert 0.5 <= backoff_seconds(1, rng) <= 1
    assert 8 <= backoff_seconds(5, rng) <= 16
    assert backoff_seconds(30, rng) <= 300
