"""The critical path of a plan, pure: finish-to-start dependencies, durations in working days.

Classic CPM over the leaf tasks, in working-day numbers of the project calendar:

* A leaf lasts the working days from its start to its due date (at least one: a task planned over a
  weekend still takes a day); one with only a due date is a one-day task. A leaf without a due
  date has no duration: it passes its predecessors' finish on to its successors and gets no timing.
* The hierarchy carries dependencies: "2.2 after 2.1" means every leaf under 2.2 waits for every
  leaf under 2.1, and a leaf waits for whatever its ancestors wait for.
* Forward pass: a leaf starts at its planned start, or the working day after its last predecessor
  finishes, whichever is later (so a late upstream pushes the forecast). Backward pass from the
  latest forecast finish. Total float is late finish minus early finish, in working days; a task
  is critical when it has none.
* Parents span their children: earliest start, latest finish, the smallest float; critical when
  any child is.
Dependencies are loop-free when stored (plan.py refuses loops); a loop that slipped in anyway
leaves its tasks without timing instead of failing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.wbs import code_key, parent_of
from bot.domain.workdays import WorkCalendar


@dataclass(frozen=True)
class Planned:
    """A task's own planned dates (parents usually have none: they span their children)."""

    start: date | None
    due: date | None


@dataclass(frozen=True)
class Timing:
    early_start: date
    early_finish: date  # the forecast finish: the planned due, or later when upstream work ends late
    late_start: date
    late_finish: date
    total_float: int  # working days this task can slip without moving the plan's end
    critical: bool


def _span(plan: Planned) -> tuple[date, date] | None:
    """(start, due) of a task with a due date; a start after the due date is a one-day task."""
    if plan.due is None:
        return None
    return min(plan.start or plan.due, plan.due), plan.due


def _leaves_under(codes: Iterable[str]) -> dict[str, list[str]]:
    """Each code -> the leaves it spans (itself for a leaf)."""
    codes = list(codes)
    parents = {parent_of(code) for code in codes}
    under: dict[str, list[str]] = {code: [] for code in codes}
    for code in codes:
        if code in parents:
            continue
        holder: str | None = code
        while holder is not None:
            if holder in under:
                under[holder].append(code)
            holder = parent_of(holder)
    return under


def _leaf_edges(
    under: Mapping[str, list[str]], depends_on: Mapping[str, Iterable[str]]
) -> dict[str, set[str]]:
    """Leaf -> the leaves it waits for, the hierarchy applied."""
    waits: dict[str, set[str]] = {leaf: set() for leaves in under.values() for leaf in leaves}
    for code, deps in depends_on.items():
        upstream = {leaf for dep in deps for leaf in under.get(dep, ())}
        for leaf in under.get(code, ()):
            waits[leaf] |= upstream - {leaf}
    return waits


def _topological(waits: Mapping[str, set[str]]) -> list[str]:
    """Kahn's order, stable by code; leaves on a loop are left out."""
    pending = {leaf: len(deps) for leaf, deps in waits.items()}
    followers: dict[str, list[str]] = {leaf: [] for leaf in waits}
    for leaf, deps in waits.items():
        for dep in deps:
            followers[dep].append(leaf)
    ready = deque(sorted((leaf for leaf, count in pending.items() if count == 0), key=code_key))
    order: list[str] = []
    while ready:
        leaf = ready.popleft()
        order.append(leaf)
        for follower in sorted(followers[leaf], key=code_key):
            pending[follower] -= 1
            if pending[follower] == 0:
                ready.append(follower)
    return order


def critical_path(
    planned: Mapping[str, Planned],
    depends_on: Mapping[str, Iterable[str]],
    calendar: WorkCalendar,
) -> dict[str, Timing]:
    """Timing of every task that has a duration (leaves with a due date, parents spanning one)."""
    under = _leaves_under(planned)
    waits = _leaf_edges(under, depends_on)
    spans = {leaf: span for leaf in waits if (span := _span(planned[leaf])) is not None}
    if not spans:
        return {}
    # Working day n (n >= 1) is the n-th working day after `epoch`.
    epoch = min(start for start, _ in spans.values()) - timedelta(days=1)

    def first_on_or_after(day: date) -> int:
        return calendar.workdays_between(epoch + timedelta(days=1), day - timedelta(days=1)) + 1

    def last_on_or_before(day: date) -> int:
        return calendar.workdays_between(epoch + timedelta(days=1), day)

    begin: dict[str, int] = {}
    duration: dict[str, int] = {}
    for leaf, (start, due) in spans.items():
        begin[leaf] = first_on_or_after(start)
        duration[leaf] = max(1, last_on_or_before(due) - begin[leaf] + 1)

    order = _topological(waits)
    early_start: dict[str, int] = {}
    early_finish: dict[str, int] = {}
    for leaf in order:
        after = max((early_finish[dep] + 1 for dep in waits[leaf]), default=1)
        early_start[leaf] = max(begin.get(leaf, 1), after)
        early_finish[leaf] = early_start[leaf] + duration.get(leaf, 0) - 1
    end = max((early_finish[leaf] for leaf in order if leaf in spans), default=0)
    followers: dict[str, list[str]] = {leaf: [] for leaf in order}
    for leaf in order:
        for dep in waits[leaf]:
            if dep in followers:
                followers[dep].append(leaf)
    late_start: dict[str, int] = {}
    late_finish: dict[str, int] = {}
    for leaf in reversed(order):
        late_finish[leaf] = min((late_start[nxt] - 1 for nxt in followers[leaf]), default=end)
        late_start[leaf] = late_finish[leaf] - duration.get(leaf, 0) + 1

    day_of = _DayOf(calendar, epoch)
    timings: dict[str, Timing] = {}
    for leaf in order:
        if leaf not in spans:
            continue
        slack = late_finish[leaf] - early_finish[leaf]
        timings[leaf] = Timing(
            early_start=day_of(early_start[leaf]),
            early_finish=day_of(early_finish[leaf]),
            late_start=day_of(late_start[leaf]),
            late_finish=day_of(late_finish[leaf]),
            total_float=slack,
            critical=slack <= 0,
        )
    for code, leaves in under.items():
        spanned = [timings[leaf] for leaf in leaves if leaf in timings and leaf != code]
        if spanned:
            timings[code] = Timing(
                early_start=min(t.early_start for t in spanned),
                early_finish=max(t.early_finish for t in spanned),
                late_start=min(t.late_start for t in spanned),
                late_finish=max(t.late_finish for t in spanned),
                total_float=min(t.total_float for t in spanned),
                critical=any(t.critical for t in spanned),
            )
    return timings


class _DayOf:
    """Working-day number -> date, memoised (the calendar bisects for each)."""

    def __init__(self, calendar: WorkCalendar, epoch: date) -> None:
        self._calendar, self._epoch = calendar, epoch
        self._known: dict[int, date] = {}

    def __call__(self, number: int) -> date:
        if number not in self._known:
            self._known[number] = self._calendar.add_workdays(self._epoch, max(number, 1))
        return self._known[number]
