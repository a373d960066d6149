"""The burndown of a plan as plain data: for each working day, the share of the work left as
planned, as it really went (from the progress history) and, once a baseline is set, as the baseline
planned it. "Work" is weighed as the roll-ups weigh it (planned days of the leaves), so the chart's
actual line ends where /status's % does.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain import wbs
from bot.domain.schedule import overall, planned_rollup
from bot.domain.snapshot import ProjectSnapshot


@dataclass(frozen=True)
class Update:
    """A leaf's progress changed from `before` to `after` on `day` (the project's local date)."""

    code: str
    day: date
    before: int
    after: int


@dataclass(frozen=True)
class Point:
    day: date
    planned: int  # % of the work left, as planned
    actual: int | None  # as it went (None after today)
    baseline: int | None  # as the baseline planned it (None without one)


@dataclass(frozen=True)
class Burndown:
    title: str
    points: tuple[Point, ...]
    today: date


def progress_on(updates: Sequence[Update], current: int) -> Callable[[date], int]:
    """A leaf's % at the end of a day, from its updates (oldest first): the last one made by then,
    before the first the value it replaced, and the stored value when it never changed."""
    days = [update.day for update in updates]

    def at(day: date) -> int:
        made = bisect_right(days, day)
        if made:
            return updates[made - 1].after
        return updates[0].before if updates else current

    return at


def _left(nodes: Sequence[wbs.Node], rolled: dict[str, wbs.Rolled]) -> int:
    top = [rolled[node.code] for node in nodes if wbs.parent_of(node.code) is None]
    return 100 - overall(top) if top else 100


def burndown(
    *,
    title: str,
    nodes: Sequence[wbs.Node],
    updates: Iterable[Update],
    baseline: Sequence[wbs.Node] | None,
    first: date,
    last: date,
    today: date,
    is_workday: Callable[[date], bool],
) -> Burndown:
    """Working days from `first` to `last` (and `today` when it is a day off), each with the work
    left. The actual line weighs the history with today's plan, so a task added later counts as
    left from the start (the work was always there, only unplanned)."""
    nodes = list(nodes)
    parents = {wbs.parent_of(node.code) for node in nodes}
    by_leaf: dict[str, list[Update]] = {}
    for update in sorted(updates, key=lambda u: u.day):
        by_leaf.setdefault(update.code, []).append(update)
    histories = {
        node.code: progress_on(by_leaf.get(node.code, []), node.progress)
        for node in nodes
        if node.code not in parents
    }
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    days = [day for day in days if is_workday(day) or day == today]
    points = []
    for day in days:
        planned = _left(nodes, planned_rollup(nodes, day, is_workday))
        actual = None
        if day <= today:
            as_then = [
                wbs.Node(node.code, node.start, node.due, histories[node.code](day), node.status)
                if node.code in histories
                else node
                for node in nodes
            ]
            actual = _left(nodes, wbs.rollup(as_then))
        then = _left(baseline, planned_rollup(baseline, day, is_workday)) if baseline else None
        points.append(Point(day, planned, actual, then))
    return Burndown(title=title, points=tuple(points), today=today)


def span(snapshot: ProjectSnapshot, start: date | None, end: date | None) -> tuple[date, date] | None:
    """The days a burndown covers: the project's dates, else its tasks' first and last; None when
    nothing is dated."""
    days = [day for r in snapshot.rolled.values() for day in (r.start, r.due) if day is not None]
    first, last = start or min(days, default=None), end or max(days, default=None)
    if first is None or last is None or last < first:
        return None
    return first, last


def of_plan(
    snapshot: ProjectSnapshot,
    *,
    title: str,
    first: date,
    last: date,
    today: date,
    local_day: Callable[[datetime], date],
) -> Burndown:
    """The burndown of a project read with its progress history since `first` (`local_day` turns a
    stored time into the project's date). The baseline line plans the baseline's tasks by its dates."""
    codes = {task.id: task.code for task in snapshot.tasks}
    updates = [
        Update(codes[u.task_id], local_day(u.created_at), u.previous_progress, u.progress)
        for u in snapshot.updates
        if u.task_id in codes
    ]
    baseline = None
    if snapshot.slips is not None:
        then = snapshot.slips.then
        baseline = [
            wbs.Node(task.code, then[("task", task.id)].start, then[("task", task.id)].due, 0, "not_started")
            for task in snapshot.tasks
            if ("task", task.id) in then
        ]
    return burndown(
        title=title,
        nodes=snapshot.nodes,
        updates=updates,
        baseline=baseline,
        first=first,
        last=last,
        today=today,
        is_workday=snapshot.calendar,
    )
