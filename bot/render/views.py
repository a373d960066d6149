"""Read-only views shared by several commands, rendered as short markdown for a phone screen."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.render.i18n import t
from bot.services import members, projects
from storage.models import Department, Member, Project, Task


def format_date(value: date | None, locale: str) -> str:
    if value is None:
        return t(locale, "value.none")
    return value.isoformat()


async def _count(session: AsyncSession, project_column: InstrumentedAttribute[int], project_id: int) -> int:
    """Rows of the table owning `project_column` that belong to the project."""
    return int(await session.scalar(select(func.count()).where(project_column == project_id)) or 0)


async def project_choices(session: AsyncSession, choices: list[Project], locale: str) -> str:
    """One line per project to choose from: id, name and PMs, by name (a 1:1 answer notifies no one)."""
    lines = []
    for project in choices:
        names = [pm.display_name or pm.platform_user_id for pm in await members.pms(session, project.id)]
        lines.append(
            t(locale, "project.choice", id=project.id, name=project.name, pms="、".join(names) or "-")
        )
    return "\n".join(lines)


async def project_summary(session: AsyncSession, project: Project, *, locale: str, today: date) -> str:
    pms = await members.pms(session, project.id)
    chats = await projects.chats(session, project.id)
    lines = [
        t(
            locale,
            "project.line_dates",
            start=format_date(project.start_date, locale),
            end=format_date(project.end_date, locale),
        ),
        t(locale, "project.line_goal", goal=project.goal or t(locale, "value.unset")),
        t(
            locale,
            "project.line_pms",
            pms="、".join(members.mention(pm) for pm in pms) or t(locale, "value.none"),
        ),
        t(
            locale,
            "project.line_counts",
            departments=await _count(session, Department.project_id, project.id),
            members=await _count(session, Member.project_id, project.id),
            tasks=await _count(session, Task.project_id, project.id),
            chats=len(chats),
        ),
    ]
    return "\n".join(lines)
