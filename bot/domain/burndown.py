"""The burndown of a plan as plain data: for each working day, the share of the work left as
planned, as it really went (from the progress history) and, once a baseline is set, as the baseline
planned it. "Work" is weighed as the roll-ups weigh it (planned days of the leaves), so the chart's
actual line ends where /status's % does.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain import wbs
from bot.domain.schedule import overall, planned_rollup


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
