"""Daily risk scan: alert rules and escalation by the RACI."""

from __future__ import annotations

from bot.jobs.context import JobContext


async def scan(ctx: JobContext) -> None:
    raise NotImplementedError("risk scan: being written")
