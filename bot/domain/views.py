"""The read-only views of a project, pure, over its snapshot: /status (the project at a glance),
/mytasks (one person's open work), /overdue (late work) and /dept (one department)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.domain import schedule, wbs
from bot.domain.snapshot import (
    ActionRec,
    BlockerRec,
    MemberRec,
    MilestoneRec,
    ProjectSnapshot,
    TaskRec,
)
from bot.domain.workdays import workdays_after

LEVEL_ORDER = {"high": 0, "medium": 1, "low": 2}


class _Ranked(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def number(self) -> int: ...


def risk_order(risk: _Ranked) -> tuple[bool, int, int]:
    """Open risks by level (high first) then number; closed ones after them."""
    return (risk.status == "closed", LEVEL_ORDER.get(risk.level, 9), risk.number)


def due_key(due: date | None) -> tuple[bool, date]:
    """Dated first, soonest first; undated last."""
    return (due is None, due or date.max)


def open_actions(snapshot: ProjectSnapshot) -> list[ActionRec]:
    """Open action items by due date (undated last), then number."""
    found = (item for item in snapshot.actions if item.status == "open")
    return sorted(found, key=lambda item: (*due_key(item.due_date), item.number))


# --- /status --------------------------------------------------------------------------------------


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
    owners: tuple[MemberRec, ...]


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
    next_milestone: MilestoneRec | None
    critical: tuple[str, ...] = ()  # unfinished leaf tasks on the critical path, by early start


def overview(snapshot: ProjectSnapshot, today: date) -> Overview:
    """The project at a glance; its end is the charter's, else the plan's last due date. A
    milestone now due after its baseline date counts as missed while open, like a late one."""
    task_list, rolled, parents = snapshot.tasks, snapshot.rolled, snapshot.parents
    planned_tree = schedule.planned_rollup(snapshot.nodes, today, snapshot.calendar)
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
    late = tuple(
        LateTask(t.id, t.code, t.title, t.due_date, snapshot.responsible(t))
        for t in sorted(
            (
                t
                for t in task_list
                if t.code not in parents
                and t.due_date is not None
                and t.due_date < today
                and t.status != "done"
            ),
            key=lambda t: (t.due_date, wbs.code_key(t.code)),
        )
        if t.due_date
    )
    slipped = {m.item.ref_id for m in snapshot.slips.slipped_milestones()} if snapshot.slips else set()
    open_milestones = [m for m in snapshot.milestones if m.status == "open"]
    missed = sum(m.due_date < today or m.id in slipped for m in open_milestones)
    view = schedule.outlook(
        actual=actual,
        expected=expected,
        overdue=len(late),
        missed=missed,
        end=snapshot.end or (max(dues) if dues else None),
        today=today,
        done=all_done,
    )
    code_of = {task.id: task.code for task in task_list}
    blocked_codes = tuple(sorted({code_of[b.task_id] for b in snapshot.blockers}, key=wbs.code_key))
    counts = Counter(risk.level for risk in snapshot.risks if risk.status != "closed")
    open_risks = {level: counts[level] for level in LEVEL_ORDER if counts.get(level)}
    critical = tuple(
        code
        for code, timing in sorted(
            snapshot.timings.items(), key=lambda item: (item[1].early_start, wbs.code_key(item[0]))
        )
        if timing.critical and code not in parents and rolled[code].status != "done"
    )
    return Overview(
        task_count=len(task_list),
        actual=actual,
        expected=expected,
        outlook=view,
        phases=tuple(phases),
        late=late,
        open_blockers=len(snapshot.blockers),
        blocked_codes=blocked_codes,
        open_risks=open_risks,
        next_milestone=min(open_milestones, key=lambda m: (m.due_date, m.number), default=None),
        critical=critical,
    )


# --- /mytasks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyWork:
    tasks: tuple[TaskRec, ...]  # open tasks the member answers for (bot.domain.raci), by due date
    actions: tuple[ActionRec, ...]  # their open action items, by due date


def my_work(snapshot: ProjectSnapshot, member_id: int) -> MyWork:
    mine = (
        task for task in snapshot.tasks if task.status != "done" and member_id in snapshot.answering(task)
    )
    return MyWork(
        tuple(sorted(mine, key=lambda t: (*due_key(t.due_date), wbs.code_key(t.code)))),
        tuple(item for item in open_actions(snapshot) if item.owner_member_id == member_id),
    )


# --- /overdue and /dept ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LateWork:
    """A late task (`code` its WBS code) or open action item (`code` `A3`, `progress` None)."""

    department_id: int | None  # the task's; the owner's for an action item
    code: str
    title: str
    due: date
    workdays: int  # workdays of the project's calendar since the due date
    owners: tuple[MemberRec, ...]
    progress: int | None


def _late_actions(snapshot: ProjectSnapshot, today: date) -> list[LateWork]:
    found = []
    for item in snapshot.actions:
        if item.status != "open" or item.due_date is None or item.due_date >= today:
            continue
        owner = snapshot.member_by_id.get(item.owner_member_id or 0)
        found.append(
            LateWork(
                owner.department_id if owner else None,
                f"A{item.number}",
                item.text,
                item.due_date,
                workdays_after(item.due_date, today, snapshot.calendar),
                (owner,) if owner else (),
                None,
            )
        )
    return found


def _most_late_first(work: LateWork) -> tuple[date, bool, tuple[int, ...]]:
    is_action = work.progress is None
    number = (int(work.code[1:]),) if is_action else wbs.code_key(work.code)
    return (work.due, is_action, number)


def late_work(snapshot: ProjectSnapshot, today: date) -> list[LateWork]:
    """Every late task (see `wbs.late_once`) and late open action item, most overdue first."""
    rolled = snapshot.rolled
    codes = wbs.late_once(rolled, today)
    found = []
    for task in snapshot.tasks:
        if task.code not in codes:
            continue
        eff = rolled[task.code]
        assert eff.due is not None  # late, so dated
        found.append(
            LateWork(
                task.department_id,
                task.code,
                task.title,
                eff.due,
                workdays_after(eff.due, today, snapshot.calendar),
                snapshot.responsible(task),
                eff.progress,
            )
        )
    found += _late_actions(snapshot, today)
    return sorted(found, key=_most_late_first)


@dataclass(frozen=True)
class DepartmentTask:
    task: TaskRec
    rolled: wbs.Rolled  # its effective dates, % and status
    owners: tuple[MemberRec, ...]
    workdays_late: int | None  # None unless late


@dataclass(frozen=True)
class DepartmentView:
    tasks: tuple[DepartmentTask, ...]  # unfinished first, each part in WBS order
    actual: int
    expected: int
    blockers: tuple[tuple[str, BlockerRec], ...]  # (task code, open blocker), oldest first
    late_actions: tuple[LateWork, ...]  # its members' late open action items, most overdue first


def department_view(snapshot: ProjectSnapshot, department_id: int, today: date) -> DepartmentView:
    """One department's tasks, its progress (its top tasks weighted as a parent over them, so a
    parent and its subtasks in the same department count once), open blockers and late items."""
    rolled, calendar = snapshot.rolled, snapshot.calendar
    mine = [task for task in snapshot.tasks if task.department_id == department_id]
    codes = {task.code for task in mine}
    tops = [task.code for task in mine if not any(a in codes for a in wbs.ancestors(task.code))]
    planned = schedule.planned_rollup(snapshot.nodes, today, calendar)
    late = wbs.late_once(rolled, today)
    rows = [
        DepartmentTask(
            task,
            rolled[task.code],
            snapshot.responsible(task),
            workdays_after(due, today, calendar)
            if task.code in late and (due := rolled[task.code].due) is not None
            else None,
        )
        for task in mine
    ]
    by_id = {task.id: task.code for task in mine}
    return DepartmentView(
        tasks=tuple(sorted(rows, key=lambda row: row.rolled.status == "done")),
        actual=schedule.overall([rolled[code] for code in tops]),
        expected=schedule.overall([planned[code] for code in tops]),
        blockers=tuple((by_id[b.task_id], b) for b in snapshot.blockers if b.task_id in by_id),
        late_actions=tuple(
            sorted(
                (item for item in _late_actions(snapshot, today) if item.department_id == department_id),
                key=_most_late_first,
            )
        ),
    )
