"""The Gantt chart as data: rows in WBS order, pages by phase past MAX_ROWS, arrows and milestones
only where both ends are shown, a span that holds every bar, baseline, milestone and today, and the
project calendar's days off."""

from __future__ import annotations

from datetime import date

from bot.domain.gantt import MAX_ROWS, Arrow, Bar, Diamond, chart, narrowed, pages
from bot.domain.workdays import WorkCalendar

TODAY = date(2026, 12, 9)
BARS = [
    Bar("2.1", "后端开发", date(2026, 12, 16), date(2027, 1, 8), 10),
    Bar("1", "需求与设计", date(2026, 12, 1), date(2026, 12, 15), 60),
    Bar(
        "1.2",
        "产品设计",
        date(2026, 12, 7),
        date(2026, 12, 15),
        40,
        baseline=(date(2026, 12, 7), date(2026, 12, 11)),
    ),
    Bar("1.1", "用户调研", date(2026, 12, 1), date(2026, 12, 4), 100, done=True),
    Bar("2", "开发与上线", date(2026, 12, 16), date(2027, 1, 8), 5),
    Bar("2.2", "上线推广", None, None, 0),
]
MARKS = [
    Diamond("设计评审", date(2026, 12, 15), tasks=("1.2",)),
    Diamond("上线", date(2027, 1, 20), tasks=("2.1",)),
]
DEPENDS = [("1.2", "1.1"), ("2.1", "1.2"), ("2.2", "2.1")]


def test_the_whole_plan_in_wbs_order_with_arrows_between_dated_rows() -> None:
    result = chart(
        title="t", bars=BARS, milestones=MARKS, dependencies=DEPENDS, today=TODAY, is_workday=WorkCalendar()
    )
    assert [bar.code for bar in result.rows] == ["1", "1.1", "1.2", "2", "2.1", "2.2"]
    # 2.2 has no dates: no arrow into it.
    assert result.arrows == (Arrow(1, 2), Arrow(2, 4))
    assert [m.title for m in result.milestones] == ["设计评审", "上线"]
    assert (result.first, result.last) == (date(2026, 11, 30), date(2027, 1, 21))
    assert result.pages == () and pages(BARS) == []


def test_the_span_holds_today_and_the_baseline() -> None:
    early = [
        Bar("1", "a", date(2027, 3, 2), date(2027, 3, 5), 0, baseline=(date(2027, 2, 1), date(2027, 2, 3)))
    ]
    result = chart(
        title="t", bars=early, milestones=[], dependencies=[], today=TODAY, is_workday=WorkCalendar()
    )
    assert (result.first, result.last) == (date(2026, 12, 8), date(2027, 3, 6))


def test_days_off_come_from_the_project_calendar() -> None:
    # 2026-12-12/13 is a weekend; the project works on the 12th and takes the 10th off.
    calendar = WorkCalendar({date(2026, 12, 12): True, date(2026, 12, 10): False})
    bars = [Bar("1", "a", date(2026, 12, 9), date(2026, 12, 14), 0)]
    result = chart(title="t", bars=bars, milestones=[], dependencies=[], today=TODAY, is_workday=calendar)
    assert result.off_days == (date(2026, 12, 10), date(2026, 12, 13))


def test_a_long_plan_pages_by_phase() -> None:
    bars = [Bar(str(p), f"阶段{p}", None, None, 0) for p in (1, 2, 3)]
    bars += [
        Bar(f"{p}.{n}", "任务", date(2026, 12, n), date(2026, 12, n + 1), 0)
        for p in (1, 2, 3)
        for n in range(1, 12)
    ]
    assert len(bars) > MAX_ROWS and pages(bars) == ["1", "2", "3"]
    marks = [Diamond("M", date(2026, 12, 5), tasks=("2.3",)), Diamond("N", date(2026, 12, 6))]
    depends = [("2.2", "2.1"), ("3.1", "2.11")]
    overview = chart(
        title="t", bars=bars, milestones=marks, dependencies=depends, today=TODAY, is_workday=WorkCalendar()
    )
    assert overview.pages == ("1", "2", "3") and [bar.code for bar in overview.rows] == ["1", "2", "3"]
    assert len(overview.milestones) == 2  # the whole plan shows every milestone
    second = chart(
        title="t",
        bars=bars,
        milestones=marks,
        dependencies=depends,
        today=TODAY,
        is_workday=WorkCalendar(),
        phase="2",
    )
    assert [bar.code for bar in second.rows] == ["2", *(f"2.{n}" for n in range(1, 12))]
    assert [m.title for m in second.milestones] == ["M"]  # linked to one of its tasks
    assert second.arrows == (Arrow(1, 2),)  # 3.1 after 2.11 leaves the page


def test_the_whole_plan_on_one_page_when_asked_and_narrowed_to_a_filter() -> None:
    many = [Bar("1", "p", date(2026, 12, 1), date(2026, 12, 30), 0)]
    many += [Bar(f"1.{n}", "t", date(2026, 12, 1), date(2026, 12, 2), 0) for n in range(1, MAX_ROWS + 5)]
    whole = chart(
        title="t",
        bars=many,
        milestones=[],
        dependencies=[],
        today=TODAY,
        is_workday=WorkCalendar(),
        whole=True,
    )
    assert len(whole.rows) == MAX_ROWS + 5 and whole.pages == ()

    full = chart(
        title="t", bars=BARS, milestones=MARKS, dependencies=DEPENDS, today=TODAY, is_workday=WorkCalendar()
    )
    shown = narrowed(full, {"1.2", "2.1", "2.2"})
    assert [bar.code for bar in shown.rows] == ["1.2", "2.1", "2.2"]
    assert shown.arrows == (Arrow(0, 1),)  # 2.1 after 1.2, re-indexed; none into undated 2.2
    assert [m.title for m in shown.milestones] == ["设计评审", "上线"]
    assert (shown.first, shown.last) == (full.first, full.last)  # no bar moves
    alone = narrowed(full, {"1.1"})
    assert [bar.code for bar in alone.rows] == ["1.1"] and alone.arrows == () and alone.milestones == ()
