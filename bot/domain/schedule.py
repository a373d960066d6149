"""Schedule health, pure: how far a task should be by `today`, and whether it is on track."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal

from bot.domain import wbs
from bot.domain.workdays import IsWorkday, workdays_between

State = Literal["on_track", "at_risk", "late"]

AT_RISK_POINTS = 20  # behind plan by this many percentage points or more is "at risk"


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


def planned_progress(nodes: Iterable[wbs.Node], today: date, is_workday: IsWorkday) -> dict[str, int]:
    """Each node's expected % today; parents are weighted from their children exactly like
    `wbs.rollup` weights actual progress, so actual and planned compare like for like.

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
    return {code: rolled.progress for code, rolled in wbs.rollup(planned).items()}


def overall(phases: Sequence[wbs.Rolled]) -> int:
    """The project's % from its top-level phases, weighted as `wbs.rollup` weights any parent."""
    if not phases:
        return 0
    root = wbs.Node("1", None, None, 0, "not_started")
    children = [
        wbs.Node(f"1.{index}", phase.start, phase.due, phase.progress, phase.status)
        for index, phase in enumerate(phases, 1)
    ]
    return wbs.rollup([root, *children])["1"].progress
