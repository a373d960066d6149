"""Tell a project's PMs, once, when the official holidays of this or next year are not known yet."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from adapters.models import Text
from bot.jobs.context import JobContext, Recipient
from bot.services import members
from storage.models import ChatBinding


def years_to_check(today: date) -> list[int]:
    """This year, and from December 1 next year too (people plan into it then)."""
    return [today.year, today.year + 1] if today.month == 12 else [today.year]


async def check(ctx: JobContext) -> None:
    """One message per missing year to the project's default chat, ever: until the PMs know, the
    calendar quietly assumes Monday to Friday. The project's own overrides for that year do not
    count as knowing it (a few added days are not the year's whole calendar)."""
    missing = [year for year in years_to_check(ctx.business_date) if not ctx.calendar.covers(year)]
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
