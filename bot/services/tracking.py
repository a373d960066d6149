"""Use cases for day-to-day tracking: progress, blockers, risks, action items and the overviews.

Every function takes the session keyword-only and the clock as a parameter; none commits. Writes
are audited with before/after snapshots. Permission checks stay with the handlers (they need the
command context); validation that is about the data (a phase has no own progress, a risk is
already closed) lives here and raises UserFacingError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import schedule, wbs
from bot.domain.workdays import IsWorkday, WorkCalendar, workdays_after
from bot.errors import UserFacingError
from bot.services import audit, members, raci, tasks
from bot.services.audit import Actor
from bot.services.plan import Change
from storage.models import (
    ActionItem,
    AuditEntry,
    Blocker,
    ChangeRequest,
    Department,
    Member,
    Milestone,
    ProgressUpdate,
    RaciAssignment,
    ResourceRequest,
    Risk,
    RiskEvent,
    Task,
)

LEVEL_ORDER = {"high": 0, "medium": 1, "low": 2}
OPEN_RISK = ("new", "open", "mitigated")


# --- tasks: progress and blockers ----------------------------------------------------------------


async def task_by_code(session: AsyncSession, project_id: int, code: str) -> Task:
    task = await tasks.by_code(session, project_id, code)
    if task is None:
        raise UserFacingError("track.task_not_found", code=code)
    return task


async def child_codes(session: AsyncSession, project_id: int, code: str) -> list[str]:
    """The codes of the task's direct subtasks in WBS order (codes, not parent_id, define the tree
    here, as in the roll-up)."""
    codes = await session.scalars(
        select(Task.code).where(Task.project_id == project_id, Task.code.like(f"{code}.%"))
    )
    return sorted((c for c in codes if wbs.parent_of(c) == code), key=wbs.code_key)


def _examples(codes: list[str]) -> str:
    shown = ", ".join(codes[:3])
    return shown + (" …" if len(codes) > 3 else "")


async def _require_leaf(session: AsyncSession, task: Task, key: str) -> None:
    children = await child_codes(session, task.project_id, task.code)
    if children:
        raise UserFacingError(key, code=task.code, children=_examples(children))


async def open_blocker_count(session: AsyncSession, task_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Blocker).where(Blocker.task_id == task_id, Blocker.status == "open")
    )
    return int(count or 0)


async def open_blockers(session: AsyncSession, task_ids: Collection[int]) -> list[Blocker]:
    """The open blockers of these tasks, oldest first."""
    if not task_ids:
        return []
    return list(
        await session.scalars(
            select(Blocker)
            .where(Blocker.task_id.in_(task_ids), Blocker.status == "open")
            .order_by(Blocker.created_at, Blocker.id)
        )
    )


@dataclass(frozen=True)
class Ancestor:
    code: str
    title: str
    progress: int
    is_phase: bool


@dataclass(frozen=True)
class ProgressChange:
    task: Task
    previous: int
    progress: int
    ancestors: tuple[Ancestor, ...]  # nearest parent first, the phase last
    open_blockers: int


async def _ancestors(session: AsyncSession, task: Task) -> tuple[Ancestor, ...]:
    found: list[Ancestor] = []
    code = wbs.parent_of(task.code)
    while code is not None:
        parent = await tasks.by_code(session, task.project_id, code)
        if parent is not None:
            found.append(Ancestor(parent.code, parent.title, parent.progress, "." not in parent.code))
        code = wbs.parent_of(code)
    return tuple(found)


async def set_progress(
    *,
    session: AsyncSession,
    task: Task,
    progress: int,
    note: str,
    author: Member,
    actor: Actor,
    now: datetime,
    source: str = "command",
) -> ProgressChange:
    """Record a leaf task's new % (backwards allowed); 100 marks it done. An open blocker keeps
    it blocked below 100. Parents' roll-ups are refreshed."""
    await _require_leaf(session, task, "track.not_leaf")
    blockers = await open_blocker_count(session, task.id)
    before = audit.snapshot(task, "progress", "status")
    previous = task.progress
    task.progress = progress
    task.status = wbs.leaf_status(progress, blocked=blockers > 0)
    task.updated_at = now
    session.add(
        ProgressUpdate(
            task_id=task.id,
            previous_progress=previous,
            progress=progress,
            note=note,
            author_member_id=author.id,
            source=source,
            created_at=now,
        )
    )
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=task.project_id,
        action="task.progress",
        entity="task",
        entity_id=task.id,
        before=before,
        after={**audit.snapshot(task, "progress", "status"), "note": note},
    )
    await tasks.refresh_rollups(session=session, project_id=task.project_id)
    if task.status == "done" and before["status"] != "done":
        await raci.tell(session=session, task=task, event="done", actor=actor, now=now)
    return ProgressChange(task, previous, progress, await _ancestors(session, task), blockers)


@dataclass(frozen=True)
class BlockerOpened:
    blocker: Blocker
    helpers: tuple[Member, ...]  # the PMs and the task's department head, not the reporter


async def open_blocker(
    *, session: AsyncSession, task: Task, text: str, author: Member, actor: Actor, now: datetime
) -> BlockerOpened:
    await _require_leaf(session, task, "track.blocker_not_leaf")
    if task.progress >= 100:
        raise UserFacingError("track.blocker_on_done", code=task.code)
    blocker = Blocker(
        task_id=task.id, text=text, status="open", raised_by_member_id=author.id, created_at=now
    )
    session.add(blocker)
    before = audit.snapshot(task, "status")
    task.status = wbs.leaf_status(task.progress, blocked=True)
    task.updated_at = now
    await session.flush()
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=task.project_id,
        action="blocker.open",
        entity="blocker",
        entity_id=blocker.id,
        before={"task": task.code, **before},
        after={"task": task.code, "text": text, "status": task.status},
    )
    await tasks.refresh_rollups(session=session, project_id=task.project_id)
    await raci.tell(session=session, task=task, event="blocker", actor=actor, now=now, detail=text)
    helpers = list(await members.pms(session, task.project_id))
    if task.department_id is not None:
        department = await session.get(Department, task.department_id)
        if department is not None and department.head_member_id is not None:
            head = await session.get(Member, department.head_member_id)
            if head is not None:
                helpers.append(head)
    unique = {member.id: member for member in helpers if member.id != author.id}
    return BlockerOpened(blocker, tuple(unique.values()))


async def clear_blockers(
    *, session: AsyncSession, task: Task, author: Member, actor: Actor, now: datetime
) -> int:
    """Close every open blocker of the task; its status follows its progress again."""
    open_blockers = list(
        await session.scalars(
            select(Blocker).where(Blocker.task_id == task.id, Blocker.status == "open").order_by(Blocker.id)
        )
    )
    if not open_blockers:
        raise UserFacingError("track.no_open_blockers", code=task.code)
    for blocker in open_blockers:
        blocker.status = "cleared"
        blocker.cleared_by_member_id = author.id
        blocker.cleared_at = now
    before = audit.snapshot(task, "status")
    # Should the task have gained subtasks since, the roll-up below overrides this.
    task.status = wbs.leaf_status(task.progress, blocked=False)
    task.updated_at = now
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=task.project_id,
        action="blocker.clear",
        entity="task",
        entity_id=task.id,
        before={"blockers": [b.id for b in open_blockers], "status": before["status"], "open": True},
        after={"blockers": [b.id for b in open_blockers], "status": task.status, "open": False},
    )
    await tasks.refresh_rollups(session=session, project_id=task.project_id)
    return len(open_blockers)


# --- risks -----------------------------------------------------------------------------------------


async def next_number(
    session: AsyncSession,
    model: type[Risk] | type[ActionItem] | type[ResourceRequest] | type[ChangeRequest],
    project_id: int,
) -> int:
    """The next per-project number (R3, A3, N3, CR-3): one past the highest."""
    highest = await session.scalar(select(func.max(model.number)).where(model.project_id == project_id))
    return int(highest or 0) + 1


async def add_risk(
    *,
    session: AsyncSession,
    project_id: int,
    level: str,
    description: str,
    owner: Member,
    mitigation: str,
    author: Member,
    actor: Actor,
    now: datetime,
) -> Risk:
    risk = Risk(
        project_id=project_id,
        number=await next_number(session, Risk, project_id),
        description=description,
        level=level,
        owner_member_id=owner.id,
        mitigation=mitigation,
        status="new",
        created_by_member_id=author.id,
        created_at=now,
        updated_at=now,
    )
    await audit.add(
        risk,
        ("number", "level", "description", "owner_member_id", "mitigation", "status"),
        session=session,
        actor=actor,
        now=now,
        project_id=project_id,
        action="risk.add",
        entity="risk",
    )
    session.add(
        RiskEvent(
            risk_id=risk.id, from_status=None, to_status="new", author_member_id=author.id, created_at=now
        )
    )
    return risk


async def risk_by_number(session: AsyncSession, project_id: int, number: int) -> Risk:
    risk = await session.scalar(select(Risk).where(Risk.project_id == project_id, Risk.number == number))
    if risk is None:
        raise UserFacingError("track.risk_not_found", number=number)
    return risk


async def set_risk_status(
    *, session: AsyncSession, risk: Risk, status: str, note: str, author: Member, actor: Actor, now: datetime
) -> str:
    """Move the risk to `status` (closed risks may be reopened); returns the previous status."""
    if risk.status == status:
        raise UserFacingError(f"track.risk_already_{status}", number=risk.number)
    previous = risk.status
    before = audit.snapshot(risk, "status")
    risk.status = status
    risk.updated_at = now
    session.add(
        RiskEvent(
            risk_id=risk.id,
            from_status=previous,
            to_status=status,
            note=note,
            author_member_id=author.id,
            created_at=now,
        )
    )
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=risk.project_id,
        action="risk.status",
        entity="risk",
        entity_id=risk.id,
        before=before,
        after={**audit.snapshot(risk, "status"), "note": note},
    )
    return previous


def _require_not_closed(risk: Risk) -> None:
    if risk.status == "closed":
        raise UserFacingError("cards.risk_is_closed", number=risk.number)


async def escalate_risk(*, session: AsyncSession, risk: Risk, note: str, actor: Actor, now: datetime) -> str:
    """Raise an open risk to high (it may already be) and record the escalation; returns the level
    it had. Who is told is the caller's business."""
    _require_not_closed(risk)
    previous = risk.level
    risk.level = "high"
    risk.updated_at = now
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=risk.project_id,
        action="risk.escalate",
        entity="risk",
        entity_id=risk.id,
        before={"level": previous},
        after={"level": risk.level, "note": note},
    )
    return previous


async def review_risk(
    *, session: AsyncSession, risk: Risk, note: str, author: Member, actor: Actor, now: datetime
) -> None:
    """The owner confirms the risk still stands: a new one becomes open, any other keeps its status;
    either way it counts as updated today (so it is no longer stale)."""
    _require_not_closed(risk)
    if risk.status == "new":
        await set_risk_status(
            session=session, risk=risk, status="open", note=note, author=author, actor=actor, now=now
        )
        return
    before = audit.snapshot(risk, "status", "updated_at")
    risk.updated_at = now
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=risk.project_id,
        action="risk.review",
        entity="risk",
        entity_id=risk.id,
        before=before,
        after={**audit.snapshot(risk, "status", "updated_at"), "note": note},
    )


async def risk_list(*, session: AsyncSession, project_id: int, include_closed: bool) -> list[Risk]:
    """Open risks by level (high first) then number; closed ones after them when asked for."""
    query = select(Risk).where(Risk.project_id == project_id)
    if not include_closed:
        query = query.where(Risk.status != "closed")
    risks = list(await session.scalars(query))
    return sorted(risks, key=lambda r: (r.status == "closed", LEVEL_ORDER.get(r.level, 9), r.number))


# --- risks: corrections and history ------------------------------------------------------------------


async def edit_risk(
    *,
    session: AsyncSession,
    risk: Risk,
    level: str | None,
    owner: Member | None,
    description: str | None,
    mitigation: str | None,
    actor: Actor,
    now: datetime,
) -> list[Change]:
    """Change what is given (None: keep) and audit both sides; an edit counts as an update, so the
    risk is no longer stale. Returns what changed (nothing stored when nothing did)."""
    changes: list[Change] = []
    fields: dict[str, Any] = {}
    if level is not None and level != risk.level:
        changes.append(Change("level", risk.level, level))
        fields["level"] = level
    if owner is not None and owner.id != risk.owner_member_id:
        old = await session.get(Member, risk.owner_member_id) if risk.owner_member_id else None
        changes.append(Change("owner", old, owner))
        fields["owner_member_id"] = owner.id
    if description is not None and description != risk.description:
        changes.append(Change("text", risk.description, description))
        fields["description"] = description
    if mitigation is not None and mitigation != risk.mitigation:
        changes.append(Change("mitigation", risk.mitigation, mitigation))
        fields["mitigation"] = mitigation
    if fields:
        await audit.update(
            risk,
            {**fields, "updated_at": now},
            session=session,
            actor=actor,
            now=now,
            project_id=risk.project_id,
            action="risk.edit",
            entity="risk",
        )
    return changes


@dataclass(frozen=True)
class RiskHistoryEntry:
    at: datetime
    who: str
    action: str  # "status" for a status change, else the audit action (risk.edit, risk.escalate ...)
    before: dict[str, Any]
    after: dict[str, Any]
    note: str
    order: int  # the audit entry's id: what happened first within one instant


def name_of(member: Member | None) -> str:
    """How a member is shown where a mention would ping them: their name, else their id."""
    return (member.display_name or member.platform_user_id) if member else ""


# Status changes are read from risk_events (they carry the note and the member); the audit log's
# copies of them only give their order among the other changes.
_STATUS_ACTIONS = ("risk.add", "risk.status")


async def risk_history(session: AsyncSession, risk: Risk) -> list[RiskHistoryEntry]:
    """Every status change, edit, escalation, review and undo of the risk, oldest first."""
    events = list(
        await session.scalars(
            select(RiskEvent).where(RiskEvent.risk_id == risk.id).order_by(RiskEvent.created_at, RiskEvent.id)
        )
    )
    entries = list(
        await session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.project_id == risk.project_id,
                AuditEntry.entity == "risk",
                AuditEntry.entity_id == str(risk.id),
            )
            .order_by(AuditEntry.id)
        )
    )
    # Each status change wrote one event and one audit entry, in the same order.
    status_ids = [entry.id for entry in entries if entry.action in _STATUS_ACTIONS]
    people = await members_by_id(session, (event.author_member_id for event in events))
    history = [
        RiskHistoryEntry(
            event.created_at,
            name_of(people.get(event.author_member_id or 0)),
            "status",
            {"status": event.from_status},
            {"status": event.to_status},
            event.note,
            status_ids[index] if index < len(status_ids) else 0,
        )
        for index, event in enumerate(events)
    ]
    history += [
        RiskHistoryEntry(
            entry.created_at,
            entry.actor_name or entry.actor_user_id,
            entry.action,
            dict(entry.before or {}),
            dict(entry.after or {}),
            str((entry.after or {}).get("note", "")),
            entry.id,
        )
        for entry in entries
        if entry.action not in _STATUS_ACTIONS
    ]
    return sorted(history, key=lambda item: (item.at, item.order))


# --- action items ------------------------------------------------------------------------------------


async def add_action(
    *,
    session: AsyncSession,
    project_id: int,
    owner: Member,
    due: date,
    text: str,
    meeting: str,
    author: Member,
    actor: Actor,
    now: datetime,
) -> ActionItem:
    item = ActionItem(
        project_id=project_id,
        number=await next_number(session, ActionItem, project_id),
        owner_member_id=owner.id,
        text=text,
        due_date=due,
        status="open",
        source_meeting=meeting,
        created_by_member_id=author.id,
        created_at=now,
    )
    await audit.add(
        item,
        ("number", "owner_member_id", "text", "due_date", "source_meeting", "status"),
        session=session,
        actor=actor,
        now=now,
        project_id=project_id,
        action="action.add",
        entity="action_item",
    )
    return item


async def action_by_number(session: AsyncSession, project_id: int, number: int) -> ActionItem:
    item = await session.scalar(
        select(ActionItem).where(ActionItem.project_id == project_id, ActionItem.number == number)
    )
    if item is None:
        raise UserFacingError("track.action_not_found", number=number)
    return item


async def complete_action(*, session: AsyncSession, item: ActionItem, actor: Actor, now: datetime) -> None:
    if item.status == "done":
        raise UserFacingError("track.action_already_done", number=item.number)
    await audit.update(
        item,
        {"status": "done", "done_at": now},
        session=session,
        actor=actor,
        now=now,
        project_id=item.project_id,
        action="action.done",
        entity="action_item",
    )


# --- action items: corrections ---------------------------------------------------------------------------

# Every column but the ids: what a deleted item is brought back with.
_ACTION_FIELDS = (
    "number",
    "owner_member_id",
    "text",
    "due_date",
    "status",
    "source_meeting",
    "created_by_member_id",
    "created_at",
    "done_at",
)


async def edit_action(
    *,
    session: AsyncSession,
    item: ActionItem,
    text: str | None,
    due: date | None,
    owner: Member | None,
    actor: Actor,
    now: datetime,
) -> list[Change]:
    """Change what is given (None: keep) and audit both sides; returns what changed."""
    changes: list[Change] = []
    fields: dict[str, Any] = {}
    if text is not None and text != item.text:
        changes.append(Change("text", item.text, text))
        fields["text"] = text
    if due is not None and due != item.due_date:
        changes.append(Change("due", item.due_date, due))
        fields["due_date"] = due
    if owner is not None and owner.id != item.owner_member_id:
        old = await session.get(Member, item.owner_member_id) if item.owner_member_id else None
        changes.append(Change("owner", old, owner))
        fields["owner_member_id"] = owner.id
    if fields:
        await audit.update(
            item,
            fields,
            session=session,
            actor=actor,
            now=now,
            project_id=item.project_id,
            action="action.edit",
            entity="action_item",
        )
    return changes


async def delete_action(*, session: AsyncSession, item: ActionItem, actor: Actor, now: datetime) -> None:
    await audit.delete(
        item,
        _ACTION_FIELDS,
        session=session,
        actor=actor,
        now=now,
        project_id=item.project_id,
        action="action.delete",
        entity="action_item",
    )


async def reopen_action(*, session: AsyncSession, item: ActionItem, actor: Actor, now: datetime) -> None:
    if item.status != "done":
        raise UserFacingError("track.action_not_done", number=item.number)
    await audit.update(
        item,
        {"status": "open", "done_at": None},
        session=session,
        actor=actor,
        now=now,
        project_id=item.project_id,
        action="action.reopen",
        entity="action_item",
    )


def _due_key(due: date | None) -> tuple[bool, date]:
    return (due is None, due or date.max)


async def action_list(*, session: AsyncSession, project_id: int, include_done: bool) -> list[ActionItem]:
    """Open items by due date (undated last); done ones after them, newest number first, when asked."""
    query = select(ActionItem).where(ActionItem.project_id == project_id)
    if not include_done:
        query = query.where(ActionItem.status == "open")
    items = list(await session.scalars(query))
    open_items = sorted(
        (i for i in items if i.status == "open"), key=lambda i: (*_due_key(i.due_date), i.number)
    )
    done = sorted((i for i in items if i.status != "open"), key=lambda i: -i.number)
    return [*open_items, *done]


# --- read models ---------------------------------------------------------------------------------------


async def members_by_id(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Member]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {m.id: m for m in await session.scalars(select(Member).where(Member.id.in_(wanted)))}


async def _responsible(session: AsyncSession, task_list: list[Task]) -> dict[int, tuple[Member, ...]]:
    """Task id -> who answers for it: the owner, else the R assignees."""
    ids = [task.id for task in task_list]
    r_rows = (
        list(
            await session.execute(
                select(RaciAssignment.task_id, RaciAssignment.member_id).where(
                    RaciAssignment.task_id.in_(ids), RaciAssignment.role == "R"
                )
            )
        )
        if ids
        else []
    )
    people = await members_by_id(
        session, [*(t.owner_member_id for t in task_list), *(member_id for _, member_id in r_rows)]
    )
    result: dict[int, tuple[Member, ...]] = {}
    for task in task_list:
        if task.owner_member_id in people:
            result[task.id] = (people[task.owner_member_id],)
        else:
            result[task.id] = tuple(people[m] for t, m in r_rows if t == task.id and m in people)
    return result


@dataclass(frozen=True)
class PhaseHealth:
    code: str
    title: str
    actual: int
    expected: int
    state: schedule.State
    done: bool
    dated: bool  # has a start or a due date, its own or its tasks'


@dataclass(frozen=True)
class LateTask:
    id: int
    code: str
    title: str
    due: date
    owners: tuple[Member, ...]


@dataclass(frozen=True)
class Overview:
    task_count: int
    actual: int
    expected: int
    outlook: schedule.Outlook
    phases: tuple[PhaseHealth, ...]
    late: tuple[LateTask, ...]  # most overdue first
    open_blockers: int
    blocked_codes: tuple[str, ...]
    open_risks: dict[str, int]  # level -> count, high first, levels with none left out
    next_milestone: Milestone | None
    critical: tuple[str, ...] = ()  # unfinished leaf tasks on the critical path, by early start


async def overview(
    *,
    session: AsyncSession,
    project_id: int,
    today: date,
    end: date | None,
    calendar: WorkCalendar,
    slipped_milestones: Collection[int] = (),
) -> Overview:
    """The project at a glance; `end` is its end date (the plan's last due date when None).
    `slipped_milestones` (ids of milestones now due after their baseline date) count as missed while
    open, like late ones."""
    task_list = await tasks.ordered(session, project_id)
    nodes = [wbs.Node(t.code, t.start_date, t.due_date, t.progress, t.status) for t in task_list]
    # Pure and proportional to the plan: off the event loop, which serves every chat meanwhile.
    rolled = await asyncio.to_thread(wbs.rollup, nodes)
    planned_tree = await asyncio.to_thread(schedule.planned_rollup, nodes, today, calendar)
    parents = {wbs.parent_of(t.code) for t in task_list}
    phases: list[PhaseHealth] = []
    top: list[wbs.Rolled] = []  # each phase's effective values, and the same with planned progress
    top_planned: list[wbs.Rolled] = []
    for task in task_list:
        if "." in task.code:
            continue
        eff, expected_here = rolled[task.code], planned_tree[task.code].progress
        done = eff.status == "done"
        phase_state = schedule.schedule_state(eff.progress, expected_here, eff.due, today, done)
        dated = eff.start is not None or eff.due is not None
        phases.append(
            PhaseHealth(task.code, task.title, eff.progress, expected_here, phase_state, done, dated)
        )
        top.append(eff)
        top_planned.append(planned_tree[task.code])
    actual = schedule.overall(top)
    expected = schedule.overall(top_planned)
    all_done = bool(top) and all(r.status == "done" for r in top)
    dues = [r.due for r in top if r.due is not None]
    late_tasks = sorted(
        (
            t
            for t in task_list
            if t.code not in parents and t.due_date is not None and t.due_date < today and t.status != "done"
        ),
        key=lambda t: (t.due_date, wbs.code_key(t.code)),
    )
    owners = await _responsible(session, late_tasks)
    late = tuple(LateTask(t.id, t.code, t.title, t.due_date, owners[t.id]) for t in late_tasks if t.due_date)
    open_milestones = await session.execute(
        select(Milestone.id, Milestone.due_date).where(
            Milestone.project_id == project_id, Milestone.status == "open"
        )
    )
    missed = sum(due < today or mid in slipped_milestones for mid, due in open_milestones)
    view = schedule.outlook(
        actual=actual,
        expected=expected,
        overdue=len(late),
        missed=missed,
        end=end or (max(dues) if dues else None),
        today=today,
        done=all_done,
    )

    blocked_rows = list(
        await session.execute(
            select(Task.code)
            .join(Blocker, Blocker.task_id == Task.id)
            .where(Task.project_id == project_id, Blocker.status == "open")
        )
    )
    blocked_codes = tuple(sorted({code for (code,) in blocked_rows}, key=wbs.code_key))

    risk_rows = await session.execute(
        select(Risk.level, func.count())
        .where(Risk.project_id == project_id, Risk.status != "closed")
        .group_by(Risk.level)
    )
    counts = {level: int(count) for level, count in risk_rows}
    open_risks = {level: counts[level] for level in LEVEL_ORDER if counts.get(level)}

    graph = await tasks.dependencies(session, project_id)
    timings = await tasks.critical_timings(task_list, graph, calendar)
    critical = tuple(
        code
        for code, timing in sorted(
            timings.items(), key=lambda item: (item[1].early_start, wbs.code_key(item[0]))
        )
        if timing.critical and code not in parents and rolled[code].status != "done"
    )

    milestone = await session.scalar(
        select(Milestone)
        .where(Milestone.project_id == project_id, Milestone.status == "open")
        .order_by(Milestone.due_date, Milestone.number)
        .limit(1)
    )
    return Overview(
        task_count=len(task_list),
        actual=actual,
        expected=expected,
        outlook=view,
        phases=tuple(phases),
        late=late,
        open_blockers=len(blocked_rows),
        blocked_codes=blocked_codes,
        open_risks=open_risks,
        next_milestone=milestone,
        critical=critical,
    )


@dataclass(frozen=True)
class RaisedBlocker:
    code: str
    title: str
    text: str
    raised_by: Member | None


@dataclass(frozen=True)
class DayBlockers:
    raised: tuple[RaisedBlocker, ...]  # raised in the window and still open, oldest first
    older: int  # tasks blocked by the other open ones


async def day_blockers(
    *, session: AsyncSession, project_id: int, since: datetime, until: datetime
) -> DayBlockers:
    """The project's open blockers raised from `since` to before `until` (whichever command, card
    or standup reply raised them) and how many other tasks are still blocked. One raised again on a
    task already blocked before `since` (a reply saying it is still stuck) is not new."""
    rows = list(
        await session.execute(
            select(Task.code, Task.title, Blocker.text, Blocker.raised_by_member_id, Blocker.created_at)
            .join(Task, Task.id == Blocker.task_id)
            .where(Task.project_id == project_id, Blocker.status == "open", Blocker.created_at < until)
            .order_by(Blocker.created_at, Blocker.id)
        )
    )
    blocked_before = {row.code for row in rows if row.created_at < since}
    new = [row for row in rows if row.created_at >= since and row.code not in blocked_before]
    people = await members_by_id(session, (row.raised_by_member_id for row in new))
    raised = tuple(
        RaisedBlocker(row.code, row.title, row.text, people.get(row.raised_by_member_id or 0)) for row in new
    )
    return DayBlockers(raised, len({row.code for row in rows} - {row.code for row in new}))


@dataclass(frozen=True)
class MyWork:
    tasks: tuple[Task, ...]  # open tasks the member answers for (bot.domain.raci), by due date
    actions: tuple[ActionItem, ...]  # their open action items, by due date


async def my_work(*, session: AsyncSession, project_id: int, member_id: int) -> MyWork:
    unfinished = list(
        await session.scalars(select(Task).where(Task.project_id == project_id, Task.status != "done"))
    )
    answering = await raci.responsible(session, project_id, unfinished)
    mine = [task for task in unfinished if member_id in answering[task.id]]
    task_list = sorted(mine, key=lambda t: (*_due_key(t.due_date), wbs.code_key(t.code)))
    actions = await session.scalars(
        select(ActionItem).where(
            ActionItem.project_id == project_id,
            ActionItem.owner_member_id == member_id,
            ActionItem.status == "open",
        )
    )
    action_list_ = sorted(actions, key=lambda i: (*_due_key(i.due_date), i.number))
    return MyWork(tuple(task_list), tuple(action_list_))


# --- views a PM asks for: late work, one department ----------------------------------------------------


@dataclass(frozen=True)
class LateWork:
    """A late task (`code` its WBS code) or open action item (`code` `A3`, `progress` None)."""

    department_id: int | None  # the task's; the owner's for an action item
    code: str
    title: str
    due: date
    workdays: int  # workdays of the project's calendar since the due date
    owners: tuple[Member, ...]
    progress: int | None


async def _plan_rolled(
    session: AsyncSession, project_id: int
) -> tuple[list[Task], list[wbs.Node], dict[str, wbs.Rolled]]:
    """The plan in WBS order, as nodes, and rolled up (off the event loop, as in `overview`)."""
    task_list = await tasks.ordered(session, project_id)
    nodes = [wbs.Node(t.code, t.start_date, t.due_date, t.progress, t.status) for t in task_list]
    return task_list, nodes, await asyncio.to_thread(wbs.rollup, nodes)


async def _late_actions(
    session: AsyncSession, project_id: int, today: date, is_workday: IsWorkday
) -> list[LateWork]:
    items = list(
        await session.scalars(
            select(ActionItem).where(
                ActionItem.project_id == project_id, ActionItem.status == "open", ActionItem.due_date < today
            )
        )
    )
    people = await members_by_id(session, (item.owner_member_id for item in items))
    found = []
    for item in items:
        owner = people.get(item.owner_member_id or 0)
        due = item.due_date
        assert due is not None  # selected by due date
        found.append(
            LateWork(
                owner.department_id if owner else None,
                f"A{item.number}",
                item.text,
                due,
                workdays_after(due, today, is_workday),
                (owner,) if owner else (),
                None,
            )
        )
    return found


def _most_late_first(work: LateWork) -> tuple[date, bool, tuple[int, ...]]:
    is_action = work.progress is None
    number = (int(work.code[1:]),) if is_action else wbs.code_key(work.code)
    return (work.due, is_action, number)


async def late_work(
    *, session: AsyncSession, project_id: int, today: date, is_workday: IsWorkday
) -> list[LateWork]:
    """Every late task (see `wbs.late_once`) and late open action item, most overdue first."""
    task_list, _, rolled = await _plan_rolled(session, project_id)
    codes = wbs.late_once(rolled, today)
    late_tasks = [task for task in task_list if task.code in codes]
    owners = await _responsible(session, late_tasks)
    found = []
    for task in late_tasks:
        eff = rolled[task.code]
        assert eff.due is not None  # late, so dated
        found.append(
            LateWork(
                task.department_id,
                task.code,
                task.title,
                eff.due,
                workdays_after(eff.due, today, is_workday),
                owners[task.id],
                eff.progress,
            )
        )
    found += await _late_actions(session, project_id, today, is_workday)
    return sorted(found, key=_most_late_first)


@dataclass(frozen=True)
class DepartmentTask:
    task: Task
    rolled: wbs.Rolled  # its effective dates, % and status
    owners: tuple[Member, ...]
    workdays_late: int | None  # None unless late


@dataclass(frozen=True)
class DepartmentView:
    tasks: tuple[DepartmentTask, ...]  # unfinished first, each part in WBS order
    actual: int
    expected: int
    blockers: tuple[tuple[str, Blocker], ...]  # (task code, open blocker), oldest first
    late_actions: tuple[LateWork, ...]  # its members' late open action items, most overdue first


async def department_view(
    *, session: AsyncSession, project_id: int, department_id: int, today: date, is_workday: IsWorkday
) -> DepartmentView:
    """One department's tasks, its progress (its top tasks weighted as a parent over them, so a
    parent and its subtasks in the same department count once), open blockers and late items."""
    task_list, nodes, rolled = await _plan_rolled(session, project_id)
    mine = [task for task in task_list if task.department_id == department_id]
    codes = {task.code for task in mine}
    tops = [task.code for task in mine if not any(a in codes for a in wbs.ancestors(task.code))]
    planned = await asyncio.to_thread(schedule.planned_rollup, nodes, today, is_workday)
    late = wbs.late_once(rolled, today)
    owners = await _responsible(session, mine)
    rows = [
        DepartmentTask(
            task,
            rolled[task.code],
            owners[task.id],
            workdays_after(due, today, is_workday)
            if task.code in late and (due := rolled[task.code].due) is not None
            else None,
        )
        for task in mine
    ]
    by_id = {task.id: task.code for task in mine}
    blockers = await open_blockers(session, list(by_id))
    actions = await _late_actions(session, project_id, today, is_workday)
    return DepartmentView(
        tasks=tuple(sorted(rows, key=lambda row: row.rolled.status == "done")),
        actual=schedule.overall([rolled[code] for code in tops]),
        expected=schedule.overall([planned[code] for code in tops]),
        blockers=tuple((by_id[blocker.task_id], blocker) for blocker in blockers),
        late_actions=tuple(
            sorted((item for item in actions if item.department_id == department_id), key=_most_late_first)
        ),
    )
