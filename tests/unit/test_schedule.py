"""China working days and schedule health. 2026 dates come from the installed chinesecalendar data:
National Day 10-01..10-07 off, Sun 09-20 and Sat 10-10 are make-up workdays, Fri 09-25 is the
Mid-Autumn holiday; the package has no data for 2027, so Monday to Friday is assumed there."""

from datetime import date

import pytest

from bot.domain import wbs
from bot.domain.schedule import (
    Outlook,
    expected_progress,
    outlook,
    overall,
    planned_progress,
    schedule_state,
)
from bot.domain.workdays import china_calendar_covers, is_china_workday, workdays_between
from bot.render.health import outlook_facts

D = date.fromisoformat


def weekdays_only(day: date) -> bool:
    return day.weekday() < 5


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        ("2026-09-30", True),  # Wednesday before the holiday
        ("2026-10-01", False),  # National Day
        ("2026-10-05", False),  # a Monday inside the National Day week
        ("2026-10-07", False),
        ("2026-10-08", True),
        ("2026-10-10", True),  # Saturday, make-up workday (调休)
        ("2026-10-11", False),  # ordinary Sunday
        ("2026-09-20", True),  # Sunday, make-up workday
        ("2026-09-25", False),  # Friday, Mid-Autumn Festival
        ("2026-02-14", True),  # Saturday, make-up workday before the Spring Festival
        ("2026-02-16", False),  # Spring Festival
        ("2027-01-01", True),  # no 2027 data: a Friday counts as a workday
        ("2027-01-02", False),  # no 2027 data: a Saturday does not
        ("2003-06-02", True),  # before the package's first year: Monday
    ],
)
def test_is_china_workday(day: str, workday: bool) -> None:
    assert is_china_workday(D(day)) is workday


def test_calendar_coverage() -> None:
    assert china_calendar_covers(2026)
    assert not china_calendar_covers(2027)


@pytest.mark.parametrize(
    ("start", "end", "china", "weekdays"),
    [
        ("2026-09-28", "2026-10-12", 7, 11),  # 3 before the holiday, 10-08..10-10, 10-12
        ("2026-10-01", "2026-10-07", 0, 5),
        ("2026-10-10", "2026-10-10", 1, 0),
        ("2026-10-12", "2026-10-11", 0, 0),  # end before start
        ("2027-01-04", "2027-01-15", 10, 10),  # uncovered year: Monday to Friday
    ],
)
def test_workdays_between(start: str, end: str, china: int, weekdays: int) -> None:
    assert workdays_between(D(start), D(end), is_china_workday) == china
    assert workdays_between(D(start), D(end), weekdays_only) == weekdays


@pytest.mark.parametrize(
    ("start", "due", "today", "expected"),
    [
        # 2026-09-28 .. 10-12 has 7 China workdays.
        ("2026-09-28", "2026-10-12", "2026-09-27", 0),  # before start
        ("2026-09-28", "2026-10-12", "2026-09-28", 14),  # 1 of 7
        ("2026-09-28", "2026-10-12", "2026-10-05", 42),  # holiday week: still 3 of 7
        ("2026-09-28", "2026-10-12", "2026-10-10", 85),  # make-up Saturday counts: 6 of 7
        ("2026-09-28", "2026-10-12", "2026-10-11", 85),  # Sunday adds nothing
        ("2026-09-28", "2026-10-12", "2026-10-12", 100),  # due day
        ("2026-09-28", "2026-10-12", "2026-12-01", 100),  # after due
        ("2026-12-01", "2026-12-01", "2026-11-30", 0),  # one-day task, before
        ("2026-12-01", "2026-12-01", "2026-12-01", 100),  # one-day task, that day
        ("2026-12-10", "2026-12-05", "2026-12-04", 0),  # start after due: a one-day task on due
        ("2026-12-10", "2026-12-05", "2026-12-05", 100),
        ("2026-10-03", "2026-10-04", "2026-10-03", 50),  # no workday at all: calendar days
        ("2027-01-04", "2027-01-15", "2027-01-08", 50),  # uncovered year: 5 of 10 weekdays
    ],
)
def test_expected_progress(start: str, due: str, today: str, expected: int) -> None:
    assert expected_progress(D(start), D(due), D(today), is_china_workday) == expected


def test_expected_progress_depends_on_the_calendar() -> None:
    # Weekdays only would expect 6 of 11 by Monday 10-05; China's calendar expects 3 of 7.
    args = (D("2026-09-28"), D("2026-10-12"), D("2026-10-05"))
    assert expected_progress(*args, weekdays_only) == 54
    assert expected_progress(*args, is_china_workday) == 42


TODAY = D("2026-11-25")


@pytest.mark.parametrize(
    ("actual", "expected", "due", "done", "threshold", "state"),
    [
        (50, 50, "2026-12-01", False, 20, "on_track"),
        (31, 50, "2026-12-01", False, 20, "on_track"),  # 19 points behind
        (30, 50, "2026-12-01", False, 20, "at_risk"),  # 20 points behind
        (45, 55, "2026-12-01", False, 10, "at_risk"),  # custom threshold
        (90, 100, "2026-11-25", False, 20, "on_track"),  # due today is not late yet
        (60, 100, "2026-11-25", False, 20, "at_risk"),
        (90, 100, "2026-11-24", False, 20, "late"),
        (100, 100, "2026-11-24", True, 20, "on_track"),  # done is never late
        (0, 0, None, False, 20, "on_track"),  # no due date: never late
    ],
)
def test_schedule_state(
    actual: int, expected: int, due: str | None, done: bool, threshold: int, state: str
) -> None:
    due_date = D(due) if due else None
    assert schedule_state(actual, expected, due_date, TODAY, done, threshold=threshold) == state


def test_planned_progress_rolls_up_like_actual_progress() -> None:
    nodes = [
        wbs.Node("1", None, None, 0, "not_started"),
        # 11-23 (Mon) .. 11-27 (Fri): 5 workdays, 3 elapsed on Wed 11-25 -> 60.
        wbs.Node("1.1", D("2026-11-23"), D("2026-11-27"), 40, "in_progress"),
        # Starts next week -> 0. Durations 5 and 15 calendar days weight 1:3.
        wbs.Node("1.2", D("2026-11-30"), D("2026-12-14"), 0, "not_started"),
        wbs.Node("2", D("2026-12-01"), None, 0, "not_started"),
        wbs.Node("2.1", None, None, 30, "in_progress"),  # no dates: planned = actual
    ]
    planned = planned_progress(nodes, TODAY, is_china_workday)
    assert planned["1.1"] == 60 and planned["1.2"] == 0
    assert planned["1"] == 60 * 5 // 20
    assert planned["2.1"] == 30 and planned["2"] == 30


def test_overall_is_duration_weighted_like_wbs() -> None:
    phases = [
        wbs.Rolled(D("2026-12-01"), D("2026-12-03"), 100, "done"),  # 3 days
        wbs.Rolled(D("2026-12-04"), D("2026-12-12"), 0, "not_started"),  # 9 days
    ]
    assert overall(phases) == 25
    assert overall([wbs.Rolled(None, None, 50, "in_progress"), wbs.Rolled(None, None, 100, "done")]) == 75
    assert overall([]) == 0
    assert overall([wbs.Rolled(None, None, 100, "done")]) == 100


def test_project_overrides_come_before_the_official_calendar() -> None:
    from bot.domain.workdays import WorkCalendar

    calendar = WorkCalendar({date(2026, 11, 27): False, date(2026, 11, 28): True})
    assert not calendar.is_workday(date(2026, 11, 27))  # a Friday the team took off
    assert calendar.is_workday(date(2026, 11, 28))  # a Saturday the team works
    assert calendar.is_workday(date(2026, 11, 26))
    assert calendar.add_workdays(date(2026, 11, 26), 2) == date(2026, 11, 30)
    assert calendar.previous_workday(date(2026, 11, 30)) == date(2026, 11, 28)
    assert calendar.workdays_between(date(2026, 11, 23), date(2026, 11, 29)) == 5


@pytest.mark.parametrize(
    ("actual", "expected", "overdue", "missed", "end", "done", "state", "gap"),
    [
        (60, 40, 0, 0, None, False, "on_track", -20),  # ahead of plan: never behind
        (60, 40, 2, 0, None, False, "at_risk", -20),  # ahead, yet overdue work: at risk, not behind
        (46, 50, 0, 0, None, False, "on_track", 4),
        (45, 50, 0, 0, None, False, "at_risk", 5),
        (31, 50, 0, 0, None, False, "at_risk", 19),
        (30, 50, 0, 0, None, False, "late", 20),
        (90, 80, 0, 1, None, False, "late", -10),  # a milestone missed
        (90, 80, 0, 0, "2026-11-24", False, "late", -10),  # past the end date with work open
        (90, 80, 0, 0, "2026-11-25", False, "on_track", -10),  # the end date is today: not past it
        (100, 100, 0, 0, "2026-11-01", True, "done", 0),
        (0, 0, 0, 0, None, False, "on_track", 0),
    ],
)
def test_outlook(
    actual: int,
    expected: int,
    overdue: int,
    missed: int,
    end: str | None,
    done: bool,
    state: str,
    gap: int,
) -> None:
    view = outlook(
        actual=actual,
        expected=expected,
        overdue=overdue,
        missed=missed,
        end=D(end) if end else None,
        today=TODAY,
        done=done,
    )
    assert (view.state, view.gap, view.overdue, view.missed) == (state, gap, overdue, missed)
    assert view.past_end == (end == "2026-11-24")


@pytest.mark.parametrize(
    ("gap", "overdue", "missed", "past_end", "zh", "en"),
    [
        (-12, 0, 0, False, " · 超前 12 个百分点", " · ahead of plan by 12 points"),
        (
            -12,
            3,
            0,
            False,
            " · 超前 12 个百分点 · 3 个任务逾期",
            " · ahead of plan by 12 points · 3 tasks overdue",
        ),
        (
            1,
            1,
            0,
            False,
            " · 落后计划 1 个百分点 · 1 个任务逾期",
            " · behind plan by 1 point · 1 task overdue",
        ),
        (0, 0, 0, False, "", ""),
        (
            25,
            0,
            2,
            True,
            " · 落后计划 25 个百分点 · 2 个里程碑逾期 · 已过项目结束日期",
            " · behind plan by 25 points · 2 milestones missed · past the project end date",
        ),
    ],
)
def test_outlook_facts_keep_the_plan_gap_apart_from_overdue_work(
    gap: int, overdue: int, missed: int, past_end: bool, zh: str, en: str
) -> None:
    view = Outlook("at_risk", gap, overdue, missed, past_end)
    assert outlook_facts("zh", view) == zh
    assert outlook_facts("en", view) == en
    assert outlook_facts("en", Outlook("done", 0, 0, 0, False)) == ""
