"""/undo: revert a person's last change in a project from the audit log, within 10 minutes.

A change is everything one command wrote: the audit entries sharing its event id. It is reverted
entry by entry, newest first, by a reverter chosen by the entry's action; an action without one is
refused by name. Nothing is reverted when something later built on the change: another change to
the same row since (by anyone), a task that gained subtasks or dependents, a value that moved on.
The undo is itself audited (action "undo", entity_id the undone event), which marks the event
undone; the rows it restores get entries of their own ("<action>.undo").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Date, DateTime, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import wbs
from bot.errors import UserFacingError
from bot.services import audit, members, plan, tasks, tracking
from bot.services.audit import Actor
from storage.models import (
    ActionItem,
    AuditEntry,
    Base,
    Baseline,
    Blocker,
    ChangeRequest,
    CharterConfirmation,
    Department,
    Member,
    Milestone,
    MilestoneTask,
    Project,
    RaciAssignment,
    Risk,
    Task,
    TaskDependency,
    UTCDateTime,
)

WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Restored:
    """One line of the summary: a catalog key (`undo.done.<action>`) and its parameters."""

    key: str
    params: dict[str, Any]


class _CannotUndo(UserFacingError):
    pass


def _refuse(key: str, **params: Any) -> _CannotUndo:
    return _CannotUndo(f"undo.cannot.{key}", **params)


# --- finding the change -----------------------------------------------------------------------------


def _undo_events(project_id: int) -> Any:
    """Event ids that were undone, and those of the undo commands themselves (never undone again)."""
    undone = select(AuditEntry.entity_id).where(
        AuditEntry.project_id == project_id, AuditEntry.action == "undo"
    )
    undoing = select(AuditEntry.source_event_id).where(
        AuditEntry.project_id == project_id, AuditEntry.action == "undo"
    )
    return undone.union(undoing)


async def last_change(
    session: AsyncSession, project_id: int, platform: str, user_id: str, now: datetime
) -> list[AuditEntry]:
    """The entries of the person's newest change not undone yet, newest first; [] when there is
    none within the window."""
    skipped = _undo_events(project_id)
    newest = await session.scalar(
        select(AuditEntry.source_event_id)
        .where(
            AuditEntry.project_id == project_id,
            AuditEntry.actor_platform == platform,
            AuditEntry.actor_user_id == user_id,
            AuditEntry.source_event_id.is_not(None),
            AuditEntry.created_at >= now - WINDOW,
            AuditEntry.source_event_id.not_in(skipped),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if newest is None:
        return []
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.project_id == project_id, AuditEntry.source_event_id == newest)
            .order_by(AuditEntry.id.desc())
        )
    )


async def _later_change(
    session: AsyncSession, entry: AuditEntry, entity: str, entity_id: object
) -> AuditEntry | None:
    """A change to the same row after `entry` that was not undone: what the undo would erase."""
    return await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.project_id == entry.project_id,
            AuditEntry.entity == entity,
            AuditEntry.entity_id == str(entity_id),
            AuditEntry.id > entry.id,
            AuditEntry.source_event_id.is_distinct_from(entry.source_event_id),
            AuditEntry.source_event_id.not_in(_undo_events(entry.project_id or 0)),
        )
        .order_by(AuditEntry.id)
        .limit(1)
    )


async def _require_untouched(session: AsyncSession, entry: AuditEntry, label: str) -> None:
    later = await _later_change(session, entry, entry.entity, entry.entity_id)
    if later is not None:
        raise _refuse("changed_since", what=label, who=later.actor_name or later.actor_user_id)


# --- values as the audit log keeps them ---------------------------------------------------------------


def _value(row: Base, field: str, stored: Any) -> Any:
    """An audit snapshot's value (dates as ISO text) as the column's Python value."""
    column_type = row.__table__.columns[field].type  # type: ignore[attr-defined]
    if not isinstance(stored, str):
        return stored
    if isinstance(column_type, UTCDateTime | DateTime):
        return datetime.fromisoformat(stored)
    if isinstance(column_type, Date):
        return date.fromisoformat(stored)
    return stored


def _columns(row: Base, picture: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `picture` that are columns of `row`, as column values."""
    columns = row.__table__.columns  # type: ignore[attr-defined]
    return {field: _value(row, field, value) for field, value in picture.items() if field in columns}


async def _restore(
    session: AsyncSession, row: Base, entry: AuditEntry, actor: Actor, now: datetime, label: str
) -> None:
    """Set the row's audited fields back to `before`, once sure they still hold `after`."""
    before, after = _columns(row, entry.before or {}), entry.after or {}
    # Compared as the audit log wrote them (ISO text for dates), so no time zone or type can differ.
    fields = [field for field in after if field in before]
    if audit.snapshot(row, *fields) != {field: after[field] for field in fields}:
        raise _refuse("moved_on", what=label)
    await audit.update(
        row,  # type: ignore[arg-type]
        before,
        session=session,
        actor=actor,
        now=now,
        project_id=entry.project_id,
        action=f"{entry.action}.undo",
        entity=entry.entity,
    )


async def _remove(session: AsyncSession, row: Base, entry: AuditEntry, actor: Actor, now: datetime) -> None:
    await audit.delete(
        row,  # type: ignore[arg-type]
        [field for field in (entry.after or {}) if field in row.__table__.columns],  # type: ignore[attr-defined]
        session=session,
        actor=actor,
        now=now,
        project_id=entry.project_id,
        action=f"{entry.action}.undo",
        entity=entry.entity,
    )


async def _recreated(
    session: AsyncSession, entry: AuditEntry, row_id: int, actor: Actor, now: datetime
) -> None:
    """Audit a deleted row brought back (under a new id) with what the deletion recorded."""
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=entry.project_id,
        action=f"{entry.action}.undo",
        entity=entry.entity,
        entity_id=row_id,
        after=entry.before,
    )


# --- reverters, by action -------------------------------------------------------------------------------

Reverter = Callable[[AsyncSession, AuditEntry, Actor, datetime], Awaitable[Restored]]


async def _row(session: AsyncSession, model: type[Base], entry: AuditEntry, label: str) -> Any:
    row = await session.get(model, int(entry.entity_id))
    if row is None:
        raise _refuse("gone", what=label)
    return row


def _task_label(entry: AuditEntry) -> str:
    picture = entry.after or entry.before or {}
    return str(picture.get("code") or picture.get("task") or "")


async def _task_progress(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    label = _task_label(entry)
    task = await _row(session, Task, entry, label)
    await _require_untouched(session, entry, task.code)
    await _restore(session, task, entry, actor, now, task.code)
    await tasks.refresh_rollups(session=session, project_id=task.project_id)
    return Restored("undo.done.task_progress", {"code": task.code, "progress": task.progress})


async def _task_edit(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    task = await _row(session, Task, entry, _task_label(entry))
    await _require_untouched(session, entry, task.code)
    before, after = entry.before or {}, entry.after or {}
    if "after" in before:
        if await tasks.dependency_codes(session, task.id) != sorted(after["after"], key=wbs.code_key):
            raise _refuse("moved_on", what=task.code)
        upstream = list(
            await session.scalars(
                select(Task).where(Task.project_id == task.project_id, Task.code.in_(before["after"]))
            )
        )
        if len(upstream) != len(before["after"]):
            raise _refuse("gone", what=", ".join(before["after"]))
        await session.execute(delete(TaskDependency).where(TaskDependency.task_id == task.id))
        session.add_all(TaskDependency(task_id=task.id, depends_on_id=dep.id) for dep in upstream)
    await _restore(session, task, entry, actor, now, task.code)
    await tasks.refresh_rollups(session=session, project_id=task.project_id)
    return Restored("undo.done.task_edit", {"code": task.code, "title": task.title})


async def _raci_set(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    task = await _row(session, Task, entry, _task_label(entry))
    await _require_untouched(session, entry, task.code)
    before, after = entry.before or {}, entry.after or {}
    if plan.raci_picture(await plan.raci(session, task.id), task.owner_member_id) != {
        key: after.get(key) for key in (*plan.RACI_ROLES, "owner_member_id")
    }:
        raise _refuse("moved_on", what=task.code)
    refs = [(role, ref) for role in plan.RACI_ROLES for ref in before.get(role, [])]
    member_ids = {ref for _, ref in refs if isinstance(ref, int)}
    department_ids = {ref["department"] for _, ref in refs if isinstance(ref, dict)}
    found_members = await session.scalar(select(func.count()).where(Member.id.in_(member_ids)))
    found_departments = await session.scalar(select(func.count()).where(Department.id.in_(department_ids)))
    if (found_members, found_departments) != (len(member_ids), len(department_ids)):
        raise _refuse("gone", what=task.code)
    await session.execute(delete(RaciAssignment).where(RaciAssignment.task_id == task.id))
    session.add_all(plan.raci_row(task.id, role, ref) for role, ref in refs)
    await _restore(session, task, entry, actor, now, task.code)
    return Restored("undo.done.raci_set", {"code": task.code, "title": task.title})


async def _task_add(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    task = await _row(session, Task, entry, _task_label(entry))
    await _require_untouched(session, entry, task.code)
    built_on = await session.scalar(
        select(func.count()).select_from(Task).where(Task.parent_id == task.id)
    ) or await session.scalar(
        select(func.count()).select_from(TaskDependency).where(TaskDependency.depends_on_id == task.id)
    )
    linked = await session.scalar(
        select(func.count()).select_from(MilestoneTask).where(MilestoneTask.task_id == task.id)
    )
    if built_on or linked or task.progress or task.status == "blocked":
        raise _refuse("built_on", what=task.code)
    code, title = task.code, task.title
    await session.execute(delete(TaskDependency).where(TaskDependency.task_id == task.id))
    await session.execute(delete(RaciAssignment).where(RaciAssignment.task_id == task.id))
    await _remove(session, task, entry, actor, now)
    await tasks.refresh_rollups(session=session, project_id=entry.project_id or 0)
    return Restored("undo.done.task_add", {"code": code, "title": title})


async def _task_delete(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    before = entry.before or {}
    project_id = entry.project_id or 0
    code = str(before["code"])
    if await tasks.by_code(session, project_id, code) is not None:
        raise _refuse("code_taken", code=code)
    # The parent by its code: deleted with its subtree, it came back first, under a new id.
    parent = None
    if (parent_code := wbs.parent_of(code)) is not None:
        parent = await tasks.by_code(session, project_id, parent_code)
        if parent is None:
            raise _refuse("gone", what=parent_code)
    task = Task(project_id=project_id, created_at=now, updated_at=now)
    for field, value in _columns(task, before).items():
        setattr(task, field, value)
    task.parent_id = parent.id if parent else None
    members_now = set(
        await session.scalars(select(Member.id).where(Member.project_id == project_id, members.PRESENT))
    )
    if task.owner_member_id not in members_now:
        task.owner_member_id = None
    session.add(task)
    await session.flush()
    by_code = {t.code: t for t in await tasks.ordered(session, project_id)}
    for upstream in before.get("after", []):
        if upstream in by_code:
            session.add(TaskDependency(task_id=task.id, depends_on_id=by_code[upstream].id))
    for downstream in before.get("dependents", []):
        if downstream in by_code:
            session.add(TaskDependency(task_id=by_code[downstream].id, depends_on_id=task.id))
    departments_now = set(
        await session.scalars(select(Department.id).where(Department.project_id == project_id))
    )
    for role, ref in before.get("raci", []):
        if ref in members_now or (isinstance(ref, dict) and ref.get("department") in departments_now):
            session.add(plan.raci_row(task.id, role, ref))
    milestones = await session.scalars(
        select(Milestone).where(
            Milestone.project_id == project_id, Milestone.number.in_(before.get("milestones", []))
        )
    )
    session.add_all(MilestoneTask(milestone_id=milestone.id, task_id=task.id) for milestone in milestones)
    await _recreated(session, entry, task.id, actor, now)
    await tasks.refresh_rollups(session=session, project_id=project_id)
    return Restored("undo.done.task_delete", {"code": code, "title": task.title})


def _restoring(model: type[Base], key: str, label: Callable[[Any], str]) -> Reverter:
    """A reverter that sets a row's audited fields back (the entry was made by audit.update)."""

    async def revert(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
        row = await _row(session, model, entry, entry.entity)
        await _require_untouched(session, entry, label(row))
        await _restore(session, row, entry, actor, now, label(row))
        return Restored(key, {"what": label(row)})

    return revert


def _removing(model: type[Base], key: str, label: Callable[[Any], str]) -> Reverter:
    """A reverter that deletes a row the change added, unless it changed since."""

    async def revert(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
        row = await _row(session, model, entry, entry.entity)
        what = label(row)
        await _require_untouched(session, entry, what)
        await _remove(session, row, entry, actor, now)
        return Restored(key, {"what": what})

    return revert


async def _risk_status(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    risk = await _row(session, Risk, entry, entry.entity)
    await _require_untouched(session, entry, f"R{risk.number}")
    await _restore(session, risk, entry, actor, now, f"R{risk.number}")
    return Restored("undo.done.risk", {"what": f"R{risk.number}"})


async def _blocker_open(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    blocker = await _row(session, Blocker, entry, _task_label(entry))
    task = await session.get(Task, blocker.task_id)
    if task is None or blocker.status != "open":
        raise _refuse("moved_on", what=_task_label(entry))
    await audit.update(
        blocker,
        {"status": "cleared", "cleared_at": now},
        session=session,
        actor=actor,
        now=now,
        project_id=entry.project_id,
        action="blocker.open.undo",
        entity="blocker",
    )
    others = await tracking.open_blocker_count(session, task.id)
    task.status = wbs.leaf_status(task.progress, blocked=others > 0)
    await tasks.refresh_rollups(session=session, project_id=task.project_id)
    return Restored("undo.done.blocker_open", {"code": task.code})


async def _blocker_clear(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    task = await _row(session, Task, entry, entry.entity)
    await _require_untouched(session, entry, task.code)
    if task.progress >= 100:
        raise _refuse("moved_on", what=task.code)
    for blocker_id in (entry.before or {}).get("blockers", []):
        blocker = await session.get(Blocker, blocker_id)
        if blocker is not None:
            blocker.status, blocker.cleared_at, blocker.cleared_by_member_id = "open", None, None
    await _restore(session, task, entry, actor, now, task.code)
    await tasks.refresh_rollups(session=session, project_id=task.project_id)
    return Restored("undo.done.blocker_clear", {"code": task.code})


async def _baseline_set(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    baseline = await _row(session, Baseline, entry, entry.entity)
    newest = await session.scalar(
        select(func.max(Baseline.number)).where(Baseline.project_id == baseline.project_id)
    )
    if newest != baseline.number:
        raise _refuse("built_on", what=f"#{baseline.number}")
    number = baseline.number
    await audit.delete(
        baseline,
        ("number", "reason"),
        session=session,
        actor=actor,
        now=now,
        project_id=entry.project_id,
        action="baseline.set.undo",
        entity="baseline",
    )
    return Restored("undo.done.baseline", {"number": number})


async def _confirmation_reset(
    session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime
) -> Restored:
    before = entry.before or {}
    department = await session.get(Department, before.get("department_id"))
    if department is None:
        raise _refuse("gone", what=entry.entity)
    confirmation = CharterConfirmation(project_id=entry.project_id, confirmed_at=now)
    for field, value in _columns(confirmation, before).items():
        setattr(confirmation, field, value)
    await audit.add(
        confirmation,
        ("department_id", "member_id"),
        session=session,
        actor=actor,
        now=now,
        project_id=entry.project_id,
        action="charter.confirmation_reset.undo",
        entity="charter_confirmation",
    )
    return Restored("undo.done.confirmation", {"what": department.name})


async def _linked_codes(session: AsyncSession, milestone_id: int) -> list[str]:
    codes = await session.scalars(
        select(Task.code)
        .join(MilestoneTask, MilestoneTask.task_id == Task.id)
        .where(MilestoneTask.milestone_id == milestone_id)
    )
    return sorted(codes, key=wbs.code_key)


async def _link(session: AsyncSession, milestone: Milestone, codes: list[str]) -> None:
    await session.execute(delete(MilestoneTask).where(MilestoneTask.milestone_id == milestone.id))
    linked = await session.scalars(
        select(Task.id).where(Task.project_id == milestone.project_id, Task.code.in_(codes))
    )
    session.add_all(MilestoneTask(milestone_id=milestone.id, task_id=task_id) for task_id in linked)


async def _milestone_edit(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    milestone = await _row(session, Milestone, entry, entry.entity)
    label = f"#{milestone.number}"
    await _require_untouched(session, entry, label)
    before, after = entry.before or {}, entry.after or {}
    if "tasks" in before:
        if await _linked_codes(session, milestone.id) != after["tasks"]:
            raise _refuse("moved_on", what=label)
        await _link(session, milestone, before["tasks"])
    await _restore(session, milestone, entry, actor, now, label)
    return Restored("undo.done.restored", {"what": label})


async def _milestone_delete(
    session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime
) -> Restored:
    before = entry.before or {}
    project_id = entry.project_id or 0
    taken = await session.scalar(
        select(Milestone.id).where(Milestone.project_id == project_id, Milestone.number == before["number"])
    )
    if taken is not None:
        raise _refuse("gone", what=f"#{before['number']}")
    milestone = Milestone(project_id=project_id, created_at=now)
    for field, value in _columns(milestone, before).items():
        setattr(milestone, field, value)
    session.add(milestone)
    await session.flush()
    await _link(session, milestone, before.get("tasks", []))
    await _recreated(session, entry, milestone.id, actor, now)
    return Restored("undo.done.restored", {"what": f"#{milestone.number} {milestone.title}"})


async def _action_delete(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    before = entry.before or {}
    project_id = entry.project_id or 0
    label = f"A{before['number']}"
    taken = await session.scalar(
        select(ActionItem.id).where(
            ActionItem.project_id == project_id, ActionItem.number == before["number"]
        )
    )
    if taken is not None:
        raise _refuse("number_taken", what=label)
    item = ActionItem(project_id=project_id)
    for field, value in _columns(item, before).items():
        setattr(item, field, value)
    # Someone who has left the project since cannot own it or be its author again.
    people = set(
        await session.scalars(select(Member.id).where(Member.project_id == project_id, members.PRESENT))
    )
    if item.owner_member_id not in people:
        item.owner_member_id = None
    if item.created_by_member_id not in people:
        item.created_by_member_id = None
    session.add(item)
    await session.flush()
    await _recreated(session, entry, item.id, actor, now)
    return Restored("undo.done.restored", {"what": f"{label} {item.text}"})


Owned = TypeVar("Owned", Task, ActionItem, Risk)


async def _ownerless(
    session: AsyncSession, model: type[Owned], ids: list[int], label: Callable[[Owned], str]
) -> list[Owned]:
    """The rows a removal let go of that still exist, refused when one has a new owner since."""
    rows = []
    for row_id in ids:
        row = await session.get(model, row_id)
        if row is None:  # deleted since: nothing to hand back
            continue
        if row.owner_member_id is not None:
            raise _refuse("moved_on", what=label(row))
        rows.append(row)
    return rows


async def _member_remove(session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime) -> Restored:
    """The member back, with the open tasks, roles, action items and risks they were let go of,
    unless one of those has a new owner since."""
    member = await _row(session, Member, entry, entry.entity)
    what = members.mention(member)
    await _require_untouched(session, entry, what)
    before = entry.before or {}
    if member.removed_at is None:
        raise _refuse("moved_on", what=what)
    owned: list[Task | ActionItem | Risk] = [
        *await _ownerless(session, Task, before.get("tasks", []), lambda row: row.code),
        *await _ownerless(session, ActionItem, before.get("actions", []), _number("A")),
        *await _ownerless(session, Risk, before.get("risks", []), _number("R")),
    ]
    for row in owned:
        row.owner_member_id = member.id
    for task_id, role in before.get("raci", []):
        if await session.get(Task, task_id) is not None:
            session.add(RaciAssignment(task_id=task_id, member_id=member.id, role=role))
    await _restore(session, member, entry, actor, now, what)
    return Restored("undo.done.member_back", {"what": what})


async def _department_delete(
    session: AsyncSession, entry: AuditEntry, actor: Actor, now: datetime
) -> Restored:
    """The department back under its old id (so the audit log's entries about it still name it)."""
    before = entry.before or {}
    project_id = entry.project_id or 0
    name = str(before["name"])
    taken = await session.scalar(
        select(Department.id).where(Department.project_id == project_id, Department.name == name)
    )
    if taken is not None or await session.get(Department, int(entry.entity_id)) is not None:
        raise _refuse("number_taken", what=name)
    department = Department(id=int(entry.entity_id), project_id=project_id)
    for field, value in _columns(department, before).items():
        setattr(department, field, value)
    present = set(
        await session.scalars(select(Member.id).where(Member.project_id == project_id, members.PRESENT))
    )
    if department.head_member_id not in present:
        department.head_member_id = None
    session.add(department)
    await session.flush()
    if (confirmed := before.get("confirmation")) is not None:
        confirmation = CharterConfirmation(project_id=project_id, department_id=department.id)
        for field, value in _columns(confirmation, confirmed).items():
            setattr(confirmation, field, value)
        session.add(confirmation)
    await _recreated(session, entry, department.id, actor, now)
    return Restored("undo.done.restored", {"what": name})


def _number(prefix: str) -> Callable[[Any], str]:
    return lambda row: f"{prefix}{row.number}"


REVERTERS: Mapping[str, Reverter] = {
    "task.progress": _task_progress,
    "task.edit": _task_edit,
    "task.add": _task_add,
    "phase.add": _task_add,
    "task.delete": _task_delete,
    "raci.set": _raci_set,
    "blocker.open": _blocker_open,
    "blocker.clear": _blocker_clear,
    "risk.add": _removing(Risk, "undo.done.removed", _number("R")),
    "risk.status": _risk_status,
    "risk.escalate": _risk_status,
    "action.add": _removing(ActionItem, "undo.done.removed", _number("A")),
    "action.done": _restoring(ActionItem, "undo.done.reopened", _number("A")),
    "action.edit": _restoring(ActionItem, "undo.done.restored", _number("A")),
    "action.reopen": _restoring(ActionItem, "undo.done.restored", _number("A")),
    "action.delete": _action_delete,
    "risk.edit": _restoring(Risk, "undo.done.restored", _number("R")),
    "milestone.add": _removing(Milestone, "undo.done.removed", _number("#")),
    "milestone.done": _restoring(Milestone, "undo.done.reopened", _number("#")),
    "milestone.reopen": _restoring(Milestone, "undo.done.restored", _number("#")),
    "milestone.edit": _milestone_edit,
    "milestone.delete": _milestone_delete,
    "charter.update": _restoring(Project, "undo.done.charter", lambda row: row.name),
    "charter.resources": _restoring(Department, "undo.done.restored", lambda row: row.name),
    "department.head": _restoring(Department, "undo.done.restored", lambda row: row.name),
    "department.rename": _restoring(Department, "undo.done.restored", lambda row: row.name),
    "department.delete": _department_delete,
    "member.department": _restoring(Member, "undo.done.restored", members.mention),
    "member.role": _restoring(Member, "undo.done.restored", members.mention),
    "member.remove": _member_remove,
    "charter.confirm": _removing(
        CharterConfirmation, "undo.done.unconfirmed", lambda row: row.department.name
    ),
    "charter.confirmation_reset": _confirmation_reset,
    "baseline.set": _baseline_set,
    "change.open": _removing(ChangeRequest, "undo.done.removed", _number("CR-")),
    "change.log": _removing(ChangeRequest, "undo.done.removed", _number("CR-")),
    # An approval's task edits are entries of the same command: they are reverted with it.
    "change.approve": _restoring(ChangeRequest, "undo.done.change", _number("CR-")),
    "change.reject": _restoring(ChangeRequest, "undo.done.restored", _number("CR-")),
    "change.discuss": _restoring(ChangeRequest, "undo.done.restored", _number("CR-")),
}


async def undo(
    *,
    session: AsyncSession,
    project: Project,
    platform: str,
    user_id: str,
    actor: Actor,
    now: datetime,
) -> tuple[datetime, list[Restored]]:
    """Revert the newest change of (platform, user_id) in the project: when it was made and what
    was restored; refused with the reason."""
    entries = await last_change(session, project.id, platform, user_id, now)
    if not entries:
        raise UserFacingError("undo.nothing", minutes=int(WINDOW.total_seconds() // 60))
    for entry in entries:
        if entry.action not in REVERTERS:
            raise _refuse("unsupported", action=entry.action)
    restored = []
    async with session.begin_nested():
        for entry in entries:
            restored.append(await REVERTERS[entry.action](session, entry, actor, now))
        await audit.record(
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="undo",
            entity="event",
            entity_id=entries[0].source_event_id,
            before={"entries": [entry.id for entry in entries]},
        )
    return entries[-1].created_at, restored
