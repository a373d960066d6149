"""The dashboard's Gantt geometry (bot/render/gantt_svg.py): every row where its dates say, the done
share, the baseline, arrows from a bar's end to the next one's start, milestones, shaded days off and
today, each row carrying who, which department and its tooltip."""

from __future__ import annotations

from datetime import date

from bot.domain.gantt import Bar, Diamond, chart
from bot.domain.workdays import WorkCalendar
from bot.render.gantt_svg import DAY, HEAD, LABEL, ROW, STUB, RowInfo, drawing

TODAY = date(2026, 12, 9)  # a Wednesday
BARS = [
    Bar("1", "需求与设计", date(2026, 12, 1), date(2026, 12, 15), 60),
    Bar("1.1", "用户调研", date(2026, 12, 1), date(2026, 12, 4), 100, done=True),
    Bar(
        "1.2",
        "产品设计",
        date(2026, 12, 7),
        date(2026, 12, 15),
        40,
        baseline=(date(2026, 12, 7), date(2026, 12, 11)),
        late=True,
    ),
    Bar("1.3", "没有日期", None, None, 0),
]
PLAN = chart(
    title="t",
    bars=BARS,
    milestones=[Diamond("设计评审", date(2026, 12, 15), tasks=("1.2",))],
    dependencies=[("1.2", "1.1")],
    today=TODAY,
    is_workday=WorkCalendar(),
)


def info(bar: Bar) -> RowInfo:
    return RowInfo(owner=f"o{bar.code}", department="7", tooltip=f"tip {bar.code}")


def x(day: date) -> float:
    return LABEL + (day - PLAN.first).days * DAY


def test_bars_sit_on_their_days_with_the_done_share_and_the_baseline() -> None:
    drawn = drawing(PLAN, info, lambda n: f"mark {n}")
    rows = {row.code: row for row in drawn.rows}
    design = rows["1.2"]
    assert design.bar is not None and design.done is not None and design.baseline is not None
    assert design.bar.x == x(date(2026, 12, 7)) and design.bar.width == 9 * DAY
    assert design.done.width == 9 * DAY * 0.4
    assert (design.baseline.x, design.baseline.width) == (x(date(2026, 12, 7)), 5 * DAY)
    assert HEAD + 2 * ROW <= design.bar.y < HEAD + 3 * ROW  # the third row
    assert design.classes == "task late" and rows["1.1"].classes == "task done"
    assert "phase" in rows["1"].classes
    assert rows["1.3"].bar is None and rows["1.3"].label == "1.3 没有日期"
    assert (design.owner, design.department, design.tooltip) == ("o1.2", "7", "tip 1.2")
    assert rows["1.2"].label_x > rows["1"].label_x  # indented by level


def test_an_arrow_with_no_room_goes_down_between_the_rows_and_comes_in_from_the_left() -> None:
    touching = chart(
        title="t",
        bars=[
            Bar("1", "a", date(2026, 12, 1), date(2026, 12, 3), 0),
            Bar("2", "b", date(2026, 12, 4), date(2026, 12, 5), 0),
        ],
        milestones=[],
        dependencies=[("2", "1")],
        today=TODAY,
        is_workday=WorkCalendar(),
    )
    drawn = drawing(touching, info, lambda n: "")
    first, second = drawn.rows[0].bar, drawn.rows[1].bar
    assert first is not None and second is not None
    [arrow] = drawn.arrows
    x1, x2 = first.x + first.width, second.x - 1
    into = second.y + second.height / 2
    between = into - ROW / 2  # half a row above the bar it goes into
    assert arrow.endswith(f"H{x1 + STUB:g} V{between:g} H{x2 - STUB:g} V{into:g} H{x2:g}")


def test_arrows_milestones_days_off_and_today() -> None:
    drawn = drawing(PLAN, info, lambda n: f"mark {n}")
    research = drawn.rows[1].bar
    assert research is not None
    [arrow] = drawn.arrows
    # 1.2 starts the Monday after 1.1 ends: out of 1.1's end, down between the rows, into 1.2's start.
    end, start = research.x + research.width, x(date(2026, 12, 7)) - 1
    assert arrow.startswith(f"M{end:g},")
    assert arrow.endswith(
        f"H{start - STUB:g} V{drawn.rows[2].bar.y + drawn.rows[2].bar.height / 2:g} H{start:g}"
    )
    [mark] = drawn.marks
    assert mark.classes == "milestone open" and mark.tooltip == "mark 0"
    centre = x(date(2026, 12, 15)) + DAY / 2
    assert mark.points.startswith(f"{centre:g},")
    # Saturdays and Sundays between 11-30 and 12-16: 12-05, 12-06, 12-12, 12-13.
    assert [box.x for box in drawn.off_days] == [x(date(2026, 12, d)) for d in (5, 6, 12, 13)]
    assert drawn.today_x == x(TODAY) + DAY / 2
    assert drawn.width == LABEL + PLAN.days * DAY
    assert drawn.height > HEAD + 5 * ROW  # four rows and the milestone
