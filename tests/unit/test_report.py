"""The weekly report's content, card and table rows from a hand-built snapshot, as of Friday 2026-11-27."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.report import (
    ActionIn,
    AttendanceIn,
    BlockerIn,
    MilestoneIn,
    NeedIn,
    Person,
    ReportInput,
    RiskIn,
    TaskIn,
    UpdateIn,
    build,
    from_content,
    to_content,
    week_of,
)
from bot.render.report import render_card, table_rows

D = date.fromisoformat
TODAY = D("2026-11-27")  # a Friday; the week is 11-23 .. 11-29, next week 11-30 .. 12-06
BOB, CAROL, DAVE = Person("bob", "Bob"), Person("carol", "Carol"), Person("dave", "Dave")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def task(
    code: str,
    title: str,
    start: str | None,
    due: str | None,
    progress: int,
    *,
    status: str | None = None,
    owners: tuple[Person, ...] = (),
    department: str = "",
) -> TaskIn:
    if status is None:
        status = "done" if progress == 100 else "in_progress" if progress else "not_started"
    return TaskIn(
        code,
        title,
        D(start) if start else None,
        D(due) if due else None,
        progress,
        status,
        owners,
        department,
    )


SNAPSHOT = ReportInput(
    project_id=7,
    project_name="新品发布",
    today=TODAY,
    tasks=[
        task("1", "需求", None, None, 100, status="done", department="产品"),
        task("1.1", "调研", "2026-11-02", "2026-11-06", 100, owners=(BOB,), department="产品"),
        task("1.2", "原型", "2026-11-16", "2026-11-24", 100, owners=(CAROL,), department="产品"),
        task("2", "开发", None, None, 24, status="blocked", department="后端"),
        task("2.1", "接口", "2026-11-16", "2026-11-25", 70, owners=(BOB,), department="后端"),
        task(
            "2.2", "联调", "2026-11-23", "2026-12-04", 10, status="blocked", owners=(DAVE,), department="后端"
        ),
        task("2.3", "测试", "2026-12-01", "2026-12-11", 0, department="测试"),
        task("3", "发布", "2026-12-14", "2026-12-18", 0),
    ],
    departments=["产品", "后端", "测试", "市场"],
    milestones=[
        MilestoneIn(0, "立项", D("2026-11-02"), "done", D("2026-11-02")),
        MilestoneIn(1, "原型评审", D("2026-11-24"), "done", D("2026-11-24"), ("1.2",)),
        MilestoneIn(2, "内测", D("2026-12-04"), "open", None, ("2.1", "2.2")),
        MilestoneIn(3, "上线", D("2026-12-18"), "open"),
    ],
    updates=[
        UpdateIn("2.1", 40, 55, D("2026-11-23")),
        UpdateIn("1.2", 60, 100, D("2026-11-24")),
        UpdateIn("2.1", 55, 70, D("2026-11-26")),
    ],
    risks=[
        RiskIn(1, "high", "服务器容量不足", "open", BOB, D("2026-11-10")),
        RiskIn(2, "medium", "供应商可能延期", "new", CAROL, D("2026-11-25")),
        RiskIn(3, "low", "人手紧张", "mitigated", DAVE, D("2026-11-03"), ("mitigated",)),
        RiskIn(4, "low", "早已关闭", "closed", None, D("2026-11-02")),
    ],
    blockers=[BlockerIn("2.2", "等待测试环境", D("2026-11-24"))],
    actions=[
        ActionIn(2, "确认预算", BOB, D("2026-12-01"), "open"),
        ActionIn(1, "准备评审材料", CAROL, D("2026-11-25"), "open"),
    ],
    attendance=[AttendanceIn(BOB, 5, 5), AttendanceIn(CAROL, 5, 3), AttendanceIn(DAVE, 4, 4)],
)


def test_week_is_monday_to_sunday() -> None:
    assert week_of(D("2026-11-23")) == week_of(D("2026-11-29")) == (D("2026-11-23"), D("2026-11-29"))
    assert week_of(D("2026-11-30"))[0] == D("2026-11-30")


def test_overall_phases_and_milestones() -> None:
    report = build(SNAPSHOT, weekdays)

    assert (report.week_start, report.week_end, report.as_of) == (D("2026-11-23"), D("2026-11-29"), TODAY)
    # Phases weighted by their leaves' planned days: 1 (5 + 9 d) done, 2 (10 + 12 + 11 d) 24% of 48%,
    # 3 (5 d) not due to start: (1400 + 820) // 52 and (1400 + 1600) // 52.
    assert (report.actual, report.expected) == (42, 57)
    # 15 points behind, and 2.1 is overdue.
    assert report.state == "at_risk"
    assert [(p.key, p.actual, p.expected, p.state) for p in report.phases] == [
        ("1", 100, 100, "done"),
        ("2", 24, 48, "at_risk"),
        ("3", 0, 0, "on_track"),
    ]
    # Open ones by due date, then the one finished this week; one finished before is left out.
    assert [(m.key, m.actual, m.expected, m.state) for m in report.milestones] == [
        ("2", 37, 72, "at_risk"),
        ("3", 0, 0, "on_track"),
        ("1", 100, 100, "done"),
    ]


def test_this_week_and_next() -> None:
    report = build(SNAPSHOT, weekdays)

    assert [(t.code, t.after) for t in report.completed] == [("1.2", 100)]
    assert [(t.code, t.before, t.after) for t in report.advanced] == [("2.1", 40, 70)]
    assert [(t.code, t.start, t.due) for t in report.next_week] == [
        ("2.3", D("2026-12-01"), None),
        ("2.2", None, D("2026-12-04")),
    ]
    assert [(t.code, t.due) for t in report.late] == [("2.1", D("2026-11-25"))]
    assert [(b.code, b.title, b.since, b.owners) for b in report.blockers] == [
        ("2.2", "联调", D("2026-11-24"), (DAVE,))
    ]


def test_departments_risks_actions_and_standups() -> None:
    report = build(SNAPSHOT, weekdays)

    assert [(d.key, d.actual, d.expected, d.state, d.done, d.total, d.late) for d in report.departments] == [
        ("产品", 100, 100, "done", 2, 2, 0),
        ("后端", 37, 72, "late", 0, 2, 1),
        ("测试", 0, 0, "on_track", 0, 1, 0),
        ("", 0, 0, "on_track", 0, 1, 0),  # 市场 has no tasks; 3 has no department
    ]
    assert [r.number for r in report.risks_new] == [2]
    assert [r.number for r in report.risks_mitigated] == [3]
    assert [r.number for r in report.risks_open] == [1]
    assert report.actions_open == 2
    assert [(a.number, a.due) for a in report.actions_overdue] == [(1, D("2026-11-25"))]
    assert (report.attendance.expected, report.attendance.reported) == (14, 12)
    assert [a.person for a in report.attendance.missing] == [CAROL]


def test_departments_are_left_out_when_none_has_work() -> None:
    tasks = [replace(t, department="") for t in SNAPSHOT.tasks]
    assert build(replace(SNAPSHOT, tasks=tasks), weekdays).departments == ()


def test_a_risk_mitigated_this_week_then_reopened_is_not_counted_mitigated() -> None:
    risk = RiskIn(5, "high", "反复", "open", BOB, D("2026-11-02"), ("mitigated", "open"))
    report = build(replace(SNAPSHOT, risks=[risk]), weekdays)
    assert (report.risks_mitigated, [r.number for r in report.risks_open]) == ((), [5])


def test_card_in_chinese() -> None:
    card = render_card(build(SNAPSHOT, weekdays), "zh")

    assert card.title == "📅 周报 · 新品发布 · 11-23～11-29"
    assert card.color == "orange"
    assert card.body == "\n".join(
        [
            "🟡 **总体 42%**（计划 57%）· 有风险 · 落后计划 15 个百分点 · 1 个任务逾期",
            "",
            "**🆘 需要协调**",
            "⛔ 2.2 联调：等待测试环境（已 3 个工作日）<at:dave>",
            "🔴 2.1 接口 逾期 2 个工作日 <at:bob>",
            "📌 A1 准备评审材料 逾期 2 个工作日 <at:carol>",
            "",
            "**阶段与里程碑**",
            "✅ 1 需求 100%（计划 100%）",
            "🟡 2 开发 24%（计划 48%）",
            "🟢 3 发布 0%（计划 0%）",
            "🏁 内测 · 12-04 · 🟡 37% 有风险",
            "🏁 上线 · 12-18 · 🟢 正常",
            "🏁 原型评审 · 11-24 · ✅ 100% 已完成",
            "",
            "**本周进展** 完成 1 项",
            "✅ 1.2 原型",
            "📈 2.1 接口 40% → 70%",
            "",
            "**下周计划 2 项**",
            "▶️ 2.3 测试 · 12-01 开始",
            "🎯 2.2 联调 · 12-04 截止",
            "",
            "**部门进度**",
            "✅ 产品 100%（计划 100%）· 完成 2/2",
            "🔴 后端 37%（计划 72%）· 完成 0/2 · 逾期 1",
            "🟢 测试 0%（计划 0%）· 完成 0/1",
            "🟢 未分部门 0%（计划 0%）· 完成 0/1",
            "",
            "**风险** 新增 1 · 已缓解 1 · 仍未缓解 1",
            "🆕 R2 中 供应商可能延期 <at:carol>",
            "✅ R3 人手紧张",
            "🔴 R1 高 服务器容量不足 <at:bob>",
            "",
            "**行动项** 未完成 2 · 逾期 1",
            "",
            "**站会** 本周提交 12/14（85%）· 缺报较多：<at:carol>",
            "",
            "👉 有卡点或逾期的同学请更新：/进度、/卡点 解除。往期周报：/周报 上周",
        ]
    )


def test_card_in_english_caps_long_sections() -> None:
    many = [task(f"4.{n}", f"Item {n}", "2026-11-30", "2026-12-02", 0) for n in range(1, 9)]
    report = build(
        replace(SNAPSHOT, tasks=[*SNAPSHOT.tasks, task("4", "Batch", None, None, 0), *many]), weekdays
    )
    card = render_card(report, "en")

    assert card.title == "📅 Weekly report · 新品发布 · 11-23 – 11-29"
    assert "**Next week: 10**" in card.body
    assert "… +5 more" in card.body  # five shown of ten
    assert "🔴 2.1 接口 2 workdays late <at:bob>" in card.body
    assert "**Standups** 12/14 this week (85%) · missed most: <at:carol>" in card.body


def test_an_empty_project_gets_a_short_grey_card_and_only_the_summary_row() -> None:
    empty = ReportInput(project_id=1, project_name="Empty", today=TODAY)
    report = build(empty, weekdays)
    card = render_card(report, "en")

    assert card.color == "grey"
    assert card.body.splitlines()[0].startswith("No tasks yet.")
    assert "Standups" not in card.body and "Risks" not in card.body
    assert [key for key, _ in table_rows(report, "en", SHANGHAI)] == ["summary"]


def test_table_rows_one_per_task_and_a_summary() -> None:
    rows = table_rows(build(SNAPSHOT, weekdays), "zh", SHANGHAI)

    assert [key for key, _ in rows] == ["1", "1.1", "1.2", "2", "2.1", "2.2", "2.3", "3", "summary"]
    week = datetime(2026, 11, 23, tzinfo=SHANGHAI)
    assert dict(rows)["2.1"] == {
        "编号": "2.1",
        "标题": "接口",
        "负责人": "Bob",
        "部门": "后端",
        "进度": 0.7,
        "状态": "已逾期",
        "截止日期": datetime(2026, 11, 25, tzinfo=SHANGHAI),
        "周": week,
    }
    assert dict(rows)["2"]["截止日期"] == datetime(2026, 12, 11, tzinfo=SHANGHAI)  # a parent's spans children
    assert dict(rows)["2.2"]["状态"] == "受阻"
    assert dict(rows)["2.3"]["负责人"] == ""
    summary = dict(rows)["summary"]
    assert summary["编号"] == "汇总"
    assert summary["进度"] == 0.42
    assert summary["状态"] == "有风险"
    assert summary["标题"] == "新品发布 周报：计划 57%，卡点 1，逾期任务 1，未缓解风险 2"
    assert summary["周"] == week
    assert week.astimezone(UTC) == datetime(2026, 11, 22, 16, tzinfo=UTC)


def test_english_table_uses_english_columns() -> None:
    rows = table_rows(build(SNAPSHOT, weekdays), "en", SHANGHAI)
    assert list(dict(rows)["1.1"]) == [
        "Code",
        "Title",
        "Owner",
        "Department",
        "Progress",
        "Status",
        "Due",
        "Week",
    ]
    assert dict(rows)["1.1"]["Status"] == "done"


def test_content_is_json_and_reads_back_the_same() -> None:
    report = build(SNAPSHOT, weekdays)
    content = to_content(report)

    stored = json.loads(json.dumps(content))
    assert stored["week_start"] == "2026-11-23"
    assert stored["tasks"][4]["owners"] == [{"user_id": "bob", "name": "Bob"}]
    assert from_content({**stored, "table_sync": {"status": "done"}}) == report


def test_resource_requests_open_and_handled_this_week() -> None:
    needs = [
        NeedIn(3, "法务审合同", CAROL, "", D("2026-11-27")),
        NeedIn(1, "测试服务器 2台", BOB, "后端", D("2026-11-20")),
        NeedIn(2, "设计师半天", DAVE, "产品", D("2026-11-18"), handled_on=D("2026-11-24")),
        NeedIn(4, "上周已处理", BOB, "后端", D("2026-11-16"), handled_on=D("2026-11-20")),
    ]
    report = build(replace(SNAPSHOT, needs=needs), weekdays)
    # Age in workdays: 11-20 (Fri) to 11-27 (Fri) is 5; raised today is 0.
    assert [(n.number, n.days) for n in report.needs_open] == [(1, 5), (3, 0)]
    assert [n.number for n in report.needs_handled] == [2]  # not N4, handled last week
    body = render_card(report, "zh").body
    assert (
        "**🙋 资源需求** 未处理 2 · 本周已处理 1\n"
        "• N1 测试服务器 2台（<at:bob> · 后端 · 5 个工作日）\n"
        "• N3 法务审合同（<at:carol> · 未分部门 · 0 个工作日）\n"
        "• ✅ N2 设计师半天（<at:dave>）\n"
    ) in body
    english = render_card(report, "en").body
    assert (
        "**🙋 Resource requests** open 2 · handled this week 1\n"
        "• N1 测试服务器 2台 (<at:bob> · 后端 · 5 workdays)" in english
    )
    assert "🙋" not in render_card(build(SNAPSHOT, weekdays), "zh").body


def test_a_snapshot_stored_before_resource_requests_reads_back_without_them() -> None:
    stored = to_content(build(replace(SNAPSHOT, needs=[NeedIn(1, "x", BOB, "", TODAY)]), weekdays))
    del stored["needs_open"], stored["needs_handled"]
    assert from_content(stored).needs_open == ()


def test_a_report_stored_before_a_field_existed_reads_back_with_its_default() -> None:
    report = replace(build(SNAPSHOT, weekdays), past_end=True)
    stored = json.loads(json.dumps(to_content(report)))
    del stored["past_end"]
    assert from_content(stored) == replace(report, past_end=False)


AHEAD = ReportInput(
    project_id=7,
    project_name="Ahead",
    today=TODAY,
    tasks=[
        task("1", "Build", None, None, 0),
        task("1.1", "API", "2026-11-16", "2026-11-26", 90, owners=(BOB,)),  # due yesterday: overdue
        task("1.2", "UI", "2026-11-23", "2026-12-18", 60),  # far ahead of its plan
    ],
)


def test_ahead_of_plan_with_overdue_work_is_at_risk_and_never_behind() -> None:
    report = build(AHEAD, weekdays)
    # 1.1: 11 days, plan 100 %; 1.2: 26 days, 5 of 20 workdays in (25 %).
    assert (report.actual, report.expected) == ((11 * 90 + 26 * 60) // 37, (11 * 100 + 26 * 25) // 37)
    assert report.state == "at_risk"
    headline = render_card(report, "zh").body.splitlines()[0]
    assert headline == "🟡 **总体 68%**（计划 47%）· 有风险 · 超前 21 个百分点 · 1 个任务逾期"
    assert "落后" not in headline
    english = render_card(report, "en").body.splitlines()[0]
    assert english == "🟡 **Overall 68%** (plan 47%) · at risk · ahead of plan by 21 points · 1 task overdue"


def test_a_missed_milestone_or_the_end_date_passed_makes_it_late() -> None:
    missed = replace(AHEAD, milestones=[MilestoneIn(1, "Beta", D("2026-11-26"), "open", None, ("1.1",))])
    report = build(missed, weekdays)
    assert report.state == "late"
    assert (
        render_card(report, "en")
        .body.splitlines()[0]
        .endswith("· late · ahead of plan by 21 points · 1 task overdue · 1 milestone missed")
    )
    ended = build(replace(AHEAD, end=D("2026-11-26")), weekdays)
    assert (ended.state, ended.past_end) == ("late", True)
    assert (
        render_card(ended, "zh")
        .body.splitlines()[0]
        .endswith("· 延误 · 超前 21 个百分点 · 1 个任务逾期 · 已过项目结束日期")
    )
    on_time = build(replace(AHEAD, end=D("2026-11-27")), weekdays)
    assert (on_time.state, on_time.past_end) == ("at_risk", False)


def test_ages_are_counted_in_workdays_of_the_project_calendar() -> None:
    from bot.domain.workdays import WorkCalendar

    # Raised Thursday 11-19, due Friday 11-20: the weekend and a day the team took off (Wed 11-25)
    # do not count. Blocker: 11-20, 23, 24, 26, 27; task and action: 11-23, 24, 26, 27.
    calendar = WorkCalendar({D("2026-11-25"): False})
    data = replace(
        SNAPSHOT,
        tasks=[*SNAPSHOT.tasks[:4], replace(SNAPSHOT.tasks[4], due=D("2026-11-20")), *SNAPSHOT.tasks[5:]],
        blockers=[BlockerIn("2.2", "等待测试环境", D("2026-11-19"))],
        actions=[ActionIn(1, "准备评审材料", CAROL, D("2026-11-20"), "open")],
    )
    report = build(data, calendar)
    assert (report.blockers[0].age, report.late[0].late, report.actions_overdue[0].late) == (5, 4, 4)
    body = render_card(report, "zh").body
    assert "⛔ 2.2 联调：等待测试环境（已 5 个工作日）<at:dave>" in body
    assert "🔴 2.1 接口 逾期 4 个工作日 <at:bob>" in body
    assert "📌 A1 准备评审材料 逾期 4 个工作日 <at:carol>" in body
    assert "天" not in body.replace("今天", "")
    english = render_card(report, "en").body
    assert "(5 workdays)" in english and "4 workdays late" in english and "4 workdays overdue" in english
    # A report stored before ages were kept reads back with calendar days, said as days.
    stored = json.loads(json.dumps(to_content(report)))
    for line in (*stored["blockers"], *stored["late"], *stored["actions_overdue"]):
        del line["age" if "since" in line else "late"]
    old = render_card(from_content(stored), "zh").body
    assert "（已 8 天）" in old and "逾期 7 天" in old and "个工作日" not in old
