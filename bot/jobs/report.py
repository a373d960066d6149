"""The weekly report: posted to every bound chat, kept as a snapshot, synced to the shared table."""

from __future__ import annotations

from bot.jobs.context import JobContext


async def weekly(ctx: JobContext) -> None:
    raise NotImplementedError("weekly report: being written")
