"""Plan use cases: the charter, departments, members, phases, tasks, RACI and milestones.

Every writing function validates first and writes afterwards, audits each change with before/after
snapshots, and (for tasks) refreshes the parents' roll-ups. Refusals are `UserFacingError`s whose
params are plain text (codes, ISO dates, names), so the handler's locale renders them. Services never
commit and never read the clock.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import UserRef
from bot.domain import wbs
from bot.errors import UsageError, UserFacingError
from bot.services import audit, members, tasks
from bot.services.audit import Actor
from bot.services.raci import tell as tell_raci
from storage.models import (
    Department,
    Member,
    Milestone,
    MilestoneTask,
    Project,
    RaciAssignment,
    Task,
    TaskDependency,
)

TEXT_LIMIT = 2000  # one charter field (the parser refuses longer first: commands.parsing.CHARTER_LIMIT)
NAME_LIMIT = 100  # Department.name
TITLE_LIMIT = 300  # Task.title, Milestone.title

CHARTER_TEXT_FIELDS: Final = ("background", "goal", "deliverables", "scope_in", "scope_out")
CHARTER_DATE_FIELDS: Final = ("start", "end")
CHARTER_FIELDS: Final = (*CHARTER_TEXT_FIELDS, *CHARTER_DATE_FIELDS)
RACI_ROLES: Final = ("R", "A", "C", "I")

CODE_SEPARATOR = ", "
NAME_SEPARATOR = " / "


class Keep(enum.Enum):
    """Marks an edit argument that was not given (None means "clear it")."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


# --- pure rules ------------------------------------------------------------------------------------


def level(code: str) -> int:
    return code.count(".") + 1


def check_length(text: str, limit: int) -> None:
    if len(text) > limit:
        raise UserFacingError("plan.too_long", max=limit, length=len(text))


def check_dates(start: date | None, due: date | None) -> None:
    if start is not None and due is not None and due < start:
        raise UserFacingError("plan.start_after_due", start=start.isoformat(), due=due.isoformat())


def outside(parent: Task, start: date | None, due: date | None) -> bool:
    """Whether a child's planned dates leave the window its parent was given explicitly."""
    early = parent.start_date is not None and start is not None and start < parent.start_date
    late = parent.due_date is not None and due is not None and due > parent.due_date
    return early or late


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --- charter ---------------------------------------------------------------------------------------


async def update_charter(
    *,
    session: AsyncSession,
    project: Project,
    field: str,
    value: str | date | None,
    actor: Actor,
    now: datetime,
) -> bool:
    """Set one charter field: a text field (`""` clears it) or the project's start/end date.
    Whether it changed."""
    if field in CHARTER_TEXT_FIELDS:
        text = value if isinstance(value, str) else ""
        check_length(text, TEXT_LIMIT)
        attribute = field
        new: str | date | None = text
    elif field in CHARTER_DATE_FIELDS:
        if isinstance(value, str):
            raise TypeError("a project date must be a date or None")
        start = value if field == "start" else project.start_date
        end = value if field == "end" else project.end_date
        if start is not None and end is not None and end < start:
            raise UserFacingError("charter.end_before_start", start=start.isoformat(), end=end.isoformat())
        attribute = "start_date" if field == "start" else "end_date"
        new = value
    else:
        raise ValueError(f"unknown charter field {field!r}")
    if getattr(project, attribute) == new:
        return False
    project.updated_at = now
    await audit.update(
        project,
        {attribute: new},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="charter.update",
        entity="project",
    )
    return True


# --- departments and members -----------------------------------------------------------------------


async def departments(session: AsyncSession, project_id: int) -> list[Department]:
    result = await session.scalars(
        select(Department).where(Department.project_id == project_id).order_by(Department.id)
    )
    return list(result)


async def project_members(session: AsyncSession, project_id: int) -> list[Member]:
    result = await session.scalars(
        select(Member).where(Member.project_id == project_id, members.PRESENT).order_by(Member.id)
    )
    return list(result)


async def find_department(session: AsyncSession, project_id: int, name: str) -> Department | None:
    """A department by exact name, else case-insensitively."""
    known = await departments(session, project_id)
    exact = next((dept for dept in known if dept.name == name), None)
    return exact or next((dept for dept in known if dept.name.casefold() == name.casefold()), None)


async def resolve_department(session: AsyncSession, project_id: int, name: str) -> Department:
    """The named department, or a refusal that lists the existing ones."""
    found = await find_department(session, project_id, name)
    if found is not None:
        return found
    known = await departments(session, project_id)
    if not known:
        raise UserFacingError("plan.dept_unknown_none", name=name)
    names = [d.name for d in known]
    if close := difflib.get_close_matches(name, names, n=1, cutoff=0.5):
        # A suggestion only: acting on a guessed department could misfile the work.
        raise UserFacingError("plan.dept_did_you_mean", name=name, guess=close[0])
    raise UserFacingError("plan.dept_unknown", name=name, known=NAME_SEPARATOR.join(names))


async def assign_department(
    session: AsyncSession,
    project: Project,
    member: Member,
    department: Department,
    actor: Actor,
    now: datetime,
) -> None:
    """Put `member` in `department` (audited)."""
    await audit.update(
        member,
        {"department_id": department.id},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="member.department",
        entity="member",
    )


async def _join_if_unassigned(
    session: AsyncSession,
    project: Project,
    member: Member,
    department: Department,
    actor: Actor,
    now: datetime,
) -> None:
    """A department head with no department yet belongs to the one they head."""
    if member.department_id is None:
        await assign_department(session, project, member, department, actor, now)


@dataclass(frozen=True)
class HeadResult:
    member: Member
    joined: bool  # was not a project member before
    changed: bool = True


async def add_department(
    *,
    session: AsyncSession,
    project: Project,
    name: str,
    head: UserRef | None,
    actor: Actor,
    now: datetime,
) -> tuple[Department, HeadResult | None]:
    check_length(name, NAME_LIMIT)
    if await find_department(session, project.id, name) is not None:
        raise UserFacingError("plan.dept_exists", name=name)
    head_result = None
    if head is not None:
        member, joined = await members.find_or_add(
            session=session, project=project, user=head, actor=actor, now=now
        )
        head_result = HeadResult(member, joined)
    department = Department(
        project_id=project.id, name=name, head_member_id=head_result.member.id if head_result else None
    )
    await audit.add(
        department,
        ("name", "head_member_id"),
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="department.add",
        entity="department",
    )
    if head_result is not None:
        await _join_if_unassigned(session, project, head_result.member, department, actor, now)
    return department, head_result


async def set_department_head(
    *,
    session: AsyncSession,
    project: Project,
    department: Department,
    head: UserRef,
    actor: Actor,
    now: datetime,
) -> HeadResult:
    member, joined = await members.find_or_add(
        session=session, project=project, user=head, actor=actor, now=now
    )
    if department.head_member_id == member.id:
        return HeadResult(member, joined, changed=False)
    await audit.update(
        department,
        {"head_member_id": member.id},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="department.head",
        entity="department",
    )
    await _join_if_unassigned(session, project, member, department, actor, now)
    return HeadResult(member, joined)


MemberOutcome = Literal["joined", "joined_dept", "moved", "same_dept", "exists"]


@dataclass(frozen=True)
class MemberChange:
    member: Member
    outcome: MemberOutcome
    old_department: str | None = None  # the department's name before a move


async def add_members(
    *,
    session: AsyncSession,
    project: Project,
    users: Sequence[UserRef],
    department: Department | None,
    actor: Actor,
    now: datetime,
) -> list[MemberChange]:
    """Add people to the project; with a department, (re)assign them to it."""
    names = {dept.id: dept.name for dept in await departments(session, project.id)}
    changes: list[MemberChange] = []
    for user in users:
        member, joined = await members.find_or_add(
            session=session, project=project, user=user, actor=actor, now=now
        )
        if department is None:
            changes.append(MemberChange(member, "joined" if joined else "exists"))
            continue
        old_id = member.department_id
        if old_id == department.id:  # someone removed earlier comes back to their department
            changes.append(MemberChange(member, "joined_dept" if joined else "same_dept"))
            continue
        await assign_department(session, project, member, department, actor, now)
        if old_id is None:
            changes.append(MemberChange(member, "joined_dept"))
        else:
            changes.append(MemberChange(member, "moved", names.get(old_id)))
    return changes


# --- tasks -----------------------------------------------------------------------------------------


async def get_task(session: AsyncSession, project_id: int, code: str) -> Task:
    task = await tasks.by_code(session, project_id, code)
    if task is None:
        raise UserFacingError("plan.unknown_task", code=code)
    return task


async def _tasks_by_codes(session: AsyncSession, project_id: int, codes: Sequence[str]) -> list[Task]:
    """The tasks with `codes`, in that order; a refusal naming every unknown code."""
    if not codes:
        return []
    found = {
        task.code: task
        for task in await session.scalars(
            select(Task).where(Task.project_id == project_id, Task.code.in_(codes))
        )
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise UserFacingError("plan.unknown_codes", codes=CODE_SEPARATOR.join(unknown))
    return [found[code] for code in codes]


async def _check_code_free(session: AsyncSession, project_id: int, code: str) -> None:
    existing = await tasks.by_code(session, project_id, code)
    if existing is not None:
        raise UserFacingError("plan.code_exists", code=code, title=existing.title)


async def checked_dependencies(
    session: AsyncSession, project_id: int, code: str, after: Sequence[str]
) -> list[Task]:
    """The tasks `code` may depend on: existing, not itself or its family, and loop-free."""
    if code in after:
        raise UserFacingError("plan.self_dependency", code=code)
    for other in after:
        if wbs.is_family(code, other):
            raise UserFacingError("plan.family_dependency", code=code, other=other)
    upstream = await _tasks_by_codes(session, project_id, after)
    codes = await session.scalars(select(Task.code).where(Task.project_id == project_id))
    path = wbs.find_cycle(await tasks.dependencies(session, project_id), code, after, codes)
    if path is not None:
        raise UserFacingError("plan.dependency_cycle", path=" → ".join(path))
    return upstream


async def _overlaps(session: AsyncSession, project_id: int, code: str) -> list[wbs.Overlap]:
    """The task's dependencies, either way, whose upstream is due after the downstream starts."""
    rolled = tasks.effective(await tasks.ordered(session, project_id))
    return wbs.overlaps(await tasks.dependencies(session, project_id), rolled, [code])


_TASK_PICTURE = ("code", "title", "parent_id", "owner_member_id", "department_id", "start_date", "due_date")


def _task_picture(task: Task) -> dict[str, Any]:
    return audit.snapshot(task, *_TASK_PICTURE)


async def add_phase(
    *,
    session: AsyncSession,
    project: Project,
    code: str,
    title: str,
    start: date | None,
    end: date | None,
    actor: Actor,
    now: datetime,
) -> Task:
    if level(code) != 1:
        raise UsageError("plan.phase_level", code=code)
    check_length(title, TITLE_LIMIT)
    check_dates(start, end)
    await _check_code_free(session, project.id, code)
    phase = Task(
        project_id=project.id,
        code=code,
        title=title,
        start_date=start,
        due_date=end,
        progress=0,
        status="not_started",
        created_at=now,
        updated_at=now,
    )
    await audit.add(
        phase,
        _TASK_PICTURE,
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="phase.add",
        entity="task",
    )
    await tasks.refresh_rollups(session=session, project_id=project.id)
    return phase


async def department_for(
    session: AsyncSession, project: Project, *, name: str | None, owner: UserRef | None
) -> Department | None:
    """A new task's department: the one named, else its owner's (when the owner is a member)."""
    if name is not None:
        return await resolve_department(session, project.id, name)
    if owner is None:
        return None
    member = await members.by_user(session, project.id, owner.platform, owner.user_id)
    if member is None or member.department_id is None:
        return None
    return await session.get(Department, member.department_id)


@dataclass(frozen=True)
class TaskAdded:
    task: Task
    owner: Member | None
    owner_joined: bool
    department: Department | None
    after: list[str]
    outside_parent: Task | None  # the parent whose explicit dates the task leaves
    overlaps: list[wbs.Overlap] = field(default_factory=list)  # accepted, with a warning


async def check_new_task(
    session: AsyncSession,
    project_id: int,
    code: str,
    title: str,
    start: date | None,
    due: date | None,
    after: Sequence[str],
) -> tuple[Task, list[Task]]:
    """Refuse a new task that could not be added; its parent and the tasks it would depend on."""
    if level(code) == 1:
        raise UsageError("plan.task_level", code=code)
    check_length(title, TITLE_LIMIT)
    check_dates(start, due)
    await _check_code_free(session, project_id, code)
    parent_code = wbs.parent_of(code)
    assert parent_code is not None
    parent = await tasks.by_code(session, project_id, parent_code)
    if parent is None:
        key = "plan.parent_phase_missing" if level(parent_code) == 1 else "plan.parent_task_missing"
        raise UserFacingError(key, parent=parent_code)
    return parent, await checked_dependencies(session, project_id, code, after)


async def add_task(
    *,
    session: AsyncSession,
    project: Project,
    code: str,
    title: str,
    owner: UserRef | None,
    department: Department | None,
    start: date | None,
    due: date | None,
    after: Sequence[str],
    actor: Actor,
    now: datetime,
) -> TaskAdded:
    parent, upstream = await check_new_task(session, project.id, code, title, start, due, after)

    owner_member, joined = (None, False)
    if owner is not None:
        owner_member, joined = await members.find_or_add(
            session=session, project=project, user=owner, actor=actor, now=now
        )
    task = Task(
        project_id=project.id,
        code=code,
        parent_id=parent.id,
        title=title,
        owner_member_id=owner_member.id if owner_member else None,
        department_id=department.id if department else None,
        start_date=start,
        due_date=due,
        progress=0,
        status="not_started",
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    await session.flush()
    session.add_all(TaskDependency(task_id=task.id, depends_on_id=dep.id) for dep in upstream)
    if owner_member is not None:
        session.add(RaciAssignment(task_id=task.id, member_id=owner_member.id, role="R"))
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="task.add",
        entity="task",
        entity_id=task.id,
        after={**_task_picture(task), "after": list(after)},
    )
    await tasks.refresh_rollups(session=session, project_id=project.id)
    return TaskAdded(
        task=task,
        owner=owner_member,
        owner_joined=joined,
        department=department,
        after=list(after),
        outside_parent=parent if outside(parent, start, due) else None,
        overlaps=await _overlaps(session, project.id, code) if after else [],
    )


ChangeField = Literal[
    "title", "owner", "dept", "start", "due", "after", "tasks", "text", "level", "mitigation"
]


@dataclass(frozen=True)
class Change:
    """One changed field; values are raw (str, Member, Department, date, list of codes, or None)."""

    field: ChangeField
    old: Any
    new: Any


@dataclass(frozen=True)
class TaskEdited:
    task: Task
    changes: list[Change]
    owner_joined: Member | None = None
    overlaps: list[wbs.Overlap] = field(default_factory=list)  # accepted, with a warning


async def edit_task(
    *,
    session: AsyncSession,
    project: Project,
    task: Task,
    title: str | None = None,
    owner: UserRef | None = None,
    department: Department | Keep | None = KEEP,
    start: date | Keep | None = KEEP,
    due: date | Keep | None = KEEP,
    after: Sequence[str] | None = None,
    actor: Actor,
    now: datetime,
) -> TaskEdited:
    """Change what is given; `after` replaces the dependency list (empty clears it)."""
    if title is not None:
        check_length(title, TITLE_LIMIT)
    new_start = task.start_date if isinstance(start, Keep) else start
    new_due = task.due_date if isinstance(due, Keep) else due
    check_dates(new_start, new_due)
    upstream = await checked_dependencies(session, project.id, task.code, after) if after is not None else []

    changes: list[Change] = []
    before: dict[str, Any] = {}  # task attributes as they were
    extra_before: dict[str, Any] = {}  # related rows: dependencies, the R
    extra_after: dict[str, Any] = {}
    owner_joined = None
    if title is not None and title != task.title:
        changes.append(Change("title", task.title, title))
        before["title"] = task.title
        task.title = title
    if owner is not None:
        member, joined = await members.find_or_add(
            session=session, project=project, user=owner, actor=actor, now=now
        )
        owner_joined = member if joined else None
        if member.id != task.owner_member_id:
            old = await session.get(Member, task.owner_member_id) if task.owner_member_id else None
            changes.append(Change("owner", old, member))
            before["owner_member_id"] = task.owner_member_id
            task.owner_member_id = member.id
            responsible = list(
                await session.scalars(
                    select(RaciAssignment).where(
                        RaciAssignment.task_id == task.id, RaciAssignment.role == "R"
                    )
                )
            )
            # The R follows the owner while it only mirrors the old owner; a real RACI (a shared R,
            # a department R) stays as set.
            mirrored = [(r.member_id, r.department_id) for r in responsible]
            if not mirrored or mirrored == [(before["owner_member_id"], None)]:
                extra_before["raci_R"] = [r.member_id for r in responsible]
                extra_after["raci_R"] = [member.id]
                for assignment in responsible:
                    await session.delete(assignment)
                await session.flush()
                session.add(RaciAssignment(task_id=task.id, member_id=member.id, role="R"))
    if not isinstance(department, Keep) and (department.id if department else None) != task.department_id:
        old_dept = await session.get(Department, task.department_id) if task.department_id else None
        changes.append(Change("dept", old_dept, department))
        before["department_id"] = task.department_id
        task.department_id = department.id if department else None
    if new_start != task.start_date:
        changes.append(Change("start", task.start_date, new_start))
        before["start_date"] = _iso(task.start_date)
        task.start_date = new_start
    if new_due != task.due_date:
        changes.append(Change("due", task.due_date, new_due))
        before["due_date"] = _iso(task.due_date)
        task.due_date = new_due
    if after is not None:
        old_after = await tasks.dependency_codes(session, task.id)
        new_after = sorted(after, key=wbs.code_key)
        if old_after != new_after:
            changes.append(Change("after", old_after, list(after)))
            extra_before["after"] = old_after
            extra_after["after"] = list(after)
            await session.execute(delete(TaskDependency).where(TaskDependency.task_id == task.id))
            session.add_all(TaskDependency(task_id=task.id, depends_on_id=dep.id) for dep in upstream)
    if not changes:
        return TaskEdited(task, [], owner_joined)
    task.updated_at = now
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="task.edit",
        entity="task",
        entity_id=task.id,
        before={"code": task.code, **before, **extra_before},
        after={"code": task.code, **audit.snapshot(task, *before), **extra_after},
    )
    await tasks.refresh_rollups(session=session, project_id=project.id)
    if moved := [(c.field, c.old, c.new) for c in changes if c.field in ("start", "due")]:
        await tell_raci(session=session, task=task, event="dates", actor=actor, now=now, dates=moved)
    scheduled = {"start", "due", "after"} & {change.field for change in changes}
    overlaps = await _overlaps(session, project.id, task.code) if scheduled else []
    return TaskEdited(task, changes, owner_joined, overlaps)


async def subtree(session: AsyncSession, task: Task) -> list[Task]:
    """The task and everything under it, in WBS order."""
    ordered = await tasks.ordered(session, task.project_id)
    return [t for t in ordered if t.code == task.code or t.code.startswith(task.code + ".")]


@dataclass(frozen=True)
class TaskDeleted:
    code: str
    title: str
    subtasks: list[str] = field(default_factory=list)  # codes under it, deleted with it
    dependents: list[str] = field(default_factory=list)  # codes outside it that depended on it
    milestones: list[int] = field(default_factory=list)  # numbers it (or a subtask) was linked to
    done: bool = True  # False: only what would go, waiting for a confirmation


async def delete_task(
    *, session: AsyncSession, project: Project, task: Task, confirm: bool, actor: Actor, now: datetime
) -> TaskDeleted:
    """Delete the task with its subtasks and every dependency and milestone link. A task with
    subtasks or with other tasks depending on it is only deleted once `confirm`ed; before that the
    result says what would go (`done` False) and nothing changes. Each deleted task gets its own
    audit entry (deepest first), so /undo brings the tree back parents first."""
    tree = await subtree(session, task)
    ids = {t.id for t in tree}
    dependents = sorted(
        set(
            await session.scalars(
                select(Task.code)
                .join(TaskDependency, TaskDependency.task_id == Task.id)
                .where(TaskDependency.depends_on_id.in_(ids), Task.id.not_in(ids))
            )
        ),
        key=wbs.code_key,
    )
    numbers = sorted(
        set(
            await session.scalars(
                select(Milestone.number)
                .join(MilestoneTask, MilestoneTask.milestone_id == Milestone.id)
                .where(MilestoneTask.task_id.in_(ids))
            )
        )
    )
    subtasks = [t.code for t in tree if t.id != task.id]
    result = TaskDeleted(task.code, task.title, subtasks, dependents, numbers)
    if (subtasks or dependents) and not confirm:
        return replace(result, done=False)
    for doomed in sorted(tree, key=lambda t: wbs.code_key(t.code), reverse=True):
        await _delete_one(session, project, doomed, actor, now)
    await tasks.refresh_rollups(session=session, project_id=project.id)
    return result


async def _delete_one(
    session: AsyncSession, project: Project, task: Task, actor: Actor, now: datetime
) -> None:
    """Delete one task (its children already gone) and its links; the audit entry keeps them all."""
    dependents = sorted(
        await session.scalars(
            select(Task.code)
            .join(TaskDependency, TaskDependency.task_id == Task.id)
            .where(TaskDependency.depends_on_id == task.id)
        ),
        key=wbs.code_key,
    )
    numbers = sorted(
        await session.scalars(
            select(Milestone.number)
            .join(MilestoneTask, MilestoneTask.milestone_id == Milestone.id)
            .where(MilestoneTask.task_id == task.id)
        )
    )
    raci_rows = await session.scalars(
        select(RaciAssignment).where(RaciAssignment.task_id == task.id).order_by(RaciAssignment.id)
    )
    before = {
        **_task_picture(task),
        **audit.snapshot(task, "progress", "status"),
        "after": await tasks.dependency_codes(session, task.id),
        "dependents": dependents,
        "raci": [[row.role, raci_ref(row)] for row in raci_rows],
        "milestones": numbers,
    }
    task_id = task.id
    await session.execute(
        delete(TaskDependency).where(
            (TaskDependency.task_id == task_id) | (TaskDependency.depends_on_id == task_id)
        )
    )
    await session.execute(delete(RaciAssignment).where(RaciAssignment.task_id == task_id))
    await session.execute(delete(MilestoneTask).where(MilestoneTask.task_id == task_id))
    await session.delete(task)
    await session.flush()
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="task.delete",
        entity="task",
        entity_id=task_id,
        before=before,
    )


# --- RACI ------------------------------------------------------------------------------------------

RaciTarget = Member | Department  # a department stands for its head until a person is named
RaciRef = int | dict[str, int]  # in the audit log: a member id, or {"department": id}


def raci_ref(target: RaciTarget | RaciAssignment) -> RaciRef:
    if isinstance(target, RaciAssignment):
        if target.department_id is not None:
            return {"department": target.department_id}
        assert target.member_id is not None  # the table's one_target check
        return target.member_id
    return target.id if isinstance(target, Member) else {"department": target.id}


def raci_row(task_id: int, role: str, ref: RaciRef) -> RaciAssignment:
    if isinstance(ref, dict):
        return RaciAssignment(task_id=task_id, department_id=ref["department"], role=role)
    return RaciAssignment(task_id=task_id, member_id=ref, role=role)


async def raci(session: AsyncSession, task_id: int) -> dict[str, list[RaciTarget]]:
    """Role -> members and departments in the order they were given; every role present (maybe empty)."""
    rows = await session.execute(
        select(RaciAssignment.role, Member, Department)
        .outerjoin(Member, Member.id == RaciAssignment.member_id)
        .outerjoin(Department, Department.id == RaciAssignment.department_id)
        .where(RaciAssignment.task_id == task_id)
        .order_by(RaciAssignment.id)
    )
    result: dict[str, list[RaciTarget]] = {role: [] for role in RACI_ROLES}
    for role, member, department in rows:
        result[role].append(member or department)
    return result


def raci_picture(roles: Mapping[str, Sequence[RaciTarget]], owner_member_id: int | None) -> dict[str, Any]:
    return {
        **{role: [raci_ref(t) for t in roles.get(role, ())] for role in RACI_ROLES},
        "owner_member_id": owner_member_id,
    }


@dataclass(frozen=True)
class RaciSet:
    roles: dict[str, list[RaciTarget]]
    joined: list[Member]  # people added to the project on the way
    owner: Member | None  # None: only departments are R, their heads answer for it
    owner_changed: bool


async def set_raci(
    *,
    session: AsyncSession,
    project: Project,
    task: Task,
    roles: Mapping[str, Sequence[UserRef | str]],
    actor: Actor,
    now: datetime,
) -> RaciSet:
    """Replace the task's RACI with `roles` (people, or department names): exactly one A, at least
    one R; the first person R owns the task, none when only departments are R."""
    accountable = roles.get("A", ())
    if len(accountable) != 1:
        raise UserFacingError("plan.raci_one_a", count=len(accountable))
    if not roles.get("R"):
        raise UserFacingError("plan.raci_need_r")
    # Every department first: an unknown name refuses before anyone is added to the project.
    named = {
        name: await resolve_department(session, project.id, name)
        for role in RACI_ROLES
        for name in roles.get(role, ())
        if isinstance(name, str)
    }
    before = raci_picture(await raci(session, task.id), task.owner_member_id)

    assigned: dict[str, list[RaciTarget]] = {role: [] for role in RACI_ROLES}
    joined: list[Member] = []
    for role in RACI_ROLES:
        for given in roles.get(role, ()):
            if isinstance(given, str):
                target: RaciTarget = named[given]
            else:
                target, is_new = await members.find_or_add(
                    session=session, project=project, user=given, actor=actor, now=now
                )
                if is_new:
                    joined.append(target)
            if target not in assigned[role]:  # `Ops` and `ops` are one department
                assigned[role].append(target)
    await session.execute(delete(RaciAssignment).where(RaciAssignment.task_id == task.id))
    session.add_all(
        raci_row(task.id, role, raci_ref(target)) for role in RACI_ROLES for target in assigned[role]
    )
    owner = next((target for target in assigned["R"] if isinstance(target, Member)), None)
    owner_id = owner.id if owner else None
    owner_changed = task.owner_member_id != owner_id
    task.owner_member_id = owner_id
    task.updated_at = now
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="raci.set",
        entity="task",
        entity_id=task.id,
        before={"code": task.code, **before},
        after={"code": task.code, **raci_picture(assigned, owner_id)},
    )
    return RaciSet(assigned, joined, owner, owner_changed)


# --- milestones ------------------------------------------------------------------------------------


async def milestones(session: AsyncSession, project_id: int) -> list[Milestone]:
    result = await session.scalars(
        select(Milestone).where(Milestone.project_id == project_id).order_by(Milestone.number)
    )
    return list(result)


async def milestone_codes(session: AsyncSession, project_id: int) -> dict[int, list[str]]:
    """Milestone id -> codes of its linked tasks in WBS order."""
    rows = await session.execute(
        select(MilestoneTask.milestone_id, Task.code)
        .join(Task, Task.id == MilestoneTask.task_id)
        .where(Task.project_id == project_id)
    )
    linked: dict[int, list[str]] = {}
    for milestone_id, code in rows:
        linked.setdefault(milestone_id, []).append(code)
    return {key: sorted(codes, key=wbs.code_key) for key, codes in linked.items()}


async def add_milestone(
    *,
    session: AsyncSession,
    project: Project,
    title: str,
    due: date,
    codes: Sequence[str],
    actor: Actor,
    now: datetime,
) -> Milestone:
    check_length(title, TITLE_LIMIT)
    linked = await _tasks_by_codes(session, project.id, codes)
    highest = await session.scalar(
        select(func.max(Milestone.number)).where(Milestone.project_id == project.id)
    )
    milestone = Milestone(
        project_id=project.id,
        number=(highest or 0) + 1,
        title=title,
        due_date=due,
        status="open",
        created_at=now,
    )
    session.add(milestone)
    await session.flush()
    session.add_all(MilestoneTask(milestone_id=milestone.id, task_id=task.id) for task in linked)
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="milestone.add",
        entity="milestone",
        entity_id=milestone.id,
        after={**audit.snapshot(milestone, "number", "title", "due_date", "status"), "tasks": list(codes)},
    )
    return milestone


async def milestone_by_number(session: AsyncSession, project_id: int, number: int) -> Milestone:
    milestone = await session.scalar(
        select(Milestone).where(Milestone.project_id == project_id, Milestone.number == number)
    )
    if milestone is None:
        raise UserFacingError("plan.milestone_unknown", number=number)
    return milestone


async def _unfinished(session: AsyncSession, project_id: int, milestone: Milestone) -> list[tuple[str, int]]:
    """The milestone's linked tasks that are not finished: (code, effective %)."""
    rolled = tasks.effective(await tasks.ordered(session, project_id))
    codes = (await milestone_codes(session, project_id)).get(milestone.id, [])
    return [(code, rolled[code].progress) for code in codes if rolled[code].status != "done"]


async def complete_milestone(
    *, session: AsyncSession, project: Project, number: int, force: bool, actor: Actor, now: datetime
) -> tuple[Milestone, list[tuple[str, int]]]:
    """Mark it done; returns it with its linked tasks that are not finished (code, effective %).
    While some are open it is refused unless `force`: reached in spite of them, on the PM's word."""
    milestone = await milestone_by_number(session, project.id, number)
    if milestone.status == "done":
        raise UserFacingError("plan.milestone_already_done", number=number, title=milestone.title)
    unfinished = await _unfinished(session, project.id, milestone)
    if unfinished and not force:
        raise UserFacingError(
            "plan.milestone_tasks_open",
            number=number,
            items=", ".join(f"{code} {progress}%" for code, progress in unfinished),
        )
    await audit.update(
        milestone,
        {"status": "done", "done_at": now},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="milestone.done",
        entity="milestone",
    )
    return milestone, unfinished


async def reopen_milestone(
    *, session: AsyncSession, project: Project, number: int, actor: Actor, now: datetime
) -> Milestone:
    milestone = await milestone_by_number(session, project.id, number)
    if milestone.status != "done":
        raise UserFacingError("plan.milestone_not_done", number=number, title=milestone.title)
    await audit.update(
        milestone,
        {"status": "open", "done_at": None},
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="milestone.reopen",
        entity="milestone",
    )
    return milestone


@dataclass(frozen=True)
class MilestoneEdited:
    milestone: Milestone
    changes: list[Change]


async def edit_milestone(
    *,
    session: AsyncSession,
    project: Project,
    number: int,
    title: str | None,
    due: date | None,
    codes: Sequence[str] | None,
    actor: Actor,
    now: datetime,
) -> MilestoneEdited:
    """Change the title, due date or linked tasks (None: keep); the audit entry holds both sides."""
    milestone = await milestone_by_number(session, project.id, number)
    linked_before = (await milestone_codes(session, project.id)).get(milestone.id, [])
    changes: list[Change] = []
    before: dict[str, Any] = {}
    if title is not None and title != milestone.title:
        check_length(title, TITLE_LIMIT)
        changes.append(Change("title", milestone.title, title))
        before["title"] = milestone.title
        milestone.title = title
    if due is not None and due != milestone.due_date:
        changes.append(Change("due", milestone.due_date, due))
        before["due_date"] = milestone.due_date.isoformat()
        milestone.due_date = due
    extra_before: dict[str, Any] = {}
    extra_after: dict[str, Any] = {}
    if codes is not None and sorted(codes, key=wbs.code_key) != linked_before:
        linked = await _tasks_by_codes(session, project.id, codes)
        changes.append(Change("tasks", linked_before, sorted(codes, key=wbs.code_key)))
        extra_before["tasks"], extra_after["tasks"] = linked_before, sorted(codes, key=wbs.code_key)
        await session.execute(delete(MilestoneTask).where(MilestoneTask.milestone_id == milestone.id))
        session.add_all(MilestoneTask(milestone_id=milestone.id, task_id=task.id) for task in linked)
    if changes:
        await audit.record(
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="milestone.edit",
            entity="milestone",
            entity_id=milestone.id,
            before={"number": number, **before, **extra_before},
            after={"number": number, **audit.snapshot(milestone, *before), **extra_after},
        )
    return MilestoneEdited(milestone, changes)


async def delete_milestone(
    *, session: AsyncSession, project: Project, number: int, actor: Actor, now: datetime
) -> Milestone:
    milestone = await milestone_by_number(session, project.id, number)
    linked = (await milestone_codes(session, project.id)).get(milestone.id, [])
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="milestone.delete",
        entity="milestone",
        entity_id=milestone.id,
        before={
            **audit.snapshot(milestone, "number", "title", "due_date", "status", "done_at"),
            "tasks": linked,
        },
    )
    await session.delete(milestone)
    await session.flush()
    return milestone
