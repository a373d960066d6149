"""Schedule health, pure: how far a task should be by `today`, and whether it is on track."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.domain import wbs
from bot.domain.workdays import IsWorkday, workdays_between

State = Literal["on_track", "at_risk", "late"]

AT_RISK_POINTS = 20  # behind plan by this many percentage points or more is "at risk"

# A whole project is late this many points behind plan, and at risk from BEHIND_POINTS on.
LATE_POINTS = 20
BEHIND_POINTS = 5

# "done" is a state of a whole project (or phase, milestone) too: neither on track nor late.
Health = Literal["on_track", "at_risk", "late", "done"]


def expected_progress(start: date, due: date, today: date, is_workday: IsWorkday) -> int:
    """The planned % complete at the end of `today`: the share of the task's working days elapsed.

    0 before `start`, 100 from `due` on. A task whose span has no working day at all (a weekend
    task) is measured in calendar days instead. A start after the due date is treated as a
    one-day task on the due date.
    """
    if start > due:
        start = due
    if today < start:
        return 0
    if today >= due:
        return 100
    total = workdays_between(start, due, is_workday)
    elapsed = workdays_between(start, today, is_workday)
    if total == 0:
        total, elapsed = (due - start).days + 1, (today - start).days + 1
    return min(100, elapsed * 100 // total)


def schedule_state(
    actual: int,
    expected: int,
    due: date | None,
    today: date,
    done: bool,
    *,
    threshold: int = AT_RISK_POINTS,
) -> State:
    """ "late": past due and not done; "at_risk": `threshold` points or more behind plan."""
    if done:
        return "on_track"
    if due is not None and due < today:
        return "late"
    if expected - actual >= threshold:
        return "at_risk"
    return "on_track"


def planned_rollup(nodes: Iterable[wbs.Node], today: date, is_workday: IsWorkday) -> dict[str, wbs.Rolled]:
    """Each node's expected % today as a roll-up: parents are weighted from their children exactly
    like `wbs.rollup` weights actual progress, so actual and planned compare like for like.

    A leaf without both dates has no plan to fall behind: its expected value is its actual one.
    """
    nodes = list(nodes)
    parents = {wbs.parent_of(node.code) for node in nodes}
    planned = [
        wbs.Node(
            node.code,
            node.start,
            node.due,
            expected_progress(node.start, node.due, today, is_workday)
            if node.code not in parents and node.start is not None and node.due is not None
            else node.progress,
            node.status,
        )
        for node in nodes
    ]
    return wbs.rollup(planned)


def planned_progress(nodes: Iterable[wbs.Node], today: date, is_workday: IsWorkday) -> dict[str, int]:
    """Each node's expected % today (see `planned_rollup`)."""
    return {code: rolled.progress for code, rolled in planned_rollup(nodes, today, is_workday).items()}


def overall(phases: Sequence[wbs.Rolled]) -> int:
    """The % of several tasks (the project's phases), weighted as `wbs.rollup` weights any parent."""
    return wbs.combine(phases)[0]


@dataclass(frozen=True)
class Outlook:
    """A project's overall state and the facts behind it, so a headline can say why."""

    state: Health
    gap: int  # expected - actual in points: > 0 behind plan, < 0 ahead of it
    overdue: int  # unfinished tasks past their due date
    missed: int  # milestones past their due date and not done
    past_end: bool  # past the project's end date with work still open


def outlook(
    *, actual: int, expected: int, overdue: int, missed: int, end: date | None, today: date, done: bool
) -> Outlook:
    """The one rule for a project's state, for /status, the weekly report and anything else:
    done when all work is done; late when clearly late (LATE_POINTS or more behind plan, a milestone
    missed, or past `end` with work open); at risk when BEHIND_POINTS or more behind plan or any task
    is overdue; on track otherwise. Being ahead of plan never makes a project look behind."""
    gap = expected - actual
    past_end = not done and end is not None and end < today
    state: Health
    if done:
        state = "done"
    elif gap >= LATE_POINTS or missed or past_end:
        state = "late"
    elif gap >= BEHIND_POINTS or overdue:
        state = "at_risk"
    else:
        state = "on_track"
    return Outlook(state, gap, overdue, missed, past_end)
