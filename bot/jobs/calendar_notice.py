"""Tell a project's PMs, once, when the official holidays of this or next year are not known yet."""

from __future__ import annotations

from bot.jobs.context import JobContext


async def check(ctx: JobContext) -> None:
    raise NotImplementedError("calendar check: being written")
