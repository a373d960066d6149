"""Daily standup jobs: prompt, remind, summarise."""

from __future__ import annotations

from bot.jobs.context import JobContext


async def prompt(ctx: JobContext) -> None:
    raise NotImplementedError("standup prompt: being written")


async def remind(ctx: JobContext) -> None:
    raise NotImplementedError("standup reminder: being written")


async def summary(ctx: JobContext) -> None:
    raise NotImplementedError("standup summary: being written")
