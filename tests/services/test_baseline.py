"""Baselines through really signed webhooks on Feishu and DingTalk, SQLite and PostgreSQL: a PM
records the plan's dates, later moves show against them in working days, earlier baselines stay.

The plan is tests/services/test_plan_commands.py's: 1.2 due 2026-12-15 (a Tuesday), milestone #1
due 12-20, the plan ends with 2.2 on 2027-01-20. The harness clock is 2026-11-25.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, Baseline, BaselineItem
from tests.harness import Chat, chat_runtime
from tests.services.test_api import AUTH, api_client
from tests.services.test_plan_commands import build_plan, said


async def rows(chat: Chat, model: type) -> int:
    async with chat.runtime.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def move_1_2(chat: Chat) -> None:
    """alice moves 1.2 three workdays later (12-15 to 12-18). After a baseline this pushes 2.1.1 and
    2.1.2 as many workdays (they start after it), whose owners frank and erin are told privately."""
    replies = await chat.say("alice", "/任务 修改 1.2 截止=12-18")
    [reply] = [text for text in replies if text.startswith("✏️")]
    assert "• ↪ 2.1.1 顺延：12-20 → 12-23\n• ↪ 2.1.2 顺延：2027-01-10 → 2027-01-13" in reply, reply
    assert len(replies) == 3


async def test_a_baseline_shows_what_moved_in_working_days(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "bob", "/基线", "还没有基线")
        reply = await said(chat, "alice", "/基线 设定 各部门确认的首版计划", "📐 已设定基线 1")
        assert "8 个任务、1 个里程碑的日期（计划结束 2027-01-20）" in reply, reply
        assert "原因：各部门确认的首版计划" in reply
        assert await rows(chat, BaselineItem) == 9  # phases 1, 2, tasks 1.1 to 2.2, milestone #1

        await said(chat, "bob", "/基线", "✅ 所有任务和里程碑的日期与基线一致")
        await move_1_2(chat)
        await said(chat, "alice", "/任务 添加 2.3 素材 @gina 截止=12-28")
        await said(chat, "alice", "/任务 删除 2.2")
        view = await said(chat, "carol", "/基线", "📐 基线 1")
        assert "@alice 设定 · 原因：各部门确认的首版计划" in view, view
        assert "1.2 产品设计 截止 12-18（基线 12-15，+3 个工作日）" in view, view
        assert "2.3 素材 基线后新增（截止 12-28）" in view
        assert "2.2 上线推广 基线后已删除（基线截止 2027-01-20）" in view
        # 2.2 was the last task: the plan now ends with 2.1.2, pushed to 2027-01-13 by 1.2, five
        # working days earlier, and so does phase 2, which spans it; phase 1 keeps its own end (12-20).
        assert "计划结束 2027-01-13（基线 2027-01-20，提前 5 个工作日）" in view, view
        assert "• 2 开发与上线 截止 2027-01-13（基线 2027-01-20，提前 5 个工作日）" in view
        assert "• 2.1.1 接口定义 截止 12-23（基线 12-20，+3 个工作日）、开始 12-21（基线 12-16）" in view
        assert "• 1 需求与设计" not in view
        assert view.index("• 1.2") < view.index("• 2 ") < view.index("• 2.2") < view.index("• 2.3")


async def test_setting_again_keeps_the_history_and_only_a_pm_may(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/基线 设定")
        before = await rows(chat, Baseline), await rows(chat, BaselineItem), await rows(chat, AuditEntry)
        denial = await said(chat, "bob", "/基线 设定 我想改", "只有项目经理")
        assert "📐" not in denial
        assert (
            await rows(chat, Baseline),
            await rows(chat, BaselineItem),
            await rows(chat, AuditEntry),
        ) == before

        await said(chat, "alice", "/里程碑 添加 上线 截止=2027-01-25", "#2")
        await said(chat, "alice", "/baseline set scope change approved", "📐 已设定基线 2")
        history = await said(chat, "dan", "/基线 历史", "📐 基线历史（2 个）")
        assert history.index("基线 2") < history.index("基线 1")
        assert "@alice · 10 项 · scope change approved" in history, history
        assert "@alice · 9 项" in history
        async with chat.runtime.factory() as session:
            audit = await session.scalar(
                select(AuditEntry).where(AuditEntry.action == "baseline.set").order_by(AuditEntry.id.desc())
            )
        assert audit is not None and audit.after == {
            "number": 2,
            "reason": "scope change approved",
            "items": 10,
        }


async def test_in_english(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/config language en")
        await said(chat, "alice", "/baseline", "No baseline yet")
        await said(
            chat,
            "alice",
            "/baseline set",
            "📐 Baseline 1 set: the dates of 8 tasks and 1 milestone (plan ends 2027-01-20).",
        )
        await said(chat, "alice", "/task edit 1.1 due=12-03")  # from Saturday 12-05 to Thursday
        view = await said(chat, "alice", "/baseline", "1 change against the baseline:")
        assert "1.1 用户调研 due 12-03 (baseline 12-05, 1 workday earlier)" in view, view


async def test_dates_show_against_the_baseline_in_tasks_status_and_the_weekly_report(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        tasks_before = await said(chat, "bob", "/任务列表")
        assert "基线" not in tasks_before  # no baseline yet: nothing to compare with
        await said(chat, "alice", "/基线 设定")
        await move_1_2(chat)
        tasks = await said(chat, "bob", "/任务列表")
        assert "12-18（基线 12-15，+3 个工作日）" in tasks, tasks
        # 1.2 and what it pushed: 2.1.1, 2.1.2 and so 2.1 and phase 2; phase 1 keeps its own end.
        assert "📐 相对基线 1：计划结束 ±0 个工作日 · 改期 5 项（/基线）" in tasks
        status = await said(chat, "carol", "/状态")
        assert "📐 相对基线 1：计划结束 ±0 个工作日 · 改期 5 项（/基线）" in status, status
        assert "🔴" not in status.splitlines()[1]

        # A milestone pushed past its baseline date is late against the promise: red, like a missed one.
        await said(chat, "alice", "/里程碑 修改 1 截止=12-24")
        status = await said(chat, "carol", "/状态")
        assert status.splitlines()[1].startswith("🔴"), status
        report = await said(chat, "carol", "/周报")
        assert "📐 相对基线 1（计划结束 ±0 个工作日）" in report, report
        assert "• 1.2 产品设计 截止 12-18（基线 12-15，+3 个工作日）" in report
        # Six items moved (1.2 pushed four more): five are listed, and the week's approved changes.
        assert "• 2.1.2 接口实现 截止 2027-01-13（基线 2027-01-10，+3 个工作日）\n…还有 1 项" in report
        assert "\n• CR-2 里程碑 #1 设计评审通过 截止 12-20 → 12-24\n" in report


async def test_the_api_gives_baseline_dates_slip_and_float(engine: AsyncEngine, database_url: str) -> None:
    async with chat_runtime(engine) as chat:
        await build_plan(chat)
        await chat.one("alice", "/基线 设定")
        await move_1_2(chat)
    async with api_client(database_url) as client:
        body = (await client.get("/api/projects/1", headers=AUTH)).json()
    tasks = {task["code"]: task for task in body["tasks"]}
    assert (tasks["1.2"]["baseline_due"], tasks["1.2"]["due"], tasks["1.2"]["slip_workdays"]) == (
        "2026-12-15",
        "2026-12-18",
        3,
    )
    assert tasks["1.1"]["slip_workdays"] == 0 and tasks["1.1"]["baseline_start"] == "2026-12-01"
    # 2.2 has only a due date: a one-day task on 2027-01-20, the plan's end, so it is critical. The
    # chain before it (1.1 → 1.2 → 2.1.1 → 2.1.2, ending Friday 01-08) had 7 workdays of float;
    # 1.2 moved 3 workdays later pushes 2.1.1 and 2.1.2 (forecast), leaving 4.
    assert tasks["2.2"]["critical"] and tasks["2.2"]["total_float"] == 0
    assert [tasks[c]["total_float"] for c in ("1.1", "1.2", "2.1.1", "2.1.2", "2.1")] == [4, 4, 4, 4, 4]
    assert not tasks["1.2"]["critical"]
    assert all(task["total_float"] is None or task["total_float"] >= 0 for task in tasks.values())
    assert (
        body["milestones"][0]["baseline_due"] == "2026-12-20" and body["milestones"][0]["slip_workdays"] == 0
    )


async def test_the_critical_path_is_marked_in_tasks_and_status(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        # 2.2 starts when 2.1 ends, so the chain to the plan's end runs through every task.
        await said(chat, "alice", "/任务 修改 2.2 开始=2027-01-11")
        tasks = await said(chat, "bob", "/任务列表", "🔺关键路径")
        marked = [line.split("⚪ ")[1].split(" ")[0] for line in tasks.splitlines() if line.endswith("🔺")]
        assert marked == ["1.1", "1.2", "2.1.1", "2.1.2", "2.2"], tasks
        status = await said(chat, "carol", "/状态")
        assert "🔺 关键路径：1.1 → 1.2 → 2.1.1 → 2.1.2 → 2.2" in status, status
        await said(chat, "carol", "/任务 修改 2.2 开始=2027-01-18")  # slack before 2.2 again
        status = await said(chat, "carol", "/状态")
        assert "🔺 关键路径：2.2" in status, status
