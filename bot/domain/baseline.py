"""Slip against the baseline, pure: what moved since the PMs promised the dates, in working days."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol

from bot.domain.wbs import Rolled, code_key
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


class _Task(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...


class _Milestone(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def due_date(self) -> date: ...


def current_items(
    tasks: Iterable[_Task], rolled: Mapping[str, Rolled], milestones: Iterable[_Milestone]
) -> list[Dated]:
    """Every task's effective dates (`rolled`: a parent spans its children) and every milestone's
    due date, by milestone number."""
    items = [
        Dated("task", task.id, task.code, task.title, rolled[task.code].start, rolled[task.code].due)
        for task in tasks
    ]
    return items + [
        Dated("milestone", milestone.id, str(milestone.number), milestone.title, None, milestone.due_date)
        for milestone in sorted(milestones, key=lambda m: m.number)
    ]


@dataclass(frozen=True)
class Slips:
    """The plan against the baseline in force: what moved, keyed by (kind, id), and the plan end."""

    number: int
    then: dict[tuple[Kind, int], Dated]  # every item of the baseline, by (kind, id)
    moved: list[Moved]
    end_then: date | None
    end_now: date | None
    overall: int  # workdays the plan's end moved

    def due_moved(self, kind: Kind, ref_id: int) -> Moved | None:
        """The item's change when its due date moved (not when it was added or only its start moved)."""
        for change in self.moved:
            if (
                change.item.key == (kind, ref_id)
                and change.then
                and change.now
                and change.then.due != change.now.due
            ):
                return change
        return None

    def slipped_milestones(self) -> list[Moved]:
        """Milestones now due after their baseline date: late against the promise."""
        return [m for m in self.moved if m.item.kind == "milestone" and m.slip > 0]


def slips(number: int, then: Sequence[Dated], now: Sequence[Dated], calendar: WorkCalendar) -> Slips:
    """The plan (`now`) against baseline `number` (`then`)."""
    return Slips(
        number=number,
        then={item.key: item for item in then},
        moved=compare(then, now, calendar),
        end_then=plan_end(then),
        end_now=plan_end(now),
        overall=overall_slip(then, now, calendar),
    )
