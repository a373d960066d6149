"""The runtime's durability: claimed events survive a crash, a database outage and poisonous
payloads; failures retry durably, then answer politely; any number of sweepers apply an event once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import shell
from adapters.codec import event_to_json
from adapters.models import Reply, Text
from bot.commands.all import build_registry
from bot.commands.context import CommandContext
from bot.commands.registry import Router
from bot.main import create_app
from bot.runtime import MAX_EVENT_ATTEMPTS, UNFINISHED_AFTER_SECONDS, Runtime
from bot.settings import Settings
from storage import idempotency
from storage.db import create_engine, session_factory, unit_of_work
from storage.models import InboundEventRecord, OutboxMessage, Project
from tests.scenario.feishu import feishu_api, feishu_settings

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def settings_for(engine: AsyncEngine) -> Settings:
    return Settings(_env_file=None, database_url=engine.url.render_as_string(hide_password=False))  # type: ignore[call-arg]


async def test_event_claimed_before_a_crash_is_processed_on_start(engine: AsyncEngine) -> None:
    message = shell.message("/项目 新建 Survivor", user="alice", chat="team", now=NOW)
    async with unit_of_work(session_factory(engine)) as session:
        await idempotency.claim_event(
            session,
            platform="shell",
            event_id=message.event_id,
            message_id=message.message_id,
            payload=event_to_json(message),
            now=NOW,
        )
    sender = shell.ShellSender()
    runtime = Runtime(settings_for(engine), engine, build_registry(), {"shell": sender}, clock=lambda: NOW)
    await runtime.start(run_outbox=False)
    await runtime.settle()
    await runtime.stop()
    assert any("Survivor" in text for text in sender.take())
    async with session_factory(engine)() as session:
        assert (await session.scalar(select(Project.name))) == "Survivor"
        assert (await session.scalar(select(InboundEventRecord.status))) == "done"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = NOW + timedelta(seconds=seconds)


async def store_pending(
    engine: AsyncEngine, payload: dict[str, Any], *, attempts: int = 0, received_at: datetime = NOW
) -> int:
    """A claimed, unprocessed event as `accept` leaves it (with `attempts` tries already failed)."""
    async with unit_of_work(session_factory(engine)) as session:
        record_id = await idempotency.claim_event(
            session,
            platform=payload.get("platform", "feishu"),
            event_id=uuid.uuid4().hex,
            message_id=None,
            payload=payload,
            now=received_at,
        )
        assert record_id is not None
        await session.execute(
            update(InboundEventRecord).where(InboundEventRecord.id == record_id).values(attempts=attempts)
        )
    return record_id


def feishu_payload(text: str, *, chat: str = "oc_team", user: str = "ou_alice") -> dict[str, Any]:
    """A stored Feishu message event, as the Feishu adapter's output is stored by `accept`."""
    payload = event_to_json(shell.message(text, user=user, chat=chat, now=NOW))
    payload["platform"] = payload["chat"]["platform"] = payload["sender"]["platform"] = "feishu"
    return payload


async def status_of(engine: AsyncEngine, record_id: int) -> InboundEventRecord:
    async with session_factory(engine)() as session:
        record = await session.get(InboundEventRecord, record_id)
        assert record is not None
        return record


async def count(engine: AsyncEngine, query: Any) -> int:
    async with session_factory(engine)() as session:
        return int(await session.scalar(query) or 0)


def undecodable(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "chat": "oc_team"}  # a chat must be an object


def long_chat_id(payload: dict[str, Any]) -> dict[str, Any]:
    return feishu_payload("/项目 新建 Long", chat="oc_" + "x" * 197)  # the column holds 128


def numeric_chat_id(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "chat": {**payload["chat"], "chat_id": 12345}}


@pytest.mark.parametrize("poison", [undecodable, long_chat_id, numeric_chat_id])
async def test_a_poisonous_pending_event_neither_stops_start_up_nor_the_events_after_it(
    engine: AsyncEngine, poison: Any
) -> None:
    """Was a crash loop: the event failed, recording its failure raised, it stayed pending, and every
    start re-raised it from the recovery of the backlog."""
    bad = await store_pending(
        engine, poison(feishu_payload("/项目 新建 Poison")), attempts=MAX_EVENT_ATTEMPTS - 1
    )
    good = await store_pending(engine, feishu_payload("/项目 新建 Healthy", chat="oc_healthy"))
    async with feishu_api() as api:
        for _ in range(2):  # and again after a restart
            app = create_app(feishu_settings(engine))
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    assert (await client.get("/healthz")).status_code == 200  # serving at once
                await app.state.runtime.settle()
    assert (await status_of(engine, bad)).status != "pending"
    assert (await status_of(engine, good)).status == "done"
    assert await count(engine, select(func.count()).where(Project.name == "Healthy")) == 1
    assert sum("Healthy" in text for text in api.texts()) == 1


async def test_an_event_that_cannot_be_decoded_fails_at_once(engine: AsyncEngine) -> None:
    record_id = await store_pending(engine, undecodable(feishu_payload("/项目 新建 X")))
    clock = Clock()
    runtime = Runtime(settings_for(engine), engine, build_registry(), {}, clock=clock)
    await runtime.recover()
    record = await status_of(engine, record_id)
    assert record.status == "failed" and record.attempts == 1 and "ChatRef" in (record.error or "")
    clock.at(3600)
    assert await runtime.sweep() == 0  # not retried
    assert await count(engine, select(func.count()).select_from(OutboxMessage)) == 0  # nowhere to apologise


async def test_failing_handler_is_retried_durably_then_answered_politely(engine: AsyncEngine) -> None:
    calls: list[str] = []
    broken = Router("broken", title="help.section.basics")

    @broken.command("boom", usage="usage.help", summary="summary.help", who="who.anyone", needs_project=False)
    async def boom(ctx: CommandContext, args: str) -> list[Reply]:
        calls.append(args)
        raise RuntimeError("bug")

    sender = shell.ShellSender()
    registry = build_registry().include_routers(broken)
    clock = Clock()

    def runtime() -> Runtime:
        return Runtime(settings_for(engine), engine, registry, {"shell": sender}, clock=clock)

    first = runtime()
    await first.accept([shell.message("/boom", user="alice", chat="team", now=NOW)])
    await first.settle()
    assert len(calls) == 1
    [record_id] = [record.id for record in await records(engine)]
    assert (await status_of(engine, record_id)).next_attempt_at == NOW + timedelta(seconds=4)
    clock.at(3.9)
    assert await first.sweep() == 0  # not yet due
    assert len(calls) == 1
    restarted = runtime()  # the retry is in the database, not in the process that scheduled it
    clock.at(4)
    assert await restarted.sweep() == 1
    assert len(calls) == 2
    clock.at(12)
    assert await restarted.sweep() == 1
    await restarted.settle()
    assert len(calls) == MAX_EVENT_ATTEMPTS
    [reply] = sender.take()
    assert "出错" in reply and "bug" not in reply  # polite, no stack trace
    record = await status_of(engine, record_id)
    assert record.status == "failed" and "bug" in (record.error or "")
    clock.at(3600)
    assert await restarted.sweep() == 0


async def records(engine: AsyncEngine) -> list[InboundEventRecord]:
    async with session_factory(engine)() as session:
        return list(await session.scalars(select(InboundEventRecord).order_by(InboundEventRecord.id)))


class Outage:
    """The database stops answering (every statement fails) while `on`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.on = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._check)

    def _check(self, *_: Any) -> None:
        if self.on:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("the database is down"))


async def test_an_event_acked_before_a_database_outage_is_processed_by_the_sweeper(
    engine: AsyncEngine,
) -> None:
    """Was left pending until the next restart: its try failed, and so did recording the failure."""
    outage = Outage(engine)
    calls: list[str] = []
    flaky = Router("flaky", title="help.section.basics")

    @flaky.command("note", usage="usage.help", summary="summary.help", who="who.anyone", needs_project=False)
    async def note(ctx: CommandContext, args: str) -> list[Reply]:
        calls.append(args)
        if len(calls) == 1:
            outage.on = True  # the database goes down in the middle of this event
            await ctx.session.execute(select(1))
        return [Text(f"noted {args}")]

    sender = shell.ShellSender()
    clock = Clock()
    runtime = Runtime(
        settings_for(engine), engine, build_registry().include_routers(flaky), {"shell": sender}, clock=clock
    )
    await runtime.accept([shell.message("/note one", user="alice", chat="team", now=NOW)])
    await runtime.wait_for_inbound()  # the try failed; recording it failed too (one log line)
    outage.on = False
    [record] = await records(engine)
    assert record.status == "pending" and record.attempts == 0 and record.next_attempt_at is None
    clock.at(UNFINISHED_AFTER_SECONDS - 1)
    assert await runtime.sweep() == 0  # maybe still being processed
    clock.at(UNFINISHED_AFTER_SECONDS)
    assert await runtime.sweep() == 1
    await runtime.settle()
    assert calls == ["one", "one"] and sender.take() == ["noted one"]
    [record] = await records(engine)
    assert record.status == "done"
    clock.at(3600)
    assert await runtime.sweep() == 0


async def test_sweepers_in_several_processes_apply_each_event_once(engine: AsyncEngine) -> None:
    """Events acked by a process that died before processing them, swept by two replicas at once."""
    names = [f"Orphan {n}" for n in range(12)]
    for n, name in enumerate(names):
        await store_pending(engine, feishu_payload(f"/项目 新建 {name}", chat=f"oc_{n}"))
    url = engine.url.render_as_string(hide_password=False)
    engines = [create_engine(url) for _ in range(2)]
    clock = Clock()
    clock.at(UNFINISHED_AFTER_SECONDS)
    replicas = [Runtime(settings_for(each), each, build_registry(), {}, clock=clock) for each in engines]
    try:
        tried = await asyncio.gather(*(replica.sweep() for replica in replicas))
    finally:
        for each in engines:
            await each.dispose()
    assert sum(tried) >= len(names)
    assert await count(engine, select(func.count(func.distinct(Project.name)))) == len(names)
    assert await count(engine, select(func.count()).select_from(Project)) == len(names)
    assert await count(engine, select(func.count()).select_from(OutboxMessage)) == len(names)
    assert {record.status for record in await records(engine)} == {"done"}
    assert {record.attempts for record in await records(engine)} == {1}


async def test_the_app_sweeps_in_the_background(engine: AsyncEngine) -> None:
    """The sweeper runs by itself in a served app (every `inbound_sweep_seconds`)."""
    clock = Clock()
    settings = feishu_settings(engine).model_copy(update={"inbound_sweep_seconds": 0.01})
    async with feishu_api() as api:
        app = create_app(settings, clock=clock)
        async with app.router.lifespan_context(app):
            await app.state.runtime.wait_for_inbound()  # start-up recovery found nothing
            left_behind = await store_pending(engine, feishu_payload("/项目 新建 Swept"))
            clock.at(UNFINISHED_AFTER_SECONDS)
            async with asyncio.timeout(10):
                # The row is the observable here; nothing in the app signals a sweep.
                while (await status_of(engine, left_behind)).status == "pending":  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            await app.state.runtime.settle()
    assert (await status_of(engine, left_behind)).status == "done"
    assert sum("Swept" in text for text in api.texts()) == 1
