"""Who is away: people on leave are not prompted, reminded or counted missing.

A member's leave is kept as non-overlapping ranges: a new range that overlaps or touches an
existing one is merged into it, so "on leave on day D" is one row at most. Every change is audited;
nothing commits. Permissions stay with the handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserFacingError
from bot.services import audit, members
from bot.services.audit import Actor
from storage.models import Leave, Member

MAX_LEAVE_DAYS = 366
_FIELDS = ("member_id", "start_date", "end_date")


async def members_on_leave(session: AsyncSession, project_id: int, day: date) -> set[int]:
    """Ids of the project's members on leave on `day`."""
    rows = await session.scalars(
        select(Leave.member_id).where(
            Leave.project_id == project_id, Leave.start_date <= day, Leave.end_date >= day
        )
    )
    return set(rows)


async def current_and_upcoming(
    session: AsyncSession, project_id: int, today: date
) -> list[tuple[Leave, Member]]:
    """Leave that has not ended by `today`, soonest first, with whose it is."""
    rows = await session.execute(
        select(Leave, Member)
        .join(Member, Member.id == Leave.member_id)
        .where(Leave.project_id == project_id, Leave.end_date >= today, members.PRESENT)
        .order_by(Leave.start_date, Leave.end_date, Member.id)
    )
    return [(leave, member) for leave, member in rows]


@dataclass(frozen=True)
class LeaveChange:
    leave: Leave  # the member's leave covering the asked days, after the change
    outcome: Literal["added", "merged", "already"]


async def add(
    *,
    session: AsyncSession,
    member: Member,
    start: date,
    end: date,
    author: Member,
    actor: Actor,
    now: datetime,
) -> LeaveChange:
    """Put `member` on leave from `start` to `end` (inclusive), merged with leave it overlaps or touches."""
    if end < start:
        raise UserFacingError("rhythm.range_backwards", start=start.isoformat(), end=end.isoformat())
    if (end - start).days >= MAX_LEAVE_DAYS:
        raise UserFacingError("rhythm.leave_too_long", limit=MAX_LEAVE_DAYS)
    touching = list(
        await session.scalars(
            select(Leave)
            .where(
                Leave.project_id == member.project_id,
                Leave.member_id == member.id,
                Leave.start_date <= end + timedelta(days=1),
                Leave.end_date >= start - timedelta(days=1),
            )
            .order_by(Leave.start_date, Leave.id)
        )
    )
    for leave in touching:
        if leave.start_date <= start and end <= leave.end_date:
            return LeaveChange(leave, "already")
    if not touching:
        leave = Leave(
            project_id=member.project_id,
            member_id=member.id,
            start_date=start,
            end_date=end,
            created_by_member_id=author.id,
            created_at=now,
        )
        await audit.add(
            leave,
            _FIELDS,
            session=session,
            actor=actor,
            now=now,
            project_id=member.project_id,
            action="leave.add",
            entity="leave",
        )
        return LeaveChange(leave, "added")
    kept, *absorbed = touching
    merged = {
        "start_date": min(start, *(leave.start_date for leave in touching)),
        "end_date": max(end, *(leave.end_date for leave in touching)),
    }
    for leave in absorbed:
        await _remove(session, leave, actor=actor, now=now)
    await audit.update(
        kept,
        merged,
        session=session,
        actor=actor,
        now=now,
        project_id=member.project_id,
        action="leave.update",
        entity="leave",
    )
    return LeaveChange(kept, "merged")


@dataclass(frozen=True)
class Cancelled:
    start: date
    end: date  # the leave as it was
    kept_until: date | None  # the leave now ends here (the days before the cancelled one); None: removed


async def cancel(
    *, session: AsyncSession, member: Member, day: date, actor: Actor, now: datetime
) -> Cancelled:
    """Cancel `member`'s leave from `day` on: a leave that started earlier now ends the day before
    (those days were taken), one starting on or after `day` is removed."""
    leave = await session.scalar(
        select(Leave).where(
            Leave.project_id == member.project_id,
            Leave.member_id == member.id,
            Leave.start_date <= day,
            Leave.end_date >= day,
        )
    )
    if leave is None:
        raise UserFacingError("rhythm.leave_none", day=day.isoformat())
    start, end = leave.start_date, leave.end_date
    if start == day:
        await _remove(session, leave, actor=actor, now=now)
        return Cancelled(start, end, None)
    kept_until = day - timedelta(days=1)
    await audit.update(
        leave,
        {"end_date": kept_until},
        session=session,
        actor=actor,
        now=now,
        project_id=member.project_id,
        action="leave.update",
        entity="leave",
    )
    return Cancelled(start, end, kept_until)


async def _remove(session: AsyncSession, leave: Leave, *, actor: Actor, now: datetime) -> None:
    await audit.delete(
        leave,
        _FIELDS,
        session=session,
        actor=actor,
        now=now,
        project_id=leave.project_id,
        action="leave.remove",
        entity="leave",
    )
