"""Drive the real runtime (claim -> dispatch -> SQL -> outbox -> sender) from typed chat lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import shell
from bot.commands.all import build_registry
from bot.runtime import Runtime
from bot.settings import Settings


class Chat:
    """A fake chat room on the `shell` platform; `say` returns the bot's rendered replies."""

    def __init__(self, runtime: Runtime, sender: shell.ShellSender) -> None:
        self.runtime = runtime
        self.sender = sender

    async def say(self, user: str, line: str, *, chat: str = "team", chat_type: str = "group") -> list[str]:
        message = shell.message(line, user=user, chat=chat, now=self.runtime.clock(), chat_type=chat_type)
        await self.runtime.accept([message])
        await self.runtime.settle()
        return self.sender.take()

    async def one(self, user: str, line: str, **kwargs: str) -> str:
        replies = await self.say(user, line, **kwargs)
        assert len(replies) == 1, replies
        return replies[0]


@asynccontextmanager
async def chat_runtime(
    engine: AsyncEngine, *, now: datetime | None = None, locale: str = "zh"
) -> AsyncIterator[Chat]:
    settings = Settings(database_url=str(engine.url), locale=locale, _env_file=None)  # type: ignore[call-arg]
    sender = shell.ShellSender()
    clock_now = now or datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    runtime = Runtime(settings, engine, build_registry(), {"shell": sender}, clock=lambda: clock_now)
    await runtime.start(run_outbox=False)
    try:
        yield Chat(runtime, sender)
    finally:
        await runtime.stop()
