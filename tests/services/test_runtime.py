"""The runtime's durability: claimed events survive a crash, failures retry, then answer politely."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import shell
from adapters.codec import event_to_json
from adapters.models import Reply
from bot.commands.all import build_registry
from bot.commands.context import CommandContext
from bot.commands.registry import Router
from bot.runtime import MAX_EVENT_ATTEMPTS, Runtime
from bot.settings import Settings
from storage import idempotency
from storage.db import session_factory, unit_of_work
from storage.models import InboundEventRecord, Project

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


async def test_failing_handler_is_retried_then_answered_politely(engine: AsyncEngine) -> None:
    calls: list[str] = []
    broken = Router("broken", title="help.section.basics")

    @broken.command("boom", usage="usage.help", summary="summary.help", who="who.anyone", needs_project=False)
    async def boom(ctx: CommandContext, args: str) -> list[Reply]:
        calls.append(args)
        raise RuntimeError("bug")

    sender = shell.ShellSender()
    registry = build_registry().include_routers(broken)
    runtime = Runtime(
        settings_for(engine),
        engine,
        registry,
        {"shell": sender},
        clock=lambda: NOW,
        retry_delay_seconds=0.001,
    )
    await runtime.start(run_outbox=False)
    await runtime.accept([shell.message("/boom", user="alice", chat="team", now=NOW)])
    await runtime.settle()
    await runtime.stop()
    assert len(calls) == MAX_EVENT_ATTEMPTS
    [reply] = sender.take()
    assert "出错" in reply and "bug" not in reply  # polite, no stack trace
    async with session_factory(engine)() as session:
        record = await session.scalar(select(InboundEventRecord))
        assert record is not None and record.status == "failed" and "bug" in (record.error or "")
