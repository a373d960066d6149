"""Importing a plan from a workbook: what it would change, and applying that through the plan services.

The sheet is matched to the project by WBS code. A task in the sheet and not in the project is
added; one in both is edited where the sheet differs; one in the project and not in the sheet is
listed and kept, and deleted only when the PM asks (`delete_missing`): a row left out of a sheet is
too easy a way to lose work. People are matched to members by display name (or user id); unknown
names stop the import unless the PM accepts that those tasks get no owner (`allow_unassigned`; an
existing task then keeps its owner, as a blank owner cell does, since the services cannot clear one).
Milestones are matched by title: a new title makes a milestone due on its tasks' latest due date.

Everything is checked before anything is written, and every change goes through bot/services/plan.py
(which audits each one), in the caller's one transaction: the caller commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import UserRef
from bot.domain import wbs
from bot.domain.plan_sheet import Plan, PlanColumn, PlanRow, SheetError
from bot.domain.snapshot import ProjectSnapshot
from bot.errors import UserFacingError
from bot.services import plan as plan_service
from bot.services import snapshot
from bot.services.audit import Actor
from storage.models import Department, Member, Project


def name_of(member: Member) -> str:
    """How a person is written in a sheet: their display name, else their user id."""
    return member.display_name or member.platform_user_id


def current_plan(snap: ProjectSnapshot) -> Plan:
    """The project's plan as the sheet states one: each task's own dates (a parent's span comes
    from its children), owners (present members) and departments by name, milestones by title."""
    members = {member.id: member for member in snap.members}
    departments = {department.id: department.name for department in snap.departments}
    linked: dict[int, set[str]] = {}
    for milestone in snap.milestones:
        for task_id in milestone.task_ids:
            linked.setdefault(task_id, set()).add(milestone.title)
    return Plan(
        tuple(
            PlanRow(
                code=task.code,
                title=task.title,
                owner=members[task.owner_member_id].name if task.owner_member_id in members else None,
                department=departments.get(task.department_id) if task.department_id else None,
                start=task.start_date,
                due=task.due_date,
                after=tuple(sorted(snap.graph.get(task.code, ()), key=wbs.code_key)),
                milestones=tuple(sorted(linked.get(task.id, ()))),
            )
            for task in snap.tasks
        )
    )


# The fields an import compares (the level column is derived, milestones are compared per milestone).
_FIELDS: tuple[PlanColumn, ...] = ("title", "owner", "department", "start", "due", "after")


@dataclass(frozen=True)
class TaskChange:
    kind: Literal["add", "edit", "missing", "delete"]
    code: str
    title: str
    fields: tuple[tuple[PlanColumn, object, object], ...] = ()  # (column, old, new) of an edit


@dataclass(frozen=True)
class MilestoneChange:
    number: int | None  # None: a new milestone
    title: str
    due: date | None
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass
class Preview:
    """What an import would change (or did), or why it cannot."""

    errors: list[SheetError] = field(default_factory=list)
    unknown_people: list[str] = field(default_factory=list)
    tasks: list[TaskChange] = field(default_factory=list)
    milestones: list[MilestoneChange] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(c.kind != "missing" for c in self.tasks) + len(self.milestones)


@dataclass
class _Resolved:
    """The sheet's plan as it would be stored, with the members and departments its names mean."""

    rows: dict[str, PlanRow]
    owners: dict[str, Member]
    departments: dict[str, Department]


def _match(members: Sequence[Member], name: str) -> list[Member]:
    """Members written `name`: by display name, else by user id, else by display name ignoring case."""
    for found in (
        [m for m in members if m.display_name == name],
        [m for m in members if m.platform_user_id == name],
        [m for m in members if m.display_name.casefold() == name.casefold()],
    ):
        if found:
            return found
    return []


async def _resolve(
    session: AsyncSession, project: Project, sheet: Plan, current: dict[str, PlanRow], preview: Preview
) -> _Resolved:
    members = await plan_service.project_members(session, project.id)
    departments = await plan_service.departments(session, project.id)
    known = "、".join(d.name for d in departments) or "—"
    resolved = _Resolved({}, {}, {})
    for row in sheet.rows:
        owner = current[row.code].owner if row.code in current else None
        if row.owner is not None:
            found = _match(members, row.owner)
            if len(found) > 1:
                preview.errors.append(_error(sheet, row, "xlsx.person_ambiguous", name=row.owner))
            elif not found:
                if row.owner not in preview.unknown_people:
                    preview.unknown_people.append(row.owner)
            else:
                resolved.owners[row.code] = found[0]
                owner = name_of(found[0])
        department = None
        if row.department is not None:
            dept = await plan_service.find_department(session, project.id, row.department)
            if dept is None:
                preview.errors.append(
                    _error(sheet, row, "xlsx.dept_unknown", name=row.department, known=known)
                )
            else:
                resolved.departments[row.code] = dept
                department = dept.name
        resolved.rows[row.code] = replace(row, owner=owner, department=department)
    return resolved


def _error(sheet: Plan, row: PlanRow, key: str, **params: str) -> SheetError:
    return SheetError(sheet.sheet, row.row, key, params)


async def preview(session: AsyncSession, project: Project, sheet: Plan, *, delete_missing: bool) -> Preview:
    """What importing `sheet` would change, or the problems that stop it; changes nothing."""
    return (await _compare(session, project, sheet, delete_missing=delete_missing))[0]


async def _compare(
    session: AsyncSession, project: Project, sheet: Plan, *, delete_missing: bool
) -> tuple[Preview, _Resolved, dict[str, PlanRow]]:
    result = Preview()
    current = current_plan(await snapshot.load(session, project)).by_code()
    resolved = await _resolve(session, project, sheet, current, result)
    for code, row in resolved.rows.items():
        old = current.get(code)
        if old is None:
            result.tasks.append(TaskChange("add", code, row.title))
            continue
        changed = tuple(
            (name, getattr(old, name), getattr(row, name))
            for name in _FIELDS
            if getattr(old, name) != getattr(row, name)
        )
        if changed:
            result.tasks.append(TaskChange("edit", code, row.title, changed))
    missing = [code for code in current if code not in resolved.rows]
    for code in missing:
        result.tasks.append(TaskChange("delete" if delete_missing else "missing", code, current[code].title))

    # A kept task keeps its milestones: the sheet says nothing about it.
    kept = set() if delete_missing else set(missing)
    wanted = sheet.milestone_links()
    for milestone in await plan_service.milestones(session, project.id):
        before = tuple(code for code, row in current.items() if milestone.title in row.milestones)
        after = tuple(sorted({*wanted.pop(milestone.title, []), *(set(before) & kept)}, key=wbs.code_key))
        if before != after:
            result.milestones.append(
                MilestoneChange(milestone.number, milestone.title, milestone.due_date, before, after)
            )
    by_code = sheet.by_code()
    for title, codes in wanted.items():
        due = sheet.due_of(codes)
        if due is None:
            result.errors.append(_error(sheet, by_code[codes[0]], "xlsx.milestone_no_due", title=title))
        result.milestones.append(MilestoneChange(None, title, due, (), tuple(codes)))
    return result, resolved, current


async def _edit(
    session: AsyncSession,
    project: Project,
    row: PlanRow,
    old: PlanRow,
    resolved: _Resolved,
    actor: Actor,
    now: datetime,
) -> dict[str, tuple[str, ...]]:
    """Edit an existing task to `row`, but only drop dependencies: those to add are returned."""
    kept_after = tuple(dep for dep in old.after if dep in row.after)
    owner = resolved.owners.get(row.code)
    await plan_service.edit_task(
        session=session,
        project=project,
        task=await plan_service.get_task(session, project.id, row.code),
        title=row.title,
        owner=_user(owner) if owner else None,
        department=resolved.departments.get(row.code),
        start=row.start,
        due=row.due,
        after=kept_after,
        actor=actor,
        now=now,
    )
    return {row.code: row.after} if kept_after != row.after else {}


async def _add(
    session: AsyncSession,
    project: Project,
    row: PlanRow,
    resolved: _Resolved,
    after: tuple[str, ...],
    actor: Actor,
    now: datetime,
) -> dict[str, tuple[str, ...]]:
    """Add `row` depending on `after` (its dependencies that exist already); the dependencies still
    to add are returned. A phase gets its owner, department and dependencies by edits, as in chat."""
    owner = resolved.owners.get(row.code)
    department = resolved.departments.get(row.code)
    if "." in row.code:
        await plan_service.add_task(
            session=session,
            project=project,
            code=row.code,
            title=row.title,
            owner=_user(owner) if owner else None,
            department=department,
            start=row.start,
            due=row.due,
            after=after,
            actor=actor,
            now=now,
        )
    else:
        after = ()
        phase = await plan_service.add_phase(
            session=session,
            project=project,
            code=row.code,
            title=row.title,
            start=row.start,
            end=row.due,
            actor=actor,
            now=now,
        )
        if owner or department:
            await plan_service.edit_task(
                session=session,
                project=project,
                task=phase,
                owner=_user(owner) if owner else None,
                department=department,
                actor=actor,
                now=now,
            )
    return {row.code: row.after} if after != row.after else {}


def _user(member: Member) -> UserRef:
    # The member's own name: passing another would rename them (the platform's name wins).
    return UserRef(member.platform, member.platform_user_id, member.display_name)


async def apply(
    session: AsyncSession,
    project: Project,
    sheet: Plan,
    *,
    actor: Actor,
    now: datetime,
    delete_missing: bool = False,
    allow_unassigned: bool = False,
) -> Preview:
    """Apply the import in the caller's transaction and return what changed. When the sheet has
    problems (or unknown people the PM did not accept), nothing is written and the problems are
    returned; a refusal by the plan services midway (UserFacingError) leaves the rollback to the
    caller."""
    result, resolved, current = await _compare(session, project, sheet, delete_missing=delete_missing)
    if result.errors or (result.unknown_people and not allow_unassigned):
        return result
    # The order keeps every step loop-free: the dependency graph only shrinks (deletions, then
    # edits that drop dependencies) until it is a part of the final one, then only grows toward it.
    deleted = [c.code for c in result.tasks if c.kind == "delete"]
    for code in sorted(deleted, key=lambda c: (-c.count("."), wbs.code_key(c))):  # children first
        task = await plan_service.get_task(session, project.id, code)
        await plan_service.delete_task(
            session=session, project=project, task=task, confirm=True, actor=actor, now=now
        )
    rows = resolved.rows
    later: dict[str, tuple[str, ...]] = {}  # dependencies to add once the rest is done
    for change in result.tasks:
        if change.kind == "edit":
            later.update(
                await _edit(session, project, rows[change.code], current[change.code], resolved, actor, now)
            )
    present = set(current) - set(deleted)
    for change in result.tasks:
        if change.kind == "add":
            row = rows[change.code]
            later.update(
                await _add(
                    session,
                    project,
                    row,
                    resolved,
                    row.after if set(row.after) <= present else (),
                    actor,
                    now,
                )
            )
            present.add(row.code)
    for code, after in sorted(later.items(), key=lambda item: wbs.code_key(item[0])):
        task = await plan_service.get_task(session, project.id, code)
        await plan_service.edit_task(
            session=session, project=project, task=task, after=after, actor=actor, now=now
        )
    for milestone in result.milestones:
        if milestone.number is None:
            assert milestone.due is not None  # a new one without a due date is an error above
            await plan_service.add_milestone(
                session=session,
                project=project,
                title=milestone.title,
                due=milestone.due,
                codes=milestone.new,
                actor=actor,
                now=now,
            )
        else:
            await plan_service.edit_milestone(
                session=session,
                project=project,
                number=milestone.number,
                title=None,
                due=None,
                codes=milestone.new,
                actor=actor,
                now=now,
            )
    return result


async def acting_pm(session: AsyncSession, project: Project, user_id: str | None) -> Member:
    """The PM an import runs as: the one with `user_id`, or the project's only PM. UserFacingError
    (xlsx.not_pm, xlsx.pm_needed) otherwise."""
    pms = [m for m in await plan_service.project_members(session, project.id) if m.role == "pm"]
    if user_id is not None:
        found = next((m for m in pms if m.platform_user_id == user_id), None)
        if found is None:
            raise UserFacingError("xlsx.not_pm", who=user_id, project=project.id)
        return found
    if len(pms) != 1:
        raise UserFacingError(
            "xlsx.pm_needed", project=project.id, who=", ".join(m.platform_user_id for m in pms)
        )
    return pms[0]
