"""Risk alert rules, pure: a snapshot of the project in, findings with their reasons and audiences out.

Each rule says, per subject ("task:12", "member:3", "risk:4", "action:7", "milestone:2"), why it alerts (the
reason's parameters), how bad it is and who hears about it at each escalation stage.

`severity` is a small ordinal that rises only when the problem got meaningfully worse (another
working week late, another 20 points behind ...), never merely because a day passed: an alert is
repeated only when its severity or its escalation stage rose, so a daily scan does not nag daily.

Escalation goes by the workdays a finding has stayed unresolved since it was first seen (the day
it was first seen counts 0): the owner (R) first; from 2 workdays also the task's A and the
department head (for a person, a risk or an action item: that person's department head); from 4
also the PMs. Whoever has nobody to tell at a stage (no owner, no A, no head) is covered by the
PMs at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from math import ceil
from typing import Literal

from bot.domain import schedule, wbs
from bot.domain.baseline import slip_workdays
from bot.domain.critical_path import Planned, critical_path
from bot.domain.workdays import WorkCalendar, workdays_after

Rule = Literal[
    "task_overdue",
    "task_behind",
    "upstream_late",
    "milestone_slipped",
    "blocker_open",
    "standup_missing",
    "risk_stale",
    "action_overdue",
]
RULES: tuple[Rule, ...] = (
    "task_overdue",
    "task_behind",
    "upstream_late",
    "milestone_slipped",
    "blocker_open",
    "standup_missing",
    "risk_stale",
    "action_overdue",
)

ESCALATE_AFTER = (2, 4)  # workdays unresolved before stage 1 (A, department head) and stage 2 (PMs)
BLOCKER_WORKDAYS = 2  # an open blocker alerts once this many workdays have passed since it was raised
MISSING_STANDUPS = 2  # expected standups missed in a row
STANDUP_LOOKBACK = 10  # workdays looked back for that streak
RISK_STALE_DAYS = 7  # calendar days without an update for a high or medium risk
UPSTREAM_LOOKAHEAD = 5  # workdays ahead a downstream task's start is watched
WEEK = 5  # workdays: each further working week of the same problem makes it worse
BEHIND_STEP = 20  # points: each further 20 points behind plan makes it worse


@dataclass(frozen=True)
class Person:
    """A member named in a reason; rendered as a platform mention."""

    member_id: int


Param = str | int | date | Person | tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    rule: Rule
    subject: str
    severity: int  # >= 1
    params: Mapping[str, Param]
    owners: tuple[int, ...]  # stage 0: who answers for it
    escalation: tuple[int, ...]  # added at stage 1: the task's A and the department head
    pms: tuple[int, ...]  # added at stage 2
    # A slip on the critical path moves the plan's end: the PMs hear of it the day it is seen.
    critical: bool = False

    def audience(self, stage: int) -> tuple[int, ...]:
        """Member ids told at `stage`, without repeats; the PMs when nobody else is there to tell."""
        levels = (self.owners, self.escalation, self.pms)[: stage + 1]
        people = tuple(dict.fromkeys(member for level in levels for member in level))
        return people or self.pms


# --- the snapshot ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFacts:
    """A task as stored (a parent's empty dates and its progress come from its children)."""

    id: int
    code: str
    title: str
    start: date | None
    due: date | None
    progress: int
    status: str
    created: date
    responsible: tuple[int, ...] = ()  # the owner and the R
    accountable: tuple[int, ...] = ()  # the A
    department_head: int | None = None  # the head of the task's department


@dataclass(frozen=True)
class BlockerFacts:
    task_id: int
    opened: date
    text: str


@dataclass(frozen=True)
class MemberFacts:
    id: int
    joined: date
    department_head: int | None = None
    reported: frozenset[date] = frozenset()  # days with a standup from them
    on_leave: frozenset[date] = frozenset()


@dataclass(frozen=True)
class RiskFacts:
    id: int
    number: int
    description: str
    level: str
    status: str
    owner: int | None
    updated: date  # the last change to the risk or its history


@dataclass(frozen=True)
class ActionFacts:
    id: int
    number: int
    text: str
    due: date | None
    status: str
    owner: int | None


@dataclass(frozen=True)
class MilestoneFacts:
    id: int
    number: int
    title: str
    due: date
    status: str
    baseline_due: date | None  # its date in the baseline in force; None without one
    tasks: tuple[int, ...] = ()  # ids of its linked tasks


@dataclass(frozen=True)
class Snapshot:
    tasks: tuple[TaskFacts, ...] = ()
    depends_on: Mapping[str, frozenset[str]] = field(default_factory=dict)  # code -> upstream codes
    blockers: tuple[BlockerFacts, ...] = ()  # open ones
    members: tuple[MemberFacts, ...] = ()
    risks: tuple[RiskFacts, ...] = ()
    actions: tuple[ActionFacts, ...] = ()
    pms: tuple[int, ...] = ()
    standup_days: frozenset[date] = frozenset()  # days the standup prompt went out
    milestones: tuple[MilestoneFacts, ...] = ()


# Findings that say a task's finish is slipping (a blocker or a stale risk is not a slip).
SLIP_RULES: frozenset[Rule] = frozenset({"task_overdue", "task_behind", "upstream_late"})


# --- escalation ------------------------------------------------------------------------------------


def workdays_unresolved(first_seen: date, today: date, calendar: WorkCalendar) -> int:
    """Workdays after the day a finding was first seen, up to and including `today`."""
    return workdays_after(first_seen, today, calendar)


def stage_for(unresolved: int, *, critical: bool = False) -> int:
    """0: the owner; 1: also the A and the department head; 2: also the PMs (at once for a slip on
    the critical path)."""
    if critical:
        return len(ESCALATE_AFTER)
    return sum(unresolved >= after for after in ESCALATE_AFTER)


def worth_telling(
    *, last_sent: date | None, told_severity: int, told_stage: int, severity: int, stage: int
) -> bool:
    """New, worse than when it was last told, or escalated to more people."""
    return last_sent is None or severity > told_severity or stage > told_stage


def recent_workdays(today: date, calendar: WorkCalendar, count: int = STANDUP_LOOKBACK) -> list[date]:
    """The last `count` workdays up to `today` (included when it is one), newest first."""
    days: list[date] = []
    day = today if calendar.is_workday(today) else calendar.previous_workday(today)
    while len(days) < count:
        days.append(day)
        day = calendar.previous_workday(day)
    return days


# --- the rules -------------------------------------------------------------------------------------


def _level(value: int, first: int, step: int) -> int:
    """Severity 1 from `first`, one more every `step` beyond it."""
    return 1 + max(0, value - first) // step


class _Plan:
    """The task tree as the rules see it: effective values, planned %, inherited A and head."""

    def __init__(self, snapshot: Snapshot, today: date, calendar: WorkCalendar) -> None:
        self.by_code = {task.code: task for task in snapshot.tasks}
        self.by_id = {task.id: task for task in snapshot.tasks}
        nodes = [wbs.Node(t.code, t.start, t.due, t.progress, t.status) for t in snapshot.tasks]
        self.rolled = wbs.rollup(nodes)
        self.planned = schedule.planned_progress(nodes, today, calendar)
        parents = {wbs.parent_of(task.code) for task in snapshot.tasks}
        self.leaves = [task for task in snapshot.tasks if task.code not in parents]
        self.pms = snapshot.pms
        timings = critical_path(
            {t.code: Planned(t.start, t.due) for t in snapshot.tasks}, snapshot.depends_on, calendar
        )
        self.critical = {code for code, timing in timings.items() if timing.critical}

    def _lineage(self, task: TaskFacts) -> Iterable[TaskFacts]:
        """The task, then its parent, up to its phase."""
        code: str | None = task.code
        while code is not None:
            if code in self.by_code:
                yield self.by_code[code]
            code = wbs.parent_of(code)

    def routing(self, task: TaskFacts) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Who hears of a task's problem first (its R) and at stage 1 (its A and department head);
        a subtask without its own takes its nearest parent's."""
        owners = next((t.responsible for t in self._lineage(task) if t.responsible), ())
        accountable = next((t.accountable for t in self._lineage(task) if t.accountable), ())
        head = next((t.department_head for t in self._lineage(task) if t.department_head), None)
        return owners, (*accountable, *((head,) if head is not None else ()))

    def finding(self, rule: Rule, task: TaskFacts, severity: int, **params: Param) -> Finding:
        """A finding about a task: routed as `routing` says, then to the PMs."""
        owners, escalation = self.routing(task)
        return Finding(
            rule,
            f"task:{task.id}",
            severity,
            {"code": task.code, "title": task.title, **params},
            owners,
            escalation,
            self.pms,
            critical=rule in SLIP_RULES and task.code in self.critical,
        )


def _task_overdue(plan: _Plan, today: date, calendar: WorkCalendar) -> Iterable[Finding]:
    for task in plan.leaves:
        due = plan.rolled[task.code].due
        if due is None or due >= today or task.status == "done":
            continue
        late = workdays_after(due, today, calendar)
        yield plan.finding("task_overdue", task, _level(late, 1, WEEK), due=due, days=late)


def _task_behind(plan: _Plan, today: date, threshold: int) -> Iterable[Finding]:
    for task in plan.leaves:
        rolled = plan.rolled[task.code]
        if rolled.start is None or rolled.due is None or rolled.due < today or task.status == "done":
            continue  # no plan to fall behind, or already overdue (the stronger alert)
        expected = plan.planned[task.code]
        behind = expected - task.progress
        if behind >= threshold:
            yield plan.finding(
                "task_behind",
                task,
                _level(behind, threshold, BEHIND_STEP),
                actual=task.progress,
                expected=expected,
                behind=behind,
            )


def _slipping_finish(
    rolled: wbs.Rolled, expected: int, today: date, calendar: WorkCalendar, threshold: int
) -> date | None:
    """When a late upstream task (overdue, or `threshold` points behind) will be finished at its
    planned pace from tomorrow on; None when it is not late."""
    if rolled.due is None or rolled.status == "done":
        return None
    behind = rolled.start is not None and expected - rolled.progress >= threshold
    if rolled.due >= today and not behind:
        return None
    span = calendar.workdays_between(rolled.start or rolled.due, rolled.due) or 1
    needed = ceil((100 - rolled.progress) * span / 100)
    return calendar.add_workdays(today, max(needed, 1))


def _upstream_late(
    plan: _Plan, snapshot: Snapshot, today: date, calendar: WorkCalendar, threshold: int
) -> Iterable[Finding]:
    horizon = calendar.add_workdays(today, UPSTREAM_LOOKAHEAD)
    for code in sorted(snapshot.depends_on, key=wbs.code_key):
        task = plan.by_code.get(code)
        if task is None:
            continue
        downstream = plan.rolled[code]
        start = downstream.start
        if start is None or start > horizon or downstream.progress > 0 or downstream.status == "done":
            continue  # no start to miss, not soon, or already under way
        late: list[tuple[str, date]] = []
        for upstream in sorted(snapshot.depends_on[code], key=wbs.code_key):
            if upstream not in plan.rolled:
                continue
            finish = _slipping_finish(
                plan.rolled[upstream], plan.planned[upstream], today, calendar, threshold
            )
            if finish is not None and finish >= start:
                late.append((upstream, finish))
        if late:
            yield plan.finding(
                "upstream_late",
                task,
                2 if start <= today else 1,  # worse once the start has come
                start=start,
                upstream=tuple(up for up, _ in late),
                finish=max(finish for _, finish in late),
            )


def _milestone_slipped(plan: _Plan, snapshot: Snapshot, calendar: WorkCalendar) -> Iterable[Finding]:
    """An open milestone now due after its baseline date: the promise is broken, as when it is late.
    It is told to whoever answers for its tasks (the PMs, who own the dates, when nobody does), then
    escalates like a task's finding; each further working week of slip makes it worse."""
    for milestone in snapshot.milestones:
        if milestone.status == "done" or milestone.baseline_due is None:
            continue
        slip = slip_workdays(milestone.baseline_due, milestone.due, calendar)
        if slip <= 0:
            continue
        routes = [plan.routing(plan.by_id[i]) for i in milestone.tasks if i in plan.by_id]
        owners = tuple(dict.fromkeys(member for first, _ in routes for member in first))
        escalation = tuple(
            dict.fromkeys(member for _, then in routes for member in then if member not in owners)
        )
        yield Finding(
            "milestone_slipped",
            f"milestone:{milestone.id}",
            _level(slip, 1, WEEK),
            {
                "number": milestone.number,
                "title": milestone.title,
                "due": milestone.due,
                "baseline": milestone.baseline_due,
                "days": slip,
            },
            owners or plan.pms,
            escalation,
            plan.pms,
        )


def _blocker_open(plan: _Plan, snapshot: Snapshot, today: date, calendar: WorkCalendar) -> Iterable[Finding]:
    oldest: dict[int, BlockerFacts] = {}
    for blocker in snapshot.blockers:
        if blocker.task_id not in oldest or blocker.opened < oldest[blocker.task_id].opened:
            oldest[blocker.task_id] = blocker
    for task_id, blocker in sorted(oldest.items()):
        task = plan.by_id.get(task_id)
        if task is None:
            continue
        days = workdays_after(blocker.opened, today, calendar)
        if days >= BLOCKER_WORKDAYS:
            yield plan.finding(
                "blocker_open", task, _level(days, BLOCKER_WORKDAYS, WEEK), days=days, text=blocker.text
            )


def _missed_in_a_row(member: MemberFacts, work_since: date, snapshot: Snapshot, window: list[date]) -> int:
    """Standups missed in a row, newest first, on days the member was expected to give one: the
    prompt went out, they were not on leave, and they and some of their open work already existed.
    Days they were not expected neither count nor break the streak."""
    streak = 0
    for day in window:
        if day <= member.joined or day <= work_since or day in member.reported:
            break
        if day in snapshot.standup_days and day not in member.on_leave:
            streak += 1
    return streak


def _standup_missing(
    plan: _Plan, snapshot: Snapshot, today: date, calendar: WorkCalendar
) -> Iterable[Finding]:
    window = recent_workdays(today, calendar)
    for member in snapshot.members:
        open_work = [t.created for t in plan.leaves if t.status != "done" and member.id in t.responsible]
        if not open_work:
            continue  # nothing to report on: not asked
        streak = _missed_in_a_row(member, min(open_work), snapshot, window)
        if streak >= MISSING_STANDUPS:
            yield Finding(
                "standup_missing",
                f"member:{member.id}",
                _level(streak, MISSING_STANDUPS, WEEK),
                {"member": Person(member.id), "days": streak},
                (member.id,),
                (member.department_head,) if member.department_head is not None else (),
                snapshot.pms,
            )


def _heads(snapshot: Snapshot) -> dict[int, int]:
    return {m.id: m.department_head for m in snapshot.members if m.department_head is not None}


def _escalation_of(owner: int | None, heads: Mapping[int, int]) -> tuple[int, ...]:
    return (heads[owner],) if owner is not None and owner in heads else ()


def _risk_stale(snapshot: Snapshot, today: date) -> Iterable[Finding]:
    heads = _heads(snapshot)
    for risk in snapshot.risks:
        days = (today - risk.updated).days
        if risk.level not in ("high", "medium") or risk.status == "closed" or days < RISK_STALE_DAYS:
            continue
        yield Finding(
            "risk_stale",
            f"risk:{risk.id}",
            _level(days, RISK_STALE_DAYS, RISK_STALE_DAYS),
            {"number": risk.number, "level": risk.level, "description": risk.description, "days": days},
            (risk.owner,) if risk.owner is not None else (),
            _escalation_of(risk.owner, heads),
            snapshot.pms,
        )


def _action_overdue(snapshot: Snapshot, today: date, calendar: WorkCalendar) -> Iterable[Finding]:
    heads = _heads(snapshot)
    for item in snapshot.actions:
        if item.status != "open" or item.due is None or item.due >= today:
            continue
        late = workdays_after(item.due, today, calendar)
        yield Finding(
            "action_overdue",
            f"action:{item.id}",
            _level(late, 1, WEEK),
            {"number": item.number, "text": item.text, "due": item.due, "days": late},
            (item.owner,) if item.owner is not None else (),
            _escalation_of(item.owner, heads),
            snapshot.pms,
        )


def assess(
    snapshot: Snapshot, today: date, calendar: WorkCalendar, *, threshold: int = schedule.AT_RISK_POINTS
) -> list[Finding]:
    """Every alert that holds `today`, in the order of RULES."""
    plan = _Plan(snapshot, today, calendar)
    return [
        *_task_overdue(plan, today, calendar),
        *_task_behind(plan, today, threshold),
        *_upstream_late(plan, snapshot, today, calendar, threshold),
        *_milestone_slipped(plan, snapshot, calendar),
        *_blocker_open(plan, snapshot, today, calendar),
        *_standup_missing(plan, snapshot, today, calendar),
        *_risk_stale(snapshot, today),
        *_action_overdue(snapshot, today, calendar),
    ]
