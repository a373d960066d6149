"""Corrections to the plan's people and departments: remove or move a member, rename or delete a
department, remove a PM. Each validates first, writes afterwards and is audited so /undo can put
it back (bot/services/undo.py). Nothing is left pointing at someone who left: their open work
loses its owner and is listed for reassignment, and a department head or the last PM is refused
until someone takes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import wbs
from bot.errors import UserFacingError
from bot.services import audit, members, plan
from bot.services.audit import Actor
from storage.models import (
    ActionItem,
    CharterConfirmation,
    Department,
    Member,
    Project,
    RaciAssignment,
    ResourceRequest,
    Risk,
    Task,
)

# What counts as still open, so a removed member's part in it is handed back.
OPEN_TASK = Task.status != "done"
OPEN_ACTION = ActionItem.status == "open"
OPEN_RISK = Risk.status != "closed"


async def _headed(session: AsyncSession, member: Member) -> list[str]:
    """The names of the departments `member` heads."""
    return list(
        await session.scalars(
            select(Department.name)
            .where(Department.project_id == member.project_id, Department.head_member_id == member.id)
            .order_by(Department.id)
        )
    )


async def open_tasks(session: AsyncSession, member: Member) -> list[str]:
    """Codes of the open tasks `member` owns, in WBS order."""
    codes = await session.scalars(
        select(Task.code).where(
            Task.project_id == member.project_id, Task.owner_member_id == member.id, OPEN_TASK
        )
    )
    return sorted(codes, key=wbs.code_key)


async def _refuse_if_pm_last(session: AsyncSession, member: Member) -> None:
    if member.role == "pm" and len(await members.pms(session, member.project_id)) <= 1:
        raise UserFacingError("structure.last_pm", who=members.mention(member))


# --- members -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRemoved:
    tasks: list[str]  # open tasks that lost their owner: they need one now
    raci: list[str]  # open tasks where they held a RACI role, now dropped
    actions: list[int]  # open action items that lost their owner
    risks: list[int]  # open risks that lost their owner


async def remove_member(
    *, session: AsyncSession, project: Project, member: Member, actor: Actor, now: datetime
) -> MemberRemoved:
    """Take `member` out of the project: their row stays (history, /undo), their open tasks, RACI
    roles, action items and risks are let go so no prompt or alert goes to them any more."""
    await _refuse_if_pm_last(session, member)
    if headed := await _headed(session, member):
        raise UserFacingError(
            "structure.head_first", who=members.mention(member), depts=plan.NAME_SEPARATOR.join(headed)
        )
    owned = list(
        await session.scalars(
            select(Task).where(Task.project_id == project.id, Task.owner_member_id == member.id, OPEN_TASK)
        )
    )
    roles = list(
        await session.execute(
            select(RaciAssignment, Task.code)
            .join(Task, Task.id == RaciAssignment.task_id)
            .where(RaciAssignment.member_id == member.id, OPEN_TASK)
            .order_by(RaciAssignment.id)
        )
    )
    actions = list(
        await session.scalars(
            select(ActionItem).where(
                ActionItem.project_id == project.id, ActionItem.owner_member_id == member.id, OPEN_ACTION
            )
        )
    )
    risks = list(
        await session.scalars(
            select(Risk).where(Risk.project_id == project.id, Risk.owner_member_id == member.id, OPEN_RISK)
        )
    )
    before: dict[str, Any] = {
        "removed_at": None,
        "tasks": [task.id for task in owned],
        "raci": [[row.task_id, row.role] for row, _ in roles],
        "actions": [item.id for item in actions],
        "risks": [risk.id for risk in risks],
    }
    let_go: list[Task | ActionItem | Risk] = [*owned, *actions, *risks]
    for row in let_go:
        row.owner_member_id = None
    for assignment, _ in roles:
        await session.delete(assignment)
    member.removed_at = now
    await session.flush()
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="member.remove",
        entity="member",
        entity_id=member.id,
        before=before,
        after={"removed_at": now.isoformat(), "user": member.platform_user_id},
    )
    return MemberRemoved(
        sorted((task.code for task in owned), key=wbs.code_key),
        sorted({code for _, code in roles} - {task.code for task in owned}, key=wbs.code_key),
        sorted(item.number for item in actions),
        sorted(risk.number for risk in risks),
    )


@dataclass(frozen=True)
class MemberMoved:
    old: Department | None
    changed: bool
    tasks: list[str]  # open tasks they own: still theirs, and still filed under the old department


async def move_member(
    *,
    session: AsyncSession,
    project: Project,
    member: Member,
    department: Department,
    actor: Actor,
    now: datetime,
) -> MemberMoved:
    old = await session.get(Department, member.department_id) if member.department_id else None
    if old is not None and old.id == department.id:
        return MemberMoved(old, False, [])
    headed = [name for name in await _headed(session, member) if name != department.name]
    if headed:
        raise UserFacingError(
            "structure.head_first", who=members.mention(member), depts=plan.NAME_SEPARATOR.join(headed)
        )
    await plan.assign_department(session, project, member, department, actor, now)
    return MemberMoved(old, True, await open_tasks(session, member))


async def remove_pm(
    *, session: AsyncSession, project: Project, member: Member, actor: Actor, now: datetime
) -> bool:
    """Make a PM an ordinary member again (never the last one). Whether they were a PM."""
    if member.role != "pm":
        return False
    await _refuse_if_pm_last(session, member)
    await audit.update(
        member,
        {"role": "member"},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="member.role",
        entity="member",
    )
    return True


# --- departments ---------------------------------------------------------------------------------


async def rename_department(
    *,
    session: AsyncSession,
    project: Project,
    department: Department,
    name: str,
    actor: Actor,
    now: datetime,
) -> bool:
    """Whether the name changed; another department's name is refused."""
    plan.check_length(name, plan.NAME_LIMIT)
    if name == department.name:
        return False
    other = await plan.find_department(session, project.id, name)
    if other is not None and other.id != department.id:
        raise UserFacingError("plan.dept_exists", name=other.name)
    await audit.update(
        department,
        {"name": name},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="department.rename",
        entity="department",
    )
    return True


DEPARTMENT_PICTURE = ("name", "head_member_id", "resource_people", "resource_budget", "resource_other")


async def delete_department(
    *, session: AsyncSession, project: Project, department: Department, actor: Actor, now: datetime
) -> None:
    """Delete an empty department: no members, no tasks, no open resource requests (else refused,
    saying what is still in it). Its charter confirmation goes with it and comes back on /undo."""
    people = await session.scalar(
        select(func.count()).select_from(Member).where(Member.department_id == department.id, members.PRESENT)
    )
    work = await session.scalar(
        select(func.count()).select_from(Task).where(Task.department_id == department.id)
    )
    asks = await session.scalar(
        select(func.count())
        .select_from(ResourceRequest)
        .where(ResourceRequest.department_id == department.id, ResourceRequest.status == "open")
    )
    if people or work or asks:
        raise UserFacingError(
            "structure.dept_not_empty", name=department.name, people=people, tasks=work, requests=asks
        )
    confirmation = await session.scalar(
        select(CharterConfirmation).where(CharterConfirmation.department_id == department.id)
    )
    before = {
        **audit.snapshot(department, *DEPARTMENT_PICTURE),
        "confirmation": audit.snapshot(confirmation, "member_id", "confirmed_at") if confirmation else None,
    }
    department_id = department.id
    if confirmation is not None:
        await session.delete(confirmation)
    await session.delete(department)
    await session.flush()
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="department.delete",
        entity="department",
        entity_id=department_id,
        before=before,
    )
