"""Loading a project's working calendar (official China calendar plus its overrides)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.workdays import WorkCalendar
from storage.models import CalendarOverride


async def for_project(session: AsyncSession, project_id: int) -> WorkCalendar:
    rows = await session.execute(
        select(CalendarOverride.day, CalendarOverride.kind).where(CalendarOverride.project_id == project_id)
    )
    return WorkCalendar({day: kind == "workday" for day, kind in rows})
