"""Tracking and overview commands end to end (real runtime, real SQL) on SQLite and PostgreSQL.

The harness clock is 2026-11-25 10:00 in Shanghai (a Wednesday; November 2026 has no holiday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import (
    ActionItem,
    AuditEntry,
    Blocker,
    Department,
    Member,
    Milestone,
    ProgressUpdate,
    Project,
    RaciAssignment,
    Risk,
    RiskEvent,
    Task,
)
from tests.harness import Chat, chat_runtime

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
D = date.fromisoformat


@dataclass(frozen=True)
class Plan:
    project_id: int


async def make_plan(chat: Chat, *, english: bool = False) -> Plan:
    """alice (PM) creates the project; bob is R and carol A on 2.1, dave heads its department,
    erin is a member with nothing to do with it.

    1 需求   1.1 11-02..11-06 100%   1.2 11-09..11-13 50% (late, bob is R)
    2 开发   2.1 11-16..12-04 20% (dept 后端)   2.2 11-23..12-11 0% (owner erin)
    """
    await chat.say("alice", "/project new Launch" if english else "/项目 新建 新品发布")
    async with chat.runtime.factory() as s, s.begin():
        project = await s.scalar(select(Project))
        assert project is not None
        pid = project.id

        def member(user: str) -> Member:
            return Member(
                project_id=pid,
                platform=chat.platform,
                platform_user_id=user,
                display_name=user,
                created_at=NOW,
            )

        bob, carol, dave, erin = (member(name) for name in ("bob", "carol", "dave", "erin"))
        s.add_all([bob, carol, dave, erin])
        await s.flush()
        backend = Department(project_id=pid, name="后端", head_member_id=dave.id)
        s.add(backend)
        await s.flush()

        def task(
            code: str, title: str, start: str | None, due: str | None, progress: int, **kw: object
        ) -> Task:
            status = "done" if progress == 100 else "in_progress" if progress else "not_started"
            return Task(
                project_id=pid,
                code=code,
                title=title,
                start_date=D(start) if start else None,
                due_date=D(due) if due else None,
                progress=progress,
                status=status,
                created_at=NOW,
                updated_at=NOW,
                **kw,
            )

        phase1 = task("1", "需求", None, None, 75)
        phase2 = task("2", "开发", None, None, 10)
        s.add_all([phase1, phase2])
        await s.flush()
        t11 = task("1.1", "需求调研", "2026-11-02", "2026-11-06", 100, parent_id=phase1.id)
        t12 = task("1.2", "需求评审", "2026-11-09", "2026-11-13", 50, parent_id=phase1.id)
        t21 = task(
            "2.1", "后端接口", "2026-11-16", "2026-12-04", 20, parent_id=phase2.id, department_id=backend.id
        )
        t22 = task(
            "2.2", "前端页面", "2026-11-23", "2026-12-11", 0, parent_id=phase2.id, owner_member_id=erin.id
        )
        s.add_all([t11, t12, t21, t22])
        await s.flush()
        s.add_all(
            [
                RaciAssignment(task_id=t21.id, member_id=bob.id, role="R"),
                RaciAssignment(task_id=t21.id, member_id=carol.id, role="A"),
                RaciAssignment(task_id=t12.id, member_id=bob.id, role="R"),
                RaciAssignment(task_id=t21.id, member_id=erin.id, role="C"),  # C is not enough
                Milestone(project_id=pid, number=1, title="内测", due_date=D("2026-12-15"), created_at=NOW),
            ]
        )
    return Plan(pid)


async def task_row(chat: Chat, code: str) -> Task:
    async with chat.runtime.factory() as s:
        task = await s.scalar(select(Task).where(Task.code == code))
        assert task is not None
        return task


async def count(chat: Chat, model: type) -> int:
    async with chat.runtime.factory() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def snapshot(chat: Chat) -> tuple[object, ...]:
    """What a refused command must leave untouched."""
    async with chat.runtime.factory() as s:
        tasks = tuple(await s.execute(select(Task.code, Task.progress, Task.status).order_by(Task.code)))
    counts = [
        await count(chat, model)
        for model in (ProgressUpdate, AuditEntry, Blocker, Risk, RiskEvent, ActionItem, Member)
    ]
    return (tasks, *counts)


# --- progress ---------------------------------------------------------------------------------------


async def test_progress_by_r_a_head_and_pm_accepted_and_rolled_up(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        reply = await chat.one("bob", "/进度 2.1 80% 接口联调完成")
        assert reply == "✅ 2.1 后端接口 20% → 80%（阶段 2 现在 40%）"
        phase = await task_row(chat, "2")
        assert (phase.progress, phase.status) == (40, "in_progress")
        async with chat.runtime.factory() as s:
            update = await s.scalar(select(ProgressUpdate))
            assert update is not None
            assert (update.previous_progress, update.progress, update.note, update.source) == (
                20,
                80,
                "接口联调完成",
                "command",
            )
            audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "task.progress"))
            assert audit is not None and audit.before == {"progress": 20, "status": "in_progress"}
            assert audit.after is not None and audit.after["progress"] == 80

        assert "80% → 60%" in await chat.one("carol", "/progress 2.1 60")  # A; backwards is shown
        assert "进度下调" in await chat.one("dave", "进度 2.1 50")  # dept head, no slash
        assert "50% → 70%" in await chat.one("alice", "/进度 2.1 70")  # PM
        assert await count(chat, ProgressUpdate) == 4


async def test_progress_by_unrelated_people_refused_and_nothing_changes(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        before = await snapshot(chat)
        refused = await chat.one("erin", "/进度 2.1 90")  # a member, but only C on 2.1
        assert refused.startswith("抱歉，只有任务的执行人（R）")
        outsider = await chat.one("zoe", "/进度 2.1 90")  # not even a member
        assert "只有" in outsider
        assert await snapshot(chat) == before


async def test_percent_forms_and_bad_values(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        assert "20% → 80%" in await chat.one("bob", "/进度 2.1 ８０％")
        assert "80% → 85%" in await chat.one("bob", "/进度 2.1 85%")
        assert "85% → 90%" in await chat.one("bob", "/进度 2.1 90 %")
        assert "90% → 95%" in await chat.one("bob", "/进度 2.1 95%，差文档")
        before = await snapshot(chat)
        too_big = await chat.one("bob", "/进度 2.1 120")
        assert "「120」应为 0 到 100" in too_big and "用法：/进度" in too_big
        assert "缺少参数" in await chat.one("bob", "/进度 2.1")
        assert "用法：/进度" in await chat.one("bob", "/进度")
        assert "编号「x」不对" in await chat.one("bob", "/进度 x 20")
        assert "找不到任务 9.9" in await chat.one("bob", "/进度 9.9 20")
        phase = await chat.one("alice", "/进度 2 50")
        assert "由子任务汇总" in phase and "2.1, 2.2" in phase
        assert await snapshot(chat) == before
        async with chat.runtime.factory() as s:
            notes = list(await s.scalars(select(ProgressUpdate.note).order_by(ProgressUpdate.id)))
        assert notes == ["", "", "", "差文档"]


async def test_done_marks_100_and_three_levels_roll_up(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        plan = await make_plan(chat, english=True)
        async with chat.runtime.factory() as s, s.begin():
            parent = await s.scalar(select(Task).where(Task.code == "2.2"))
            assert parent is not None
            for code in ("2.2.1", "2.2.2"):
                s.add(
                    Task(
                        project_id=plan.project_id,
                        code=code,
                        parent_id=parent.id,
                        title=f"page {code}",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
        reply = await chat.one("alice", "/done 2.2.1 shipped")
        # Phase 2: 2.1 is 19 days at 20 %, 2.2's undated subtasks weigh a week each: 1080 // 33.
        assert reply == "🎉 2.2.1 page 2.2.1 is done (0% → 100%) (2.2 now 50%, phase 2 now 32%)"
        assert (await task_row(chat, "2.2.1")).status == "done"
        assert (await task_row(chat, "2.2")).progress == 50
        assert "already done" in await chat.one("alice", "/done 2.2.1")
        refused = await chat.one("alice", "/progress 2.2 10")
        assert refused == "2.2's progress comes from its subtasks: update 2.2.1, 2.2.2"
        assert await count(chat, ProgressUpdate) == 1


# --- blockers ---------------------------------------------------------------------------------------


async def test_blocker_open_and_clear_status_transitions(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        replies = await chat.say("bob", "/卡点 2.1 等待测试环境")  # erin, its C, is told privately
        [opened] = [reply for reply in replies if reply.startswith("⛔ 2.1 后端接口 遇到卡点：等待测试环境")]
        assert [reply for reply in replies if reply != opened] == [
            "🔔 新品发布 · C 咨询\n2.1「后端接口」出现卡点：等待测试环境（bob）"
        ]
        assert "请 @alice @dave 协助处理" in opened and "/卡点 解除 2.1" in opened
        assert (await task_row(chat, "2.1")).status == "blocked"
        assert (await task_row(chat, "2")).status == "blocked"

        still = await chat.one("bob", "/进度 2.1 60")
        assert "还有 1 个卡点未解除" in still
        assert (await task_row(chat, "2.1")).status == "blocked"

        assert any("遇到卡点" in reply for reply in await chat.say("carol", "/阻塞 2.1 数据库权限"))
        cleared = await chat.one("dave", "/卡点解除 2.1")
        assert cleared == "✅ 2.1 后端接口 的 2 个卡点已解除，状态：进行中"
        task = await task_row(chat, "2.1")
        assert (task.progress, task.status) == (60, "in_progress")
        async with chat.runtime.factory() as s:
            rows = list(await s.scalars(select(Blocker)))
        assert [b.status for b in rows] == ["cleared", "cleared"]
        assert all(b.cleared_at is not None and b.cleared_by_member_id is not None for b in rows)

        before = await snapshot(chat)
        assert "没有未解除的卡点" in await chat.one("bob", "/阻塞 解除 2.1")
        assert "只有" in await chat.one("erin", "/卡点 2.1 x")
        assert "缺少参数" in await chat.one("bob", "/卡点 2.1")
        assert "由子任务汇总" in await chat.one("alice", "/卡点 2 整体延期")
        assert await snapshot(chat) == before


async def test_done_with_open_blocker_says_it_is_still_open(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        await chat.say("bob", "/卡点 2.1 等待测试环境")
        reply = await chat.one("bob", "/完成 2.1")
        assert "🎉 2.1 后端接口 已完成" in reply and "还有 1 个卡点未解除" in reply
        assert (await task_row(chat, "2.1")).status == "done"
        assert await count(chat, Blocker) == 1
        assert "已完成，不能登记卡点" in await chat.one("bob", "/卡点 2.1 又坏了")


# --- risks ------------------------------------------------------------------------------------------


async def test_risk_add_in_chinese_and_status_by_owner_only(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        added = await chat.one("erin", "/风险 添加 高 数据库迁移可能延期 @bob 缓解=提前演练两次")
        assert added.startswith("⚠️ 风险 R1（高）已登记：数据库迁移可能延期")
        assert "负责人：@bob" in added and "应对：提前演练两次" in added
        second = await chat.one("carol", "/风险添加 低 设计稿晚到")  # owner defaults to the reporter
        assert "R2（低）" in second and "负责人：@carol" in second
        async with chat.runtime.factory() as s:
            risk = await s.scalar(select(Risk).where(Risk.number == 1))
            assert risk is not None and (risk.status, risk.level, risk.mitigation) == (
                "new",
                "high",
                "提前演练两次",
            )

        before = await snapshot(chat)
        assert "只有风险负责人或项目经理" in await chat.one("erin", "/风险 R1 已缓解")
        assert "找不到风险 R9" in await chat.one("bob", "/风险 9 关闭")
        assert "状态「完成」应为" in await chat.one("bob", "/风险 R1 完成")
        assert "编号「X1」不对" in await chat.one("bob", "/风险 X1 关闭")
        assert "风险等级「超高」" in await chat.one("bob", "/风险 添加 超高 什么")
        assert await snapshot(chat) == before

        assert await chat.one("bob", "/风险 R1 已缓解 演练通过") == "✅ 风险 R1（高）：新登记 → 已缓解"
        assert "已经是「已缓解」" in await chat.one("bob", "/风险 1 缓解")
        assert "已关闭" in await chat.one("alice", "/风险 r1 关闭")  # a PM may too
        assert "已关闭 → 未缓解" in await chat.one("bob", "/风险 R1 重新打开 回滚了")
        async with chat.runtime.factory() as s:
            events = list(
                await s.execute(
                    select(RiskEvent.from_status, RiskEvent.to_status, RiskEvent.note)
                    .join(Risk, Risk.id == RiskEvent.risk_id)
                    .where(Risk.number == 1)
                    .order_by(RiskEvent.id)
                )
            )
        assert [tuple(e) for e in events] == [
            (None, "new", ""),
            ("new", "mitigated", "演练通过"),
            ("mitigated", "closed", ""),
            ("closed", "open", "回滚了"),
        ]


async def test_risk_add_in_english_and_list_order(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await make_plan(chat, english=True)
        assert "Risk R1 (low) logged" in await chat.one("bob", "/risk add low fonts licence")
        added = await chat.one("bob", "/risk add high vendor may slip owner=@carol mitigation=second vendor")
        assert "Risk R2 (high) logged: vendor may slip" in added and "Owner: @carol" in added
        assert "R3 (medium)" in await chat.one("bob", "/risk add m load test late")
        await chat.say("alice", "/risk R3 closed")
        listed = await chat.one("zoe", "/risks")
        lines = listed.splitlines()
        assert lines[0] == "【⚠️ Risks (2 open)】"
        assert lines[1].startswith("🔴 R2 high·new vendor may slip · @carol")
        assert lines[2].startswith("🟡 R1 low·new fonts licence · @bob")
        assert "R3" not in listed
        every = await chat.one("zoe", "/risks all")
        assert every.splitlines()[3].startswith("⚪ R3 medium·closed")
        assert "Usage: /risks" in await chat.one("zoe", "/risks closed")
        assert "Give one owner only" in await chat.one("bob", "/risk add high x @carol @dave")


# --- action items -------------------------------------------------------------------------------------


async def test_action_add_and_done(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        added = await chat.one("carol", "/行动 添加 @bob 周五 发送合同给法务 会议=周例会")
        assert added.startswith("📌 行动项 A1 已登记：发送合同给法务")
        assert "负责人：@bob · 截止 2026-11-27 · 来自「周例会」" in added
        added, joined = await chat.say("newbie", "/行动添加 @newbie 12-01 整理会议纪要")
        assert "A2" in added and joined == "ℹ️ 已把你加入项目成员。"  # joins on the fly, told so
        async with chat.runtime.factory() as s:
            item = await s.scalar(select(ActionItem).where(ActionItem.number == 1))
            assert item is not None and (item.source_meeting, item.status) == ("周例会", "open")

        before = await snapshot(chat)
        assert "只有行动项负责人或项目经理" in await chat.one("carol", "/行动 完成 A1")
        assert "缺少参数：负责人" in await chat.one("carol", "/行动 添加 周五 没人负责")
        assert "看不懂日期「某天」" in await chat.one("carol", "/行动 添加 @bob 某天 发合同")
        assert "用法：/行动 添加" in await chat.one("carol", "/行动 归档 A1")  # no such subcommand
        assert "只有行动项负责人或项目经理" in await chat.one("carol", "/行动 删除 A1")
        assert "找不到行动项 A7" in await chat.one("bob", "/行动 完成 7")
        assert "不认识选项「foo」" in await chat.one("bob", "/行动 添加 @bob 周五 发合同 foo=1")
        assert await snapshot(chat) == before

        assert await chat.one("bob", "/行动 完成 A1") == "✅ 行动项 A1 已完成：发送合同给法务"
        assert "已经完成了" in await chat.one("alice", "/行动 完成 1")
        listed = await chat.one("zoe", "/行动项")
        assert "A2 整理会议纪要 · @newbie · 截止 12-01" in listed and "A1" not in listed
        assert "✅ A1 发送合同给法务 · @bob" in await chat.one("zoe", "/行动项 全部")


# --- overviews --------------------------------------------------------------------------------------


async def test_status_card_for_a_small_plan(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        await chat.say("bob", "/卡点 2.1 等待测试环境")
        await chat.say("bob", "/风险 添加 低 设计稿晚到")
        await chat.say("bob", "/风险 添加 高 供应商延期")
        card = await chat.one("zoe", "/状态")
    # Expected today: 2.1 is 8 of 15 workdays in (53%), 2.2 3 of 15 (20%); phase 2 plans 36%,
    # phase 1 100%; overall weights the tasks' days: phase 1 (5 + 5) and phase 2 (19 + 19).
    # 26 points behind plan is late; the overdue task is a separate fact.
    assert card.splitlines() == [
        "【📊 新品发布 · 11-25】",
        "🔴 总体 23%（计划 49%）· 延误 · 落后计划 26 个百分点 · 1 个任务逾期",
        "🔴 1 需求 75%（计划 100%）",
        "🟡 2 开发 10%（计划 36%）",
        "🔴 逾期任务 1 个：",
        "• 1.2 需求评审 逾期 12 天（11-13）@bob",
        "🔺 关键路径：2.2",
        "⛔ 未解除卡点 1 个：2.1",
        "⚠️ 未关闭风险 2 个：高 1 · 低 1",
        "🏁 下个里程碑：内测（12-15，还有 20 天）",
    ]


async def test_status_without_tasks_and_in_english(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await chat.say("alice", "/project new Empty")
        assert "No tasks yet" in await chat.one("alice", "/status")
    async with chat_runtime(
        engine, platform=platform, now=datetime(2026, 12, 20, 2, 0, tzinfo=UTC), locale="en"
    ) as chat:
        card = await chat.one("alice", "/status")
        assert "No tasks yet" in card and "12-20" in card


async def test_mytasks_in_a_one_to_one_chat(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        await chat.say("alice", "/行动 添加 @bob 11-20 补齐接口文档")
        await chat.say("alice", "/行动 添加 @bob 12-02 准备演示")
        await chat.say("alice", "/行动 添加 @carol 12-02 不是 bob 的")
        card = await chat.one("bob", "/我的任务", chat="bob-dm", chat_type="p2p")
        assert card.splitlines() == [
            "【〔新品发布 · 编号 1〕📝 我的任务 2 · 行动项 2】",  # a 1:1 answer names its project
            "🔴 1.2 需求评审 · 50% · 逾期 12 天（11-13）",
            "• 2.1 后端接口 · 20% · 截止 12-04",
            "📌 行动项：",
            "🔴 A1 补齐接口文档 · 逾期 5 天（11-20）",
            "• A2 准备演示 · 截止 12-02",
            "更新进度：/进度 <编号> <百分比>；遇到卡点：/卡点 <编号> <描述>",
        ]
        assert "没有未完成" in await chat.one("zoe", "/我的任务")
        await chat.say("alice", "/完成 1.2")
        await chat.say("alice", "/完成 2.1")
        card = await chat.one("bob", "/mytasks", chat="bob-dm", chat_type="p2p")
        assert "1.2" not in card and "2.1" not in card and "A1" in card


async def test_status_stays_short_for_a_big_plan(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await chat.say("alice", "/project new Big")
        async with chat.runtime.factory() as s, s.begin():
            project = await s.scalar(select(Project))
            assert project is not None
            for phase in range(1, 9):  # 8 phases of one late task each; phase 1 is done
                done = phase == 1
                s.add(
                    Task(
                        project_id=project.id,
                        code=str(phase),
                        title=f"phase {phase}",
                        start_date=D("2026-11-02"),
                        due_date=D("2026-11-10"),
                        progress=100 if done else 10,
                        status="done" if done else "in_progress",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
        card = await chat.one("alice", "/status")
    lines = card.splitlines()
    assert len(lines) <= 15
    # Every task ended 11-10 (the plan's end, the project has none): past it with work open.
    assert lines[1] == (
        "🔴 Overall 21% (plan 100%) · late · behind plan by 79 points · 7 tasks overdue"
        " · past the project end date"
    )
    assert "1 phase 1" not in card  # a done phase gives way to unfinished ones
    assert lines[2].startswith("🔴 2 phase 2") and lines[6].startswith("🔴 6 phase 6")
    assert lines[7] == "… +3 more"
    assert lines[8] == "🔴 7 late tasks:" and lines[12] == "… +4 more"


async def test_status_ahead_of_plan_never_says_behind(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        await chat.say("alice", "/进度 2.1 90")
        await chat.say("alice", "/进度 2.2 80")
        card = await chat.one("zoe", "/状态")
        # Phase 1 (5 + 5 days) 75 %, phase 2 (19 + 19 days) 85 %: (750 + 3230) // 48 = 82 % against
        # 49 % planned; 1.2 is still overdue, so at risk, but ahead of plan, not behind it.
        assert card.splitlines()[1] == "🟡 总体 82%（计划 49%）· 有风险 · 超前 33 个百分点 · 1 个任务逾期"
        assert "落后" not in card
        await chat.say("alice", "/完成 1.2")
        card = await chat.one("zoe", "/状态")
        assert card.splitlines()[1] == "🟢 总体 88%（计划 49%）· 正常 · 超前 39 个百分点"
        await chat.say("alice", "/设置 语言 en")
        card = await chat.one("zoe", "/status")
        assert card.splitlines()[1] == "🟢 Overall 88% (plan 49%) · on track · ahead of plan by 39 points"


async def test_a_task_without_dates_lowers_the_project_and_is_flagged(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        before = (await chat.one("zoe", "/状态")).splitlines()[1]
        assert before.startswith("🔴 总体 23%（计划 49%）")
        await chat.say("alice", "/任务 添加 2.3 文档 @bob")
        card = await chat.one("zoe", "/状态")
        # 2.3 weighs a week at 0 %, planned and actual: (750 + 380) // 55 and 2387 // 55.
        assert card.splitlines()[1] == "🔴 总体 20%（计划 43%）· 延误 · 落后计划 23 个百分点 · 1 个任务逾期"
        assert (await task_row(chat, "2")).progress == 380 // 45
        tree = await chat.one("zoe", "/任务列表")
        assert "2.3 文档（无日期） · @bob · 0%" in tree
        assert "2.1 后端接口 · " in tree and "后端接口（无日期）" not in tree
        mine = await chat.one("bob", "/我的任务", chat="bob-dm", chat_type="p2p")
        assert "• 2.3 文档（无日期） · 0% · 截止 无截止日期" in mine.splitlines()
        # A phase with no dates at all is flagged on /status too.
        await chat.say("alice", "/阶段 添加 3 收尾")
        assert "🟢 3 收尾（无日期） 0%（计划 0%）" in (await chat.one("zoe", "/状态")).splitlines()
        await chat.say("alice", "/设置 语言 en")
        tree = await chat.one("zoe", "/tasks")
        assert "2.3 文档 (no dates) · @bob · 0%" in tree
