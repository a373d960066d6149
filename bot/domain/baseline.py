"""Slip against the baseline, pure: what moved since the PMs promised the dates, in working days."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.domain.wbs import code_key
from bot.domain.workdays import WorkCalendar

Kind = Literal["task", "milestone"]


@dataclass(frozen=True)
class Dated:
    """A task's (effective) or a milestone's dates, in the baseline or now."""

    kind: Kind
    ref_id: int
    code: str  # a task's code; a milestone's number
    title: str
    start: date | None
    due: date | None

    @property
    def key(self) -> tuple[Kind, int]:
        return self.kind, self.ref_id


@dataclass(frozen=True)
class Moved:
    """An item whose dates differ from the baseline; `now` is None when it was deleted since, and
    `then` is None when it was added since."""

    then: Dated | None
    now: Dated | None
    slip: int  # working days the due date moved: + later, - earlier, 0 when it did not move

    @property
    def item(self) -> Dated:
        found = self.now or self.then
        assert found is not None
        return found


def slip_workdays(baseline: date, current: date, calendar: WorkCalendar) -> int:
    """Working days from `baseline` to `current`: +3 when it moved three working days later."""
    if current >= baseline:
        return calendar.workdays_between(baseline + timedelta(days=1), current)
    return -calendar.workdays_between(current + timedelta(days=1), baseline)


def _order(item: Dated) -> tuple[int, tuple[int, ...]]:
    return (0, code_key(item.code)) if item.kind == "task" else (1, (int(item.code),))


def compare(baseline: Iterable[Dated], current: Iterable[Dated], calendar: WorkCalendar) -> list[Moved]:
    """Every item whose start or due date differs from the baseline, was added or was deleted;
    tasks in code order, then milestones."""
    then: Mapping[tuple[Kind, int], Dated] = {item.key: item for item in baseline}
    now: Mapping[tuple[Kind, int], Dated] = {item.key: item for item in current}
    moved: list[Moved] = []
    for key in then.keys() | now.keys():
        before, after = then.get(key), now.get(key)
        if before is not None and after is not None:
            if (before.start, before.due) == (after.start, after.due):
                continue
            slip = (
                slip_workdays(before.due, after.due, calendar)
                if before.due is not None and after.due is not None
                else 0
            )
            moved.append(Moved(before, after, slip))
        else:
            moved.append(Moved(before, after, 0))
    return sorted(moved, key=lambda change: _order(change.item))


def plan_end(items: Iterable[Dated]) -> date | None:
    """The latest due date of the tasks and milestones: when the plan says the work is over."""
    return max((item.due for item in items if item.due is not None), default=None)


def overall_slip(baseline: Iterable[Dated], current: Iterable[Dated], calendar: WorkCalendar) -> int:
    """Working days the plan's end moved against the baseline's (0 when either has no dates)."""
    then, now = plan_end(baseline), plan_end(current)
    return 0 if then is None or now is None else slip_workdays(then, now, calendar)
