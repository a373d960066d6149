"""The outbox worker against the real tables: retries, give-ups and restarts lose and duplicate nothing."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import SendError
from adapters.codec import reply_to_json
from adapters.models import OutboundMessage, Text
from scheduler.outbox import LEASE_SECONDS, MAX_ATTEMPTS, OutboxWorker, backoff_seconds
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
    assert 0.125 <= backoff_seconds(1, rng) <= 0.25
    assert 2 <= backoff_seconds(5, rng) <= 4
    assert 150 <= backoff_seconds(30, rng) <= 300


# --- concurrency, order, leases ---------------------------------------------------------------------


async def queue_to(engine: AsyncEngine, *messages: tuple[str, str], at: datetime = T0) -> None:
    """Queue (key, chat) pairs, in this order (ids follow it)."""
    async with unit_of_work(session_factory(engine)) as session:
        for key, chat in messages:
            await idempotency.enqueue(
                session,
                idempotency_key=key,
                platform="fake",
                chat_id=chat,
                payload={"content": reply_to_json(Text(key))},
                now=at,
            )


class WatchingSender:
    """Records what is in flight while sends take a few event-loop turns, and fails as scripted.
    With `gate`, sends wait (up to 5 s) until that many are in flight at once."""

    platform = "fake"

    def __init__(self, failures: dict[str, SendError] | None = None, *, gate: int = 0) -> None:
        self.failures = dict(failures or {})
        self.sent: list[tuple[str, str]] = []  # (chat, key) in the order sends started
        self.progress = asyncio.Event()  # set at each send
        self.in_flight: dict[str, int] = {}
        self.most_at_once = 0
        self.most_at_once_per_chat = 0
        self._gate = gate
        self._gate_open = asyncio.Event()

    async def send(self, message: OutboundMessage) -> str:
        self.sent.append((message.chat_id, message.idempotency_key))
        self.progress.set()
        self.in_flight[message.chat_id] = self.in_flight.get(message.chat_id, 0) + 1
        self.most_at_once = max(self.most_at_once, sum(self.in_flight.values()))
        self.most_at_once_per_chat = max(self.most_at_once_per_chat, *self.in_flight.values())
        try:
            if self.most_at_once >= self._gate:
                self._gate_open.set()
            await asyncio.wait_for(self._gate_open.wait(), 5)
            for _ in range(3):
                await asyncio.sleep(0)
            if message.idempotency_key in self.failures:
                raise self.failures.pop(message.idempotency_key)
            return f"m-{message.idempotency_key}"
        finally:
            self.in_flight[message.chat_id] -= 1


async def test_chats_are_sent_concurrently_each_in_order_one_at_a_time(engine: AsyncEngine) -> None:
    messages = [(f"{chat}-{n}", chat) for n in range(4) for chat in ("a", "b", "c")]
    await queue_to(engine, *messages)
    sender = WatchingSender(gate=3)  # a worker sending one message at a time would time out here
    worker = OutboxWorker(session_factory(engine), {"fake": sender}, Clock(), concurrency=3)
    assert await worker.send_due() == 12
    assert sender.most_at_once == 3
    assert sender.most_at_once_per_chat == 1
    for chat in ("a", "b", "c"):
        assert [key for c, key in sender.sent if c == chat] == [f"{chat}-{n}" for n in range(4)]
    assert {row.status for row in await rows(engine)} == {"sent"}


async def test_a_message_waiting_to_retry_holds_back_the_later_ones_to_its_chat(engine: AsyncEngine) -> None:
    await queue_to(engine, ("a1", "a"), ("a2", "a"), ("b1", "b"))
    clock = Clock()
    sender = WatchingSender({"a1": SendError("429", retryable=True, retry_after=10)})
    worker = OutboxWorker(session_factory(engine), {"fake": sender}, clock)
    await worker.send_due()
    assert sender.sent == [("a", "a1"), ("b", "b1")]  # a2 does not overtake a1
    clock.now = T0 + timedelta(seconds=9)
    assert await worker.send_due() == 0
    clock.now = T0 + timedelta(seconds=10)
    await worker.send_due()
    assert sender.sent[2:] == [("a", "a1"), ("a", "a2")]
    assert {row.idempotency_key: row.status for row in await rows(engine)} == {
        "a1": "sent",
        "a2": "sent",
        "b1": "sent",
    }


async def test_a_message_given_up_does_not_hold_back_its_chat(engine: AsyncEngine) -> None:
    await queue_to(engine, ("a1", "a"), ("a2", "a"))
    sender = WatchingSender({"a1": SendError("230002 bot not in chat", retryable=False)})
    await OutboxWorker(session_factory(engine), {"fake": sender}, Clock()).send_due()
    assert [row.status for row in await rows(engine)] == ["failed", "sent"]


async def test_two_senders_on_one_database_send_each_message_once_in_order(engine: AsyncEngine) -> None:
    """As two processes would: claims are atomic, so neither sends what the other has."""
    messages = [(f"{chat}-{n}", chat) for n in range(5) for chat in ("a", "b", "c", "d")]
    await queue_to(engine, *messages)
    sender = WatchingSender()
    workers = [OutboxWorker(session_factory(engine), {"fake": sender}, Clock()) for _ in range(2)]
    for _ in range(10):
        if not sum(await asyncio.gather(*(worker.send_due() for worker in workers))):
            break
    keys = [key for _, key in sender.sent]
    assert sorted(keys) == sorted(key for key, _ in messages)  # each once
    assert sender.most_at_once_per_chat == 1
    for chat in ("a", "b", "c", "d"):
        assert [key for c, key in sender.sent if c == chat] == [f"{chat}-{n}" for n in range(5)]


async def test_a_send_cut_short_by_a_crash_is_retried_after_the_lease(engine: AsyncEngine) -> None:
    asking = asyncio.Event()

    class Hanging(ScriptedSender):
        async def send(self, message: OutboundMessage) -> str:
            self.attempts.append(message)
            asking.set()
            await asyncio.Event().wait()  # the process dies while Feishu is being asked
            raise AssertionError

    await queue(engine, "k1")
    hanging = Hanging()
    crashed = OutboxWorker(session_factory(engine), {"fake": hanging}, Clock())
    pass_ = asyncio.create_task(crashed.send_due())
    await asking.wait()
    pass_.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pass_

    clock = Clock()
    sender = ScriptedSender()
    restarted = OutboxWorker(session_factory(engine), {"fake": sender}, clock)
    clock.now = T0 + timedelta(seconds=LEASE_SECONDS - 1)
    assert await restarted.send_due() == 0  # maybe still being sent elsewhere
    clock.now = T0 + timedelta(seconds=30)  # the dead process's claim is over within 30 s
    assert await restarted.send_due() == 1
    [row] = await rows(engine)
    assert row.status == "sent" and row.attempts == 2
    assert [m.idempotency_key for m in hanging.attempts + sender.attempts] == ["k1", "k1"]  # same dedupe id


async def test_a_slow_send_renewing_its_lease_keeps_its_claim(engine: AsyncEngine) -> None:
    """The heartbeat renews the lease of a live sender's send, so no other worker sends it too."""
    asking = asyncio.Event()
    answer = asyncio.Event()

    class Slow(ScriptedSender):
        async def send(self, message: OutboundMessage) -> str:
            self.attempts.append(message)
            asking.set()
            await answer.wait()  # the platform takes its time
            return "m-slow"

    await queue(engine, "k1")
    clock = Clock()
    slow = Slow()
    alive = OutboxWorker(session_factory(engine), {"fake": slow}, clock)
    other_sender = ScriptedSender()
    other = OutboxWorker(session_factory(engine), {"fake": other_sender}, clock)
    sending = asyncio.create_task(alive.send_due())
    await asyncio.wait_for(asking.wait(), 5)
    for seconds in (15, 30, 45, 60):  # what the heartbeat does every few seconds
        clock.now = T0 + timedelta(seconds=seconds)
        assert await alive.renew_leases() == 1
        assert await other.send_due() == 0  # past the first lease, yet still claimed
    answer.set()
    assert await asyncio.wait_for(sending, 5) == 1
    clock.now = T0 + timedelta(hours=1)
    assert await other.send_due() == 0
    [row] = await rows(engine)
    assert row.status == "sent" and row.attempts == 1 and row.platform_message_id == "m-slow"
    assert other_sender.attempts == [] and len(slow.attempts) == 1
    assert await alive.renew_leases() == 0  # nothing in flight: nothing to renew


async def test_no_sender_for_the_platform_is_a_permanent_failure(engine: AsyncEngine) -> None:
    await queue(engine, "k1")
    await OutboxWorker(session_factory(engine), {}, Clock()).send_due()
    [row] = await rows(engine)
    assert row.status == "failed" and "no sender" in (row.last_error or "")


async def test_deliver_sends_now_what_was_queued_for_later_and_waits_out_retries(engine: AsyncEngine) -> None:
    def now() -> datetime:
        return datetime.now(UTC)

    await queue_to(engine, ("later", "a"), at=now() + timedelta(hours=1))
    await queue_to(engine, ("flaky", "b"), ("doomed", "c"), at=now())
    sender = WatchingSender(
        {
            "flaky": SendError("503", retryable=True, retry_after=0.05),
            "doomed": SendError("230002", retryable=False),
        }
    )
    worker = OutboxWorker(session_factory(engine), {"fake": sender}, now)
    ids = [row.id for row in await rows(engine)]
    statuses = await worker.deliver(ids, wait_seconds=30)
    assert sorted(statuses.values()) == ["failed", "sent", "sent"]
    assert [key for _, key in sender.sent].count("flaky") == 2


async def test_run_stops_after_finishing_what_is_in_flight(engine: AsyncEngine) -> None:
    await queue_to(engine, ("a1", "a"), ("b1", "b"))
    sender = WatchingSender()
    worker = OutboxWorker(session_factory(engine), {"fake": sender}, Clock(), idle_seconds=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    while len(sender.sent) < 2:
        await asyncio.wait_for(sender.progress.wait(), 5)
        sender.progress.clear()
    stop.set()
    await asyncio.wait_for(running, 5)
    assert [row.status for row in await rows(engine)] == ["sent", "sent"]
