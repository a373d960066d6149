"""Who is away: people on leave are not prompted, reminded or counted missing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Leave


async def members_on_leave(session: AsyncSession, project_id: int, day: date) -> set[int]:
    """Ids of the project's members on leave on `day`."""
    rows = await session.scalars(
        select(Leave.member_id).where(
            Leave.project_id == project_id, Leave.start_date <= day, Leave.end_date >= day
        )
    )
    return set(rows)
