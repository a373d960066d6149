"""Tell a project's PMs, once, when the official holidays of this or next year are not known yet
and they have not added any of that year's holidays themselves."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from adapters.models import Text
from bot.jobs.context import JobContext, Recipient
from bot.services import members
from storage.models import CalendarOverride, ChatBinding


def years_to_check(today: date) -> list[int]:
    """This year, and from December 1 next year too (people plan into it then)."""
    return [today.year, today.year + 1] if today.month == 12 else [today.year]


async def _years_with_holidays(ctx: JobContext, years: list[int]) -> set[int]:
    """The years in which the PMs added at least one holiday: they have the year's schedule in hand
    (make-up workdays alone do not say so)."""
    days = await ctx.session.scalars(
        select(CalendarOverride.day).where(
            CalendarOverride.project_id == ctx.project.id,
            CalendarOverride.kind == "holiday",
            CalendarOverride.day >= date(min(years), 1, 1),
            CalendarOverride.day <= date(max(years), 12, 31),
        )
    )
    return {day.year for day in days}


async def check(ctx: JobContext) -> None:
    """One message per missing year to the project's default chat, ever: until the PMs know, the
    calendar quietly assumes Monday to Friday. A year in which the PMs already added a holiday is
    not missing: they have its schedule, and telling them again would be noise."""
    missing = [year for year in years_to_check(ctx.business_date) if not ctx.calendar.covers(year)]
    if missing:
        added = await _years_with_holidays(ctx, missing)
        missing = [year for year in missing if year not in added]
    if not missing:
        return
    chat = await ctx.session.scalar(
        select(ChatBinding).where(ChatBinding.project_id == ctx.project.id, ChatBinding.is_default)
    )
    if chat is None:
        return  # told once the project has a chat: the key below was never used
    pms = " ".join(members.mention(pm) for pm in await members.pms(ctx.session, ctx.project.id))
    for year in missing:
        await ctx.send(
            Recipient(chat.platform, chat.chat_id, "chat"),
            Text(ctx.t("rhythm.calendar_missing", pms=pms, year=year)),
            key=f"calendar-missing:{ctx.project.id}:{year}",
        )
