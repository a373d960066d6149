"""Slip against a baseline, pure: working days on the project calendar, added and deleted items."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.baseline import Dated, Moved, compare, overall_slip, plan_end, slip_workdays
from bot.domain.workdays import WorkCalendar

# 2027-03-01 is a Monday; March 2027 has no official holiday.
calendar = WorkCalendar({date(2027, 3, 10): False})  # a project holiday on Wednesday 03-10


@pytest.mark.parametrize(
    ("then", "now", "slip"),
    [
        (date(2027, 3, 5), date(2027, 3, 5), 0),
        (date(2027, 3, 5), date(2027, 3, 8), 1),  # Friday -> Monday: one working day later
        (date(2027, 3, 8), date(2027, 3, 5), -1),
        (date(2027, 3, 8), date(2027, 3, 12), 3),  # Tue, Thu, Fri: the holiday does not count
        (date(2027, 3, 6), date(2027, 3, 5), 0),  # Saturday -> Friday: the same working day
        (date(2027, 3, 1), date(2027, 3, 31), 21),
    ],
)
def test_slip_in_working_days(then: date, now: date, slip: int) -> None:
    assert slip_workdays(then, now, calendar) == slip


def task(ref: int, code: str, due: date | None, start: date | None = None) -> Dated:
    return Dated("task", ref, code, f"T{code}", start, due)


def test_compare_lists_moved_added_and_deleted_items_in_plan_order() -> None:
    milestone = Dated("milestone", 1, "1", "发布", None, date(2027, 3, 12))
    then = [
        task(1, "1.1", date(2027, 3, 5)),
        task(2, "1.10", date(2027, 3, 5)),
        task(3, "2.1", date(2027, 3, 9)),
        milestone,
    ]
    now = [
        task(1, "1.1", date(2027, 3, 5), start=date(2027, 3, 1)),  # only the start moved
        task(3, "2.1", date(2027, 3, 12)),
        task(4, "1.2", date(2027, 3, 11)),
        Dated("milestone", 1, "1", "发布", None, date(2027, 3, 15)),
    ]
    moved = compare(then, now, calendar)
    assert [(m.item.code, m.slip, m.then is None, m.now is None) for m in moved] == [
        ("1.1", 0, False, False),
        ("1.2", 0, True, False),
        ("1.10", 0, False, True),
        ("2.1", 2, False, False),  # Thu, Fri (Wednesday is the project holiday)
        ("1", 1, False, False),  # the milestone comes after the tasks
    ]
    assert compare(now, now, calendar) == []
    assert isinstance(moved[0], Moved) and moved[0].then == then[0]


def test_the_plan_end_and_its_slip() -> None:
    then = [task(1, "1.1", date(2027, 3, 5)), task(2, "1.2", None)]
    now = [task(1, "1.1", date(2027, 3, 11)), task(2, "1.2", date(2027, 3, 9))]
    assert plan_end(then) == date(2027, 3, 5) and plan_end([task(2, "1.2", None)]) is None
    assert overall_slip(then, now, calendar) == 3  # Mon, Tue, Thu
    assert overall_slip([task(2, "1.2", None)], now, calendar) == 0
