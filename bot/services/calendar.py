"""A project's working calendar: the official China calendar plus the project's own holidays and
make-up workdays (/holiday, /workday). Every change is audited; nothing commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.workdays import WorkCalendar, china_calendar_covers
from bot.errors import UserFacingError
from bot.services import audit
from bot.services.audit import Actor
from storage.models import CalendarOverride

Kind = Literal["holiday", "workday"]

MAX_RANGE_DAYS = 31  # one command sets at most a month (a Spring Festival break is 8-9 days)
NAME_LIMIT = 100  # CalendarOverride.name
_FIELDS = ("day", "kind", "name")
# chinesecalendar names holidays in English; its enum carries the Chinese name too.
_CHINESE_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


async def for_project(session: AsyncSession, project_id: int) -> WorkCalendar:
    rows = await session.execute(
        select(CalendarOverride.day, CalendarOverride.kind).where(CalendarOverride.project_id == project_id)
    )
    return WorkCalendar({day: kind == "workday" for day, kind in rows})


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def check_range(start: date, end: date) -> None:
    if end < start:
        raise UserFacingError("rhythm.range_backwards", start=start.isoformat(), end=end.isoformat())
    if (end - start).days >= MAX_RANGE_DAYS:
        raise UserFacingError("rhythm.calendar_range_too_long", limit=MAX_RANGE_DAYS)


# --- the official calendar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficialDay:
    day: date
    workday: bool  # True: a make-up working day (调休上班); False: a statutory holiday
    name: str  # as chinesecalendar spells it, e.g. "National Day"


def official_day(day: date) -> OfficialDay | None:
    """The statutory holiday or make-up workday on `day`; None for an ordinary day or an unknown year."""
    if not china_calendar_covers(day.year):
        return None
    off, name = chinese_calendar.get_holiday_detail(day)
    # A named day off is a holiday, a named working day a make-up day; plain weekends have no name.
    return None if name is None else OfficialDay(day, not off, name)


def official_days(start: date, end: date) -> list[OfficialDay]:
    """Statutory holidays and make-up workdays from `start` to `end` in the years the library knows."""
    found = (official_day(day) for day in days(start, end))
    return [day for day in found if day is not None]


def holiday_name(name: str, locale: str) -> str:
    """A chinesecalendar holiday name in the reader's language."""
    return _CHINESE_NAMES.get(name, name) if locale == "zh" else name


# --- the project's overrides -------------------------------------------------------------------------


async def overrides_between(
    session: AsyncSession, project_id: int, start: date, end: date
) -> list[CalendarOverride]:
    rows = await session.scalars(
        select(CalendarOverride)
        .where(
            CalendarOverride.project_id == project_id,
            CalendarOverride.day >= start,
            CalendarOverride.day <= end,
        )
        .order_by(CalendarOverride.day)
    )
    return list(rows)


@dataclass
class OverrideChange:
    """What /holiday add or /workday add did, day by day."""

    changed: list[date] = field(default_factory=list)  # now of the asked kind (new or switched)
    already: list[date] = field(default_factory=list)  # were already of that kind: nothing written


async def add_overrides(
    *,
    session: AsyncSession,
    project_id: int,
    start: date,
    end: date,
    kind: Kind,
    name: str,
    actor: Actor,
    now: datetime,
) -> OverrideChange:
    """Make every day from `start` to `end` a holiday (or a workday) for this project.

    A day that already is one, officially or by the project's override, is left alone (so a holiday
    range over a weekend stores only the weekdays); an override of the other kind is switched."""
    check_range(start, end)
    if len(name) > NAME_LIMIT:
        raise UserFacingError("rhythm.calendar_name_too_long", limit=NAME_LIMIT)
    calendar = await for_project(session, project_id)
    existing = {row.day: row for row in await overrides_between(session, project_id, start, end)}
    result = OverrideChange()
    for day in days(start, end):
        row = existing.get(day)
        if calendar.is_workday(day) == (kind == "workday"):
            result.already.append(day)
        elif row is not None:
            await audit.update(
                row,
                {"kind": kind, "name": name},
                session=session,
                actor=actor,
                now=now,
                project_id=project_id,
                action="calendar.update",
                entity="calendar_override",
            )
            result.changed.append(day)
        else:
            row = CalendarOverride(project_id=project_id, day=day, kind=kind, name=name, created_at=now)
            await audit.add(
                row,
                _FIELDS,
                session=session,
                actor=actor,
                now=now,
                project_id=project_id,
                action="calendar.add",
                entity="calendar_override",
            )
            result.changed.append(day)
    return result


async def remove_overrides(
    *,
    session: AsyncSession,
    project_id: int,
    start: date,
    end: date,
    kind: Kind,
    actor: Actor,
    now: datetime,
) -> list[date]:
    """Remove the project's own `kind` days from `start` to `end` (official days are not the project's
    to remove); the days removed, in order."""
    check_range(start, end)
    removed = []
    for row in await overrides_between(session, project_id, start, end):
        if row.kind != kind:
            continue
        await audit.delete(
            row,
            _FIELDS,
            session=session,
            actor=actor,
            now=now,
            project_id=project_id,
            action="calendar.remove",
            entity="calendar_override",
        )
        removed.append(row.day)
    return removed
