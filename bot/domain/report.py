"""The weekly report, pure: what happened this week and what comes next, from a snapshot of the project.

`build` turns a `ReportInput` (plain values the service loaded, dates already in the project's
timezone) into a `WeeklyReport`; `bot.render.report` presents it (card, table rows); `to_content` /
`from_content` store it as JSON so past reports stay readable and can be re-synced.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, timedelta
from typing import Any, Union, get_args, get_origin, get_type_hints

from bot.domain import schedule, wbs
from bot.domain.participation import DepartmentRates
from bot.domain.workdays import IsWorkday, workdays_after

Health = schedule.Health

SUMMARY_ROW = "summary"
OPEN_RISK = ("new", "open")
MITIGATED_RISK = ("mitigated", "closed")
LEVEL_ORDER = {"high": 0, "medium": 1, "low": 2}


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week containing `day`."""
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


# --- input -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: str  # the platform's id, for a mention
    name: str  # for the table and the JSON API, where a mention cannot render


@dataclass(frozen=True)
class TaskIn:
    code: str
    title: str
    start: date | None
    due: date | None
    progress: int
    status: str
    owners: tuple[Person, ...] = ()
    department: str = ""  # "" when neither the task nor an ancestor has one


@dataclass(frozen=True)
class MilestoneIn:
    number: int
    title: str
    due: date
    status: str  # open | done
    done_on: date | None = None
    tasks: tuple[str, ...] = ()
    baseline_due: date | None = None  # its due date in the baseline in force, if one is set


@dataclass(frozen=True)
class UpdateIn:
    """One progress update made this week."""

    code: str
    previous: int
    progress: int
    day: date


@dataclass(frozen=True)
class RiskIn:
    number: int
    level: str
    description: str
    status: str
    owner: Person | None
    created_on: date
    moved_this_week: tuple[str, ...] = ()  # the statuses it was moved to this week


@dataclass(frozen=True)
class BlockerIn:
    code: str
    text: str
    since: date


@dataclass(frozen=True)
class ActionIn:
    number: int
    text: str
    owner: Person | None
    due: date | None
    status: str  # open | done


@dataclass(frozen=True)
class NeedIn:
    """A resource request: open, or handled (on `handled_on`)."""

    number: int
    text: str
    requester: Person | None
    department: str  # "" when the requester had none
    since: date  # the business day it was raised
    handled_on: date | None = None


@dataclass(frozen=True)
class MovedLine:
    """A task or milestone whose dates differ from the baseline (`then`/`now` None: added/deleted)."""

    kind: str  # task | milestone
    code: str
    title: str
    then: date | None
    now: date | None
    slip: int  # workdays the due date moved
    added: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class ChangeIn:
    """A change approved this week (CR-n): the stored edit and its schedule impact, as
    `services.changes.Impact.to_json` keeps it (downstream tasks moved, milestones left behind)."""

    number: int
    kind: str
    target: str
    old: dict[str, Any]
    change: dict[str, Any]
    impact: dict[str, Any]


@dataclass(frozen=True)
class BaselineIn:
    """The plan against the baseline in force, computed by the caller on the project calendar."""

    number: int
    end_slip: int  # workdays the plan's end moved
    moved: tuple[MovedLine, ...] = ()


@dataclass(frozen=True)
class AttendanceIn:
    """A member's standups this week: working days they were expected (not on leave) and reported."""

    person: Person
    expected: int
    reported: int


@dataclass(frozen=True)
class ReportInput:
    project_id: int
    project_name: str
    today: date  # the business date the report is as of
    end: date | None = None  # the project's end date; the plan's last due date when None
    tasks: Sequence[TaskIn] = ()
    departments: Sequence[str] = ()  # in display order
    milestones: Sequence[MilestoneIn] = ()
    updates: Sequence[UpdateIn] = ()
    risks: Sequence[RiskIn] = ()
    blockers: Sequence[BlockerIn] = ()  # open ones
    actions: Sequence[ActionIn] = ()  # the open ones are enough
    needs: Sequence[NeedIn] = ()  # the open ones and those handled this week
    attendance: Sequence[AttendanceIn] = ()
    baseline: BaselineIn | None = None
    changes: Sequence[ChangeIn] = ()  # approved this week, oldest first
    participation: Sequence[DepartmentRates] = ()  # this week's, per department (bot/domain/participation.py)


# --- the report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskLine:
    """Every WBS node with its effective values: the table's rows and the API's detail."""

    code: str
    title: str
    owners: tuple[Person, ...]
    department: str
    start: date | None
    due: date | None
    progress: int
    expected: int
    status: str  # not_started | in_progress | blocked | done
    state: Health
    leaf: bool


@dataclass(frozen=True)
class Progress:
    """A phase, milestone or department: actual against planned %."""

    key: str  # phase code, milestone number or department name
    title: str
    actual: int
    expected: int
    state: Health
    due: date | None = None
    done: int = 0  # finished leaf tasks (departments)
    total: int = 0
    late: int = 0


@dataclass(frozen=True)
class TaskRef:
    code: str
    title: str
    owners: tuple[Person, ...] = ()
    before: int = 0  # progress at the start of the week (advanced tasks)
    after: int = 0
    start: date | None = None
    due: date | None = None
    late: int | None = None  # workdays overdue (late tasks); None in reports stored before workdays


@dataclass(frozen=True)
class RiskLine:
    number: int
    level: str
    description: str
    status: str
    owner: Person | None


@dataclass(frozen=True)
class BlockerLine:
    code: str
    title: str
    text: str
    since: date
    owners: tuple[Person, ...]
    age: int | None = None  # workdays since it was raised; None in reports stored before workdays


@dataclass(frozen=True)
class ActionLine:
    number: int
    text: str
    owner: Person | None
    due: date | None
    late: int | None = None  # workdays overdue; None in reports stored before workdays


@dataclass(frozen=True)
class NeedLine:
    number: int
    text: str
    requester: Person | None
    department: str
    days: int  # working days since it was raised, as of the report


@dataclass(frozen=True)
class Attendance:
    expected: int
    reported: int
    missing: tuple[AttendanceIn, ...]  # members who missed some, most missed first


@dataclass(frozen=True)
class WeeklyReport:
    project_id: int
    project_name: str
    week_start: date
    week_end: date
    as_of: date
    actual: int
    expected: int
    state: Health
    phases: tuple[Progress, ...]
    milestones: tuple[Progress, ...]  # open ones by due date, then those finished this week
    late: tuple[TaskRef, ...]  # overdue leaf tasks, most overdue first
    blockers: tuple[BlockerLine, ...]  # oldest first
    completed: tuple[TaskRef, ...]  # leaf tasks finished this week
    advanced: tuple[TaskRef, ...]  # leaf tasks that moved this week but are not finished
    next_week: tuple[TaskRef, ...]  # unfinished leaf tasks starting or due next week
    departments: tuple[Progress, ...]
    risks_new: tuple[RiskLine, ...]
    risks_mitigated: tuple[RiskLine, ...]
    risks_open: tuple[RiskLine, ...]  # older risks still not mitigated
    actions_open: int
    actions_overdue: tuple[ActionLine, ...]
    attendance: Attendance
    tasks: tuple[TaskLine, ...]
    # Resource requests; snapshots stored before they existed have none.
    needs_open: tuple[NeedLine, ...] = ()  # by number
    needs_handled: tuple[NeedLine, ...] = ()  # handled this week, by number
    past_end: bool = False  # past the project's end date with work open (absent from older reports)
    baseline: BaselineIn | None = None  # what moved against the baseline (absent from older reports)
    changes: tuple[ChangeIn, ...] = ()  # changes approved this week (absent from older reports)
    # Standups and timeliness per department, those with something to say (absent from older reports).
    participation: tuple[DepartmentRates, ...] = ()

    @property
    def outlook(self) -> schedule.Outlook:
        """The state with the facts behind it, from what the report holds."""
        missed = sum(m.state == "late" for m in self.milestones)
        gap = self.expected - self.actual
        return schedule.Outlook(self.state, gap, len(self.late), missed, self.past_end)


def _progress(rolled: Sequence[wbs.Rolled]) -> int:
    """Weighted % of several tasks, exactly as a parent over them would be."""
    return schedule.overall(rolled) if rolled else 0


def _state(actual: int, expected: int, due: date | None, today: date, done: bool) -> Health:
    return "done" if done else schedule.schedule_state(actual, expected, due, today, False)


def build(data: ReportInput, is_workday: IsWorkday) -> WeeklyReport:
    today = data.today
    week_start, week_end = week_of(today)
    nodes = [wbs.Node(t.code, t.start, t.due, t.progress, t.status) for t in data.tasks]
    rolled = wbs.rollup(nodes)
    planned_tree = schedule.planned_rollup(nodes, today, is_workday)
    planned = {code: value.progress for code, value in planned_tree.items()}
    parents = {wbs.parent_of(t.code) for t in data.tasks}
    by_code = {t.code: t for t in data.tasks}

    lines: list[TaskLine] = []
    for task in data.tasks:
        eff = rolled[task.code]
        done = eff.status == "done"
        lines.append(
            TaskLine(
                code=task.code,
                title=task.title,
                owners=task.owners,
                department=task.department,
                start=eff.start,
                due=eff.due,
                progress=eff.progress,
                expected=planned[task.code],
                status=eff.status,
                state=_state(eff.progress, planned[task.code], eff.due, today, done),
                leaf=task.code not in parents,
            )
        )
    leaves = [line for line in lines if line.leaf]

    def planned_rolled(codes: Iterable[str]) -> list[wbs.Rolled]:
        return [planned_tree[c] for c in codes]

    phases: list[Progress] = []
    for line in lines:
        if "." not in line.code:
            phases.append(Progress(line.code, line.title, line.progress, line.expected, line.state, line.due))
    top = [c.key for c in phases]
    actual = _progress([rolled[c] for c in top])
    expected = _progress(planned_rolled(top))
    all_done = bool(top) and all(rolled[c].status == "done" for c in top)
    dues = [due for due in (rolled[c].due for c in top) if due is not None]
    late_leaves = sorted(
        (line for line in leaves if line.state == "late" and line.due is not None),
        key=lambda line: (line.due or today, wbs.code_key(line.code)),
    )
    milestones = _milestones(data, rolled, planned_rolled, week_start)
    overall = schedule.outlook(
        actual=actual,
        expected=expected,
        overdue=len(late_leaves),
        missed=sum(m.state == "late" for m in milestones),
        end=data.end or (max(dues) if dues else None),
        today=today,
        done=all_done,
    )
    risks_new, risks_mitigated, risks_open = _risks(data, week_start)

    def age(day: date | None) -> int | None:
        """Ages in workdays, with the project's calendar, as the alerts count them."""
        return None if day is None else workdays_after(day, today, is_workday)

    return WeeklyReport(
        project_id=data.project_id,
        project_name=data.project_name,
        week_start=week_start,
        week_end=week_end,
        as_of=today,
        actual=actual,
        expected=expected,
        state=overall.state,
        phases=tuple(phases),
        milestones=milestones,
        late=tuple(
            TaskRef(line.code, line.title, line.owners, due=line.due, late=age(line.due))
            for line in late_leaves
        ),
        blockers=tuple(
            BlockerLine(b.code, by_code[b.code].title, b.text, b.since, by_code[b.code].owners, age(b.since))
            for b in sorted(data.blockers, key=lambda b: (b.since, wbs.code_key(b.code)))
            if b.code in by_code
        ),
        completed=_completed(data, leaves),
        advanced=_advanced(data, leaves),
        next_week=_next_week(leaves, week_end),
        departments=_departments(data, leaves, rolled, planned_rolled, today),
        risks_new=risks_new,
        risks_mitigated=risks_mitigated,
        risks_open=risks_open,
        actions_open=sum(a.status == "open" for a in data.actions),
        actions_overdue=tuple(
            ActionLine(a.number, a.text, a.owner, a.due, age(a.due))
            for a in sorted(data.actions, key=lambda a: (a.due or date.max, a.number))
            if a.status == "open" and a.due is not None and a.due < today
        ),
        attendance=Attendance(
            expected=sum(a.expected for a in data.attendance),
            reported=sum(min(a.reported, a.expected) for a in data.attendance),
            missing=tuple(
                sorted(
                    (a for a in data.attendance if a.reported < a.expected),
                    key=lambda a: (a.reported - a.expected, a.person.name),
                )
            ),
        ),
        tasks=tuple(lines),
        past_end=overall.past_end,
        baseline=data.baseline,
        changes=tuple(data.changes),
        participation=tuple(d for d in data.participation if d.rates.asked or d.rates.due),
        needs_open=tuple(
            _need(n, today, is_workday)
            for n in sorted(data.needs, key=lambda n: n.number)
            if n.handled_on is None
        ),
        needs_handled=tuple(
            _need(n, today, is_workday)
            for n in sorted(data.needs, key=lambda n: n.number)
            if n.handled_on is not None and n.handled_on >= week_start
        ),
    )


def _need(need: NeedIn, today: date, is_workday: IsWorkday) -> NeedLine:
    return NeedLine(
        need.number, need.text, need.requester, need.department, workdays_after(need.since, today, is_workday)
    )


def _milestones(
    data: ReportInput,
    rolled: dict[str, wbs.Rolled],
    planned_rolled: Callable[[Iterable[str]], list[wbs.Rolled]],
    week_start: date,
) -> tuple[Progress, ...]:
    shown: list[Progress] = []
    for m in sorted(data.milestones, key=lambda m: (m.due, m.number)):
        finished_this_week = m.status == "done" and m.done_on is not None and m.done_on >= week_start
        if m.status == "done" and not finished_this_week:
            continue
        codes = [code for code in m.tasks if code in rolled]
        actual = _progress([rolled[c] for c in codes])
        # Without linked tasks there is no plan to fall behind, only a date to miss.
        expected = _progress(planned_rolled(codes)) if codes else actual
        state = _state(actual, expected, m.due, data.today, m.status == "done")
        if m.status != "done" and m.baseline_due is not None and m.due > m.baseline_due:
            state = "late"  # pushed past the promised date: late against the baseline
        shown.append(Progress(str(m.number), m.title, actual, expected, state, m.due, total=len(codes)))
    return tuple(sorted(shown, key=lambda p: p.state == "done"))


def _completed(data: ReportInput, leaves: list[TaskLine]) -> tuple[TaskRef, ...]:
    finished_on = {u.code: u.day for u in data.updates if u.progress >= 100 > u.previous}
    done = [line for line in leaves if line.status == "done" and line.code in finished_on]
    done.sort(key=lambda line: (finished_on[line.code], wbs.code_key(line.code)))
    return tuple(TaskRef(line.code, line.title, line.owners, after=100) for line in done)


def _advanced(data: ReportInput, leaves: list[TaskLine]) -> tuple[TaskRef, ...]:
    started_at: dict[str, int] = {}
    for update in sorted(data.updates, key=lambda u: u.day):
        started_at.setdefault(update.code, update.previous)
    return tuple(
        TaskRef(line.code, line.title, line.owners, before=started_at[line.code], after=line.progress)
        for line in leaves
        if line.code in started_at and line.status != "done" and line.progress != started_at[line.code]
    )


def _next_week(leaves: list[TaskLine], week_end: date) -> tuple[TaskRef, ...]:
    first, last = week_end + timedelta(days=1), week_end + timedelta(days=7)

    def within(day: date | None) -> bool:
        return day is not None and first <= day <= last

    planned = [line for line in leaves if line.status != "done" and (within(line.start) or within(line.due))]

    def when(line: TaskLine) -> date:
        return min(d for d in (line.start, line.due) if d is not None and within(d))

    planned.sort(key=lambda line: (when(line), wbs.code_key(line.code)))
    return tuple(
        TaskRef(
            line.code,
            line.title,
            line.owners,
            start=line.start if within(line.start) else None,
            due=line.due if within(line.due) else None,
        )
        for line in planned
    )


def _departments(
    data: ReportInput,
    leaves: list[TaskLine],
    rolled: dict[str, wbs.Rolled],
    planned_rolled: Callable[[Iterable[str]], list[wbs.Rolled]],
    today: date,
) -> tuple[Progress, ...]:
    groups: dict[str, list[TaskLine]] = {name: [] for name in data.departments}
    for line in leaves:
        groups.setdefault(line.department, []).append(line)
    if not any(groups.get(name) for name in data.departments):
        return ()  # no department has work: this section would only repeat the overall line
    result: list[Progress] = []
    for name, group in groups.items():
        if not group:
            continue
        codes = [line.code for line in group]
        actual = _progress([rolled[c] for c in codes])
        expected = _progress(planned_rolled(codes))
        done = sum(line.status == "done" for line in group)
        late = sum(line.state == "late" for line in group)
        state: Health = (
            "done" if done == len(group) else "late" if late else _state(actual, expected, None, today, False)
        )
        result.append(Progress(name, name, actual, expected, state, done=done, total=len(group), late=late))
    return tuple(result)


RiskLines = tuple[RiskLine, ...]


def _risks(data: ReportInput, week_start: date) -> tuple[RiskLines, RiskLines, RiskLines]:
    """New this week (still open), mitigated or closed this week, and older ones still open."""

    def line(risk: RiskIn) -> RiskLine:
        return RiskLine(risk.number, risk.level, risk.description, risk.status, risk.owner)

    ordered = sorted(data.risks, key=lambda r: (LEVEL_ORDER.get(r.level, 9), r.number))
    return (
        tuple(line(r) for r in ordered if r.created_on >= week_start and r.status in OPEN_RISK),
        tuple(
            line(r)
            for r in ordered
            if r.status in MITIGATED_RISK and set(r.moved_this_week) & set(MITIGATED_RISK)
        ),
        tuple(line(r) for r in ordered if r.created_on < week_start and r.status in OPEN_RISK),
    )


# --- stored form -------------------------------------------------------------------------------------


def to_content(report: WeeklyReport) -> dict[str, Any]:
    """The report as JSON (dates as ISO strings), for ReportSnapshot.content and the API."""
    encoded = _encode(report)
    assert isinstance(encoded, dict)
    return encoded


def from_content(content: dict[str, Any]) -> WeeklyReport:
    """The report stored by `to_content`; keys it does not know (added by the service) are ignored."""
    report = _decode(WeeklyReport, content)
    assert isinstance(report, WeeklyReport)
    return report


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (kind,) = (arg for arg in get_args(kind) if arg is not type(None))
        return _decode(kind, value)
    if origin is tuple:
        return tuple(_decode(get_args(kind)[0], item) for item in value)
    if isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        # A field added since the report was stored takes its default.
        known = [f.name for f in fields(kind) if f.name in value]
        return kind(**{name: _decode(hints[name], value[name]) for name in known})
    if kind is date:
        return date.fromisoformat(value)
    return value
