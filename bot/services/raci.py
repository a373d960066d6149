"""The RACI as the rest of the bot reads it: who answers for a task (a department entry stands for
its head until a person is named, see bot.domain.raci), and the private notes to its I and C."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import raci as rules
from bot.render import raci as render
from bot.services import notify
from bot.services.audit import Actor
from storage.models import Department, Member, Project, RaciAssignment, Task


async def entries(session: AsyncSession, task_ids: Collection[int]) -> dict[int, list[rules.Entry]]:
    """Task id -> its RACI rows in the order they were given."""
    if not task_ids:
        return {}
    rows = await session.execute(
        select(
            RaciAssignment.task_id,
            RaciAssignment.role,
            RaciAssignment.member_id,
            RaciAssignment.department_id,
        )
        .where(RaciAssignment.task_id.in_(list(task_ids)))
        .order_by(RaciAssignment.id)
    )
    result: dict[int, list[rules.Entry]] = {}
    for task_id, role, member_id, department_id in rows:
        result.setdefault(task_id, []).append(rules.Entry(role, member_id, department_id))
    return result


async def heads(session: AsyncSession, project_id: int) -> dict[int, int | None]:
    """Department id -> its head's member id."""
    rows = await session.execute(
        select(Department.id, Department.head_member_id).where(Department.project_id == project_id)
    )
    return {department_id: head_id for department_id, head_id in rows}


async def responsible(
    session: AsyncSession, project_id: int, task_list: Sequence[Task]
) -> dict[int, tuple[int, ...]]:
    """Task id -> the member ids who answer for it (see bot.domain.raci.responsible)."""
    found = await entries(session, [task.id for task in task_list])
    by_department = await heads(session, project_id)
    return {
        task.id: rules.responsible(task.owner_member_id, found.get(task.id, []), by_department)
        for task in task_list
    }


async def tell(
    *,
    session: AsyncSession,
    task: Task,
    event: render.Event,
    actor: Actor,
    now: datetime,
    detail: str = "",
    dates: Sequence[tuple[render.DateField, date | None, date | None]] = (),
) -> int:
    """Tell the task's I (it finished; its `dates` moved) or C (a blocker, `detail` its text)
    privately, a department standing for its head: once per person and event, never the one who
    made the change. How many were told."""
    project = await session.get(Project, task.project_id)
    assert project is not None
    found = await entries(session, [task.id])
    ids = rules.people(found.get(task.id, []), render.ROLE_OF[event], await heads(session, project.id))
    by = await session.scalar(
        select(Member).where(
            Member.project_id == project.id,
            Member.platform == actor.platform,
            Member.platform_user_id == actor.user_id,
        )
    )
    ids = tuple(i for i in ids if by is None or i != by.id)
    if not ids:
        return 0
    today = now.astimezone(ZoneInfo(project.timezone)).date()
    if dates:
        detail = render.date_changes(project.locale, dates, today)
    who = (by.display_name if by else "") or actor.name or actor.user_id
    message = render.told_message(project, task, event, who, detail)
    moment = actor.event_id or now.isoformat()
    told = 0
    for member in await session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.id)):
        key = f"raci:{event}:{task.id}:{moment}:{member.id}"
        told += await notify.tell(session=session, member=member, reply=message, key=key, now=now)
    return told
