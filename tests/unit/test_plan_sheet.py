"""The plan sheet's rules: cells in, a validated plan or every problem with its sheet and row out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest

from bot.domain.plan_sheet import Cell, InvalidWorkbook, Plan, PlanRow, SheetError, read_plan
from bot.render.i18n import t

TODAY = date(2026, 11, 25)
HEADER_ZH: tuple[Cell, ...] = ("层级", "编号", "标题", "负责人", "部门", "开始", "截止", "依赖", "里程碑")
HEADER_EN: tuple[Cell, ...] = (
    "Level",
    "Code",
    "Title",
    "Owner",
    "Department",
    "Start",
    "Due",
    "Depends on",
    "Milestones",
)
# A good plan: rows 2..6 of the sheet.
GOOD: list[tuple[Cell, ...]] = [
    ("阶段", "1", "需求与设计", None, None, "2026-12-01", "12-20", None, None),
    ("任务", "1.1", "用户调研", "carol", "市场", datetime(2026, 12, 1), date(2026, 12, 5), None, "设计评审"),
    ("任务", 1.2, " 产品设计 ", "erin", "研发", "12/06", "2026年12月15日", 1.1, "设计评审、 Beta"),
    ("阶段", 2, "开发", None, None, None, None, None, None),
    ("子任务", "2.1", "后端", "", None, None, "2027-01-10", "1.2，1.1", None),
]


def sheets(rows: Sequence[tuple[Cell, ...]], header: tuple[Cell, ...] = HEADER_ZH, **extra: list) -> dict:
    return {"项目章程": [("项目", "内容")], "项目计划": [header, *rows], **extra}


def problems(workbook: dict) -> list[tuple[int | None, str]]:
    with pytest.raises(InvalidWorkbook) as caught:
        read_plan(workbook, today=TODAY)
    return [(error.row, t("zh", error.key, **error.params)) for error in caught.value.errors]


def test_a_good_sheet_reads_into_a_plan_in_wbs_order() -> None:
    plan = read_plan(sheets([*GOOD[3:], *GOOD[:3], (None,) * 9]), today=TODAY)
    assert [row.code for row in plan.rows] == ["1", "1.1", "1.2", "2", "2.1"]
    rows = plan.by_code()
    assert rows["1"] == PlanRow("1", "需求与设计", start=date(2026, 12, 1), due=date(2026, 12, 20))
    assert rows["1.2"] == PlanRow(
        "1.2",
        "产品设计",
        "erin",
        "研发",
        date(2026, 12, 6),
        date(2026, 12, 15),
        ("1.1",),
        ("Beta", "设计评审"),
    )
    assert rows["2.1"].after == ("1.1", "1.2") and rows["2.1"].owner is None
    assert rows["1.2"].row == 6  # where it was read (the sheet had 2 and 2.1 first), not part of its value
    assert plan.milestone_links() == {"设计评审": ["1.1", "1.2"], "Beta": ["1.2"]}
    assert plan.due_of(["1"]) == date(2026, 12, 20) and plan.due_of(["2"]) == date(2027, 1, 10)
    # English headers and sheet names read the same; the example row and the level column are skipped.
    english = {"Plan": [HEADER_EN, ("Example", "9", "x", "", "", "", "", "", ""), *GOOD]}
    assert read_plan(english, today=TODAY) == plan
    assert read_plan(sheets([]), today=TODAY) == Plan(())


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("", "", "标题", None, None, None, None, None, None), "缺少编号"),
        (("", "1.a", "x", None, None, None, None, None, None), "编号「1.a」不对"),
        (("", "3.1.1.1", "x", None, None, None, None, None, None), "编号「3.1.1.1」不对"),
        (("", "3", "", None, None, None, None, None, None), "3 缺少标题"),
        (("", "3", "x" * 301, None, None, None, None, None, None), "「标题」太长：最多 300 字"),
        (("", "1.3", "x", None, None, "下个月", None, None, None), "开始「下个月」日期无法识别"),
        (("", "1.3", "x", None, None, None, "2026-02-30", None, None), "截止「2026-02-30」日期无法识别"),
        (("", "1.3", "x", None, None, None, "2040-01-01", None, None), "截止「2040-01-01」太远了"),
        (("", "1.3", "x", None, None, "12-10", "12-01", None, None), "开始 2026-12-10 晚于截止 2026-12-01"),
        (("", "1.3", "x", None, None, None, None, "2.9", None), "依赖 2.9 不存在"),
        (("", "1.3", "x", None, None, None, None, "1.3", None), "1.3 不能依赖自己"),
        (("", "1.3", "x", None, None, None, None, "1", None), "1.3 不能依赖自己的上下级 1"),
        (("", "1.3", "x", None, None, None, None, "1.x", None), "编号「1.x」不对"),
        (("", "1.1", "again", None, None, None, None, None, None), "编号 1.1 重复（第 3 行已有）"),
        (("", "4.1", "x", None, None, None, None, None, None), "4.1 的上级 4 不在表中"),
    ],
)
def test_each_bad_row_is_named_by_sheet_and_row(row: tuple[Cell, ...], expected: str) -> None:
    found = problems(sheets([*GOOD, row]))
    assert len(found) == 1 and found[0][0] == 7, found
    line = t("zh", "xlsx.at_row", sheet="项目计划", row=7, text=found[0][1])
    assert line.startswith("项目计划 第 7 行：") and expected in line, line


def test_every_problem_is_reported_at_once_in_row_order() -> None:
    rows = [
        *GOOD,
        ("", "1.3", "", None, None, "bad", None, "2.9", None),
        ("", "0", "x", None, None, None, None, None, None),
    ]
    found = problems(sheets(rows))
    assert [row for row, _ in found] == [7, 7, 8]
    assert [text.split("「")[0] for _, text in found] == ["1.3 缺少标题", "开始", "编号"]


def test_a_dependency_loop_is_named_once_through_the_hierarchy() -> None:
    rows = [*GOOD, ("", "1.3", "验收", None, None, None, None, "2.1", None)]
    # 2.1 waits for 1.1 and 1.2; 1.3 after 2.1 is fine, but phase 1 cannot then wait for 2.
    assert read_plan(sheets(rows), today=TODAY).by_code()["1.3"].after == ("2.1",)
    looped = [*GOOD[:2], ("", "1.2", "设计", None, None, None, None, "2.1", None), *GOOD[3:]]
    found = problems(sheets(looped))
    assert len(found) == 1 and found[0][0] == 4 and found[0][1].startswith("依赖成环：1.2 → 2.1 → 1.2")


def test_sheet_level_problems() -> None:
    assert problems({"项目章程": [], "Sheet1": [("a",)]}) == [
        (
            None,
            "未知的工作表「Sheet1」（认识的工作表：项目章程、责任矩阵(RACI)、项目计划、风险登记册、行动项、周进度报告）",
        ),
        (None, "缺少工作表「项目计划」"),
    ]
    without_due = tuple(cell for cell in HEADER_ZH if cell != "截止")
    assert problems(sheets([], header=without_due)) == [(1, "缺少列「截止」")]
    assert problems({"项目计划": [HEADER_ZH], "Plan": [HEADER_EN]})[0][1].startswith("有两张计划表")
    too_many = [("", f"{n}", "x", None, None, None, None, None, None) for n in range(1, 2002)]
    assert problems(sheets(too_many)) == [(None, "行数太多：最多 2000 行")]


def test_errors_render_in_english_too() -> None:
    error = SheetError("Plan", 7, "xlsx.dep_missing", {"code": "1.3", "dep": "2.9"})
    text = t("en", error.key, **error.params)
    assert (
        t("en", "xlsx.at_row", sheet="Plan", row=7, text=text)
        == "Plan row 7: The dependency 2.9 does not exist"
    )
