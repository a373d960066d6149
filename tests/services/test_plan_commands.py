"""Charter, departments, members, phases, tasks, RACI and milestones, driven through the real runtime
on SQLite and PostgreSQL. Refusals assert the polite text and that no row changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import (
    AuditEntry,
    Base,
    Department,
    Member,
    Milestone,
    MilestoneTask,
    Project,
    RaciAssignment,
    Task,
    TaskDependency,
)
from tests.harness import Chat, chat_runtime

# Everything a plan command may touch (the inbound/outbox bookkeeping changes on every message).
PLAN_TABLES = (
    "projects",
    "departments",
    "members",
    "tasks",
    "task_dependencies",
    "raci_assignments",
    "milestones",
    "milestone_tasks",
    "change_requests",
    "audit_log",
)


async def fingerprint(chat: Chat) -> dict[str, list[tuple[Any, ...]]]:
    async with chat.runtime.factory() as session:
        picture = {}
        for name in PLAN_TABLES:
            rows = (await session.execute(select(Base.metadata.tables[name]))).all()
            picture[name] = sorted((tuple(row) for row in rows), key=repr)
        return picture


async def members_by_user(chat: Chat) -> dict[str, Member]:
    async with chat.runtime.factory() as session:
        return {m.platform_user_id: m for m in await session.scalars(select(Member))}


async def tasks_by_code(chat: Chat) -> dict[str, Task]:
    async with chat.runtime.factory() as session:
        return {t.code: t for t in await session.scalars(select(Task))}


async def dependency_codes(chat: Chat) -> set[tuple[str, str]]:
    async with chat.runtime.factory() as session:
        codes = {t.id: t.code for t in await session.scalars(select(Task))}
        rows = await session.scalars(select(TaskDependency))
        return {(codes[row.task_id], codes[row.depends_on_id]) for row in rows}


async def raci_of(chat: Chat, code: str) -> dict[str, list[str]]:
    async with chat.runtime.factory() as session:
        rows = await session.execute(
            select(RaciAssignment.role, Member.platform_user_id)
            .join(Member, Member.id == RaciAssignment.member_id)
            .join(Task, Task.id == RaciAssignment.task_id)
            .where(Task.code == code)
            .order_by(RaciAssignment.id)
        )
        result: dict[str, list[str]] = {}
        for role, user in rows:
            result.setdefault(role, []).append(user)
        return result


async def audit_actions(chat: Chat) -> list[str]:
    async with chat.runtime.factory() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def said(chat: Chat, user: str, line: str, *expected: str) -> str:
    reply = await chat.one(user, line)
    for text in expected:
        assert text in reply, (line, reply)
    return reply


# A plan built entirely in Chinese: alice is PM; bob heads 研发, carol 市场, dan 运营.
PLAN_ZH = [
    ("alice", "/项目 新建 新品发布 开始=12-01 结束=2027-03-31", "新品发布"),
    ("alice", "/章程 背景 老版本留存低，用户反馈多", "✅"),
    ("alice", "/章程 目标 2027年3月31日前上线 V2，首月日活达到 1 万", "✅"),
    ("alice", "/章程 交付 App V2、运营后台、上线报告", "✅"),
    ("alice", "/章程 范围 iOS 与安卓", "✅"),
    ("alice", "/章程 不包含 小程序", "✅"),
    ("alice", "/部门 添加 研发 @bob", "负责人 @bob"),
    ("alice", "/部门 添加 市场 @carol", "负责人 @carol"),
    ("alice", "/部门添加 运营", "运营"),
    ("alice", "/部门 负责人 运营 @dan", "@dan 现在是「运营」的负责人"),
    ("alice", "/成员 添加 @erin @frank 研发", "@erin 已加入「研发」"),
    ("carol", "/成员 添加 @gina 市场", "@gina 已加入「市场」"),
    ("alice", "/阶段 添加 1 需求与设计 开始=12-01 结束=12-20", "阶段 1"),
    ("alice", "/阶段 添加 2 开发与上线", "阶段 2"),
    ("alice", "/任务 添加 1.1 用户调研 @carol 开始=12-01 截止=12-05", "部门 市场"),
    ("bob", "/任务 添加 1.2 产品设计 @erin 开始=12-06 截止=12-15 依赖=1.1", "依赖 1.1"),
    ("bob", "/任务 添加 2.1 后端开发 @frank 依赖=1.2", "部门 研发"),
    ("bob", "/任务 添加 2.1.1 接口定义 @frank 开始=12-16 截止=12-20", "2.1.1"),
    ("bob", "/任务 添加 2.1.2 接口实现 @erin 开始=12-21 截止=2027-01-10 依赖=2.1.1", "2.1.2"),
    ("carol", "/任务 添加 2.2 上线推广 @gina 截止=2027-01-20 依赖=2.1", "部门 市场"),
    ("alice", "/责任 1.2 R=@erin A=@bob C=@carol、@dan I=@alice", "A 负责：@bob"),
    ("alice", "/里程碑 添加 设计评审通过 截止=12-20 任务=1.1,1.2", "#1"),
]


async def build_plan(chat: Chat) -> None:
    for user, line, expected in PLAN_ZH:
        await said(chat, user, line, expected)


async def test_full_plan_in_chinese(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        people = await members_by_user(chat)
        async with chat.runtime.factory() as session:
            project = await session.scalar(select(Project))
            assert project is not None
            assert project.goal == "2027年3月31日前上线 V2，首月日活达到 1 万"  # "，" kept as typed
            assert project.deliverables == "App V2、运营后台、上线报告"
            assert (project.scope_in, project.scope_out) == ("iOS 与安卓", "小程序")
            departments = {d.name: d for d in await session.scalars(select(Department))}
            milestone = await session.scalar(select(Milestone))
            linked = list(await session.scalars(select(MilestoneTask.task_id)))
        assert {name: d.head_member_id for name, d in departments.items()} == {
            "研发": people["bob"].id,
            "市场": people["carol"].id,
            "运营": people["dan"].id,
        }
        dept_of = {user: m.department_id for user, m in people.items()}
        assert dept_of["bob"] == dept_of["erin"] == dept_of["frank"] == departments["研发"].id
        assert dept_of["gina"] == dept_of["carol"] == departments["市场"].id
        assert dept_of["dan"] == departments["运营"].id and dept_of["alice"] is None

        tasks = await tasks_by_code(chat)
        assert sorted(tasks) == ["1", "1.1", "1.2", "2", "2.1", "2.1.1", "2.1.2", "2.2"]
        assert tasks["2.1.1"].parent_id == tasks["2.1"].id and tasks["2.1"].parent_id == tasks["2"].id
        assert tasks["1.1"].department_id == departments["市场"].id  # the owner's department
        assert tasks["2.2"].owner_member_id == people["gina"].id
        assert tasks["1"].due_date == date(2026, 12, 20) and tasks["1.2"].start_date == date(2026, 12, 6)
        assert await dependency_codes(chat) == {
            ("1.2", "1.1"),
            ("2.1", "1.2"),
            ("2.1.2", "2.1.1"),
            ("2.2", "2.1"),
        }
        raci = {"R": ["erin"], "A": ["bob"], "C": ["carol", "dan"], "I": ["alice"]}
        assert await raci_of(chat, "1.2") == raci
        assert await raci_of(chat, "2.1.2") == {"R": ["erin"]}  # the owner is recorded as R
        assert milestone is not None and (milestone.number, milestone.due_date) == (1, date(2026, 12, 20))
        assert sorted(linked) == sorted([tasks["1.1"].id, tasks["1.2"].id])

        actions = await audit_actions(chat)
        assert actions.count("charter.update") == 5
        assert actions.count("department.add") == 3 and actions.count("department.head") == 1
        assert actions.count("phase.add") == 2 and actions.count("task.add") == 6
        assert actions.count("raci.set") == 1 and actions.count("milestone.add") == 1
        assert actions.count("member.add") == 7  # alice + the six people named
        async with chat.runtime.factory() as session:
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "task.add").limit(1))
            assert entry is not None and entry.after is not None
            assert entry.after["code"] == "1.1" and entry.after["due_date"] == "2026-12-05"
            assert entry.actor_user_id == "alice" and entry.source_event_id

        # Read-only views, open to anyone (zed is not even a member).
        tree = await said(chat, "zed", "/任务列表", "1 需求与设计", "2.1.1 接口定义", "← 1.2", "@frank")
        assert tree.index("2.1.2") < tree.index("2.2 上线推广")
        await said(chat, "zed", "/章程", "小程序", "2026-12-01 → 2027-03-31")
        await said(chat, "zed", "/章程 目标", "首月日活")
        await said(chat, "zed", "/部门列表", "研发 · 负责人 @bob · 3 人", "未分配部门 · 1 人")
        await said(chat, "zed", "/成员列表", "@bob · 负责人", "@alice · 项目经理")
        await said(chat, "zed", "/责任 1.2", "C 咨询：@carol、@dan")
        await said(chat, "zed", "/里程碑列表", "#1 设计评审通过", "1.1 0%、1.2 0%")
        help_card = await said(chat, "zed", "/帮助", "章程", "计划与分工", "/任务 添加", "/里程碑列表")
        assert "/任务 —" not in help_card  # group fallbacks are not listed


async def test_english_variants(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, locale="en") as chat:
        await said(chat, "alice", "/project new Launch start=2026-12-01", "Launch")
        await said(chat, "alice", "charter goal: Ship v2 by 2027-03-31", "Goal (SMART) updated")
        await said(chat, "alice", "/charter end 2027-03-31", "2026-12-01 → 2027-03-31")
        card = await said(chat, "alice", "/charter", "Ship v2", "Background: not set (/charter background")
        assert "/charter <field> <text>" in card  # the PM sees how to edit
        await said(chat, "alice", "/dept add R&D @bob", 'Department "R&D" added, headed by @bob')
        await said(chat, "alice", "/dept add Marketing", '"Marketing" added')
        await said(chat, "alice", "/dept head marketing @carol", '@carol now heads "Marketing"')
        await said(chat, "alice", "/member add @erin dept=R&D", '@erin joined "R&D"')
        await said(chat, "alice", "/member add @erin Marketing", '@erin: "R&D" → "Marketing"')
        await said(chat, "alice", "/member add @erin Marketing", 'already in "Marketing"')
        await said(chat, "alice", "/phase add 1 Design start=12-01 end=12-20", 'Phase 1 "Design" added')
        await said(chat, "alice", "/task add 1.1 Research @carol due=12-10", "dept Marketing · due 12-10")
        added = await said(chat, "alice", "/task add 1.2 Mockups @zed due=12-24 after=1.1", "after 1.1")
        assert "@zed was not in the project and has been added" in added
        assert "outside 1's plan" in added
        edited = await said(
            chat, "alice", '/task edit 1.2 title="UI mockups" dept=R&D due=12-18 after=-', "UI mockups"
        )
        assert "• department: none → R&D" in edited and "• due: 12-24 → 12-18" in edited
        assert "• after: 1.1 → none" in edited
        await said(chat, "alice", "/task edit 1.2 due=12-18", "Nothing changed for 1.2")
        await said(
            chat, "alice", "/raci 1.2 R=@bob,@zed A=@alice I=@dan", "Task owner: @bob", "@dan was not in"
        )
        await said(chat, "carol", "/raci 1.2", "R responsible: @bob, @zed", "A accountable: @alice")
        await said(
            chat, "alice", "/milestone add Design review due=12-20 tasks=1.1", "#1", "Linked tasks: 1.1"
        )
        await said(
            chat,
            "alice",
            "/milestone done #1",
            "still has open linked tasks: 1.1 0%",
            "/milestone done 1 force",
        )
        await said(chat, "alice", "/milestone done #1 force", "is done", "not finished yet: 1.1 0%")
        await said(chat, "alice", "/milestones", "✅ #1 Design review · done 11-25")
        await said(chat, "alice", "/task delete 1.2", '1.2 "UI mockups" deleted')
        await said(chat, "bob", "/tasks", "1.1 Research", "⚪not started")
        await said(chat, "bob", "/depts", "R&D · head @bob · team of 1")
        await said(chat, "bob", "/members", "@carol · head", "@alice · project manager")
        await said(chat, "bob", "/task", "1.1 Research")  # the group word alone lists

        tasks = await tasks_by_code(chat)
        assert sorted(tasks) == ["1", "1.1"]
        people = await members_by_user(chat)
        assert set(people) == {"alice", "bob", "carol", "erin", "zed", "dan"}
        async with chat.runtime.factory() as session:
            project = await session.scalar(select(Project))
            assert project is not None and project.end_date == date(2027, 3, 31)
            milestone = await session.scalar(select(Milestone))
            assert milestone is not None and milestone.status == "done" and milestone.done_at is not None
            deleted = await session.scalar(select(AuditEntry).where(AuditEntry.action == "task.delete"))
            assert deleted is not None and deleted.before is not None and deleted.after is None
            assert deleted.before["title"] == "UI mockups" and deleted.before["due_date"] == "2026-12-18"
            assert deleted.before["raci"] and deleted.before["after"] == []


# (user, line, the polite text expected); every one must leave the plan untouched.
REFUSALS = [
    ("bob", "/章程 目标 改成我的目标", "抱歉，只有项目经理可以这样做。"),
    ("zed", "/章程 开始 明天", "抱歉，只有项目经理可以这样做。"),
    ("alice", "/章程 结束 2026-11-01", "结束日期 2026-11-01 不能早于开始日期 2026-12-01。"),
    ("alice", "/章程 预算 100 万", "不认识字段「预算」"),
    ("bob", "/任务 添加 2.3 推广素材 部门=市场", "只有项目经理或该部门负责人可以这样做"),
    ("bob", "/任务 添加 2.3 推广素材 @gina", "只有项目经理或该部门负责人可以这样做"),
    ("bob", "/任务 修改 2.2 截止=2027-01-30", "只有项目经理或该部门负责人可以这样做"),
    ("bob", "/任务 修改 2.1 部门=市场", "只有项目经理或该部门负责人可以这样做"),
    ("bob", "/任务 删除 1.1", "只有项目经理或该部门负责人可以这样做"),
    ("bob", "/成员 添加 @zed 市场", "只有项目经理或该部门负责人可以这样做"),
    ("bob", "/部门 添加 法务", "抱歉，只有项目经理可以这样做。"),
    ("carol", "/责任 2.2 R=@gina A=@carol", "抱歉，只有项目经理可以这样做。"),
    ("carol", "/里程碑 完成 1", "抱歉，只有项目经理可以这样做。"),
    ("alice", "/责任 1.2 R=@erin A=@bob A=@carol", "A（最终负责人）必须正好一位，现在是 2 位。"),
    ("alice", "/责任 1.2 R=@erin A=@bob,@carol", "A（最终负责人）必须正好一位，现在是 2 位。"),
    ("alice", "/责任 1.2 R=@erin C=@zed", "A（最终负责人）必须正好一位，现在是 0 位。"),
    ("alice", "/责任 1.2 A=@bob I=@zed", "至少需要一位 R"),
    ("alice", "/责任 1.2 @erin", "请用 R= A= C= I= 写明每个人的角色。"),
    ("alice", "/任务 修改 1.1 依赖=2.2", "依赖会成环：1.1 → 2.2 → 2.1 → 1.2 → 1.1。"),
    # 2.1.1 waits for what its parent 2.1 waits for (1.2), and 1.2 is after 1.1.
    ("alice", "/任务 修改 1.1 依赖=2.1.1", "依赖会成环：1.1 → 2.1.1 → 1.2 → 1.1。"),
    ("alice", "/任务 修改 1.1 依赖=1.1", "1.1 不能依赖自己。"),
    ("alice", "/任务 修改 2.1 依赖=2.1.1", "2.1 不能依赖自己的上级或下级 2.1.1。"),
    ("alice", "/任务 添加 3.1 验收 @zed", "还没有阶段 3，请先添加：/阶段 添加 3 <标题>"),
    ("alice", "/任务 添加 2.3.1 素材 @zed", "还没有任务 2.3，请先添加：/任务 添加 2.3 <标题>"),
    ("alice", "/任务 添加 2.3 素材 截止=下下周", "看不懂日期「下下周」"),
    ("alice", "/任务 添加 2.3 素材 开始=12-10 截止=12-01", "开始日期 2026-12-10 晚于截止日期 2026-12-01。"),
    ("alice", "/任务 添加 1.1 重复的调研 @zed", "编号 1.1 已被「用户调研」占用。"),
    ("alice", "/任务 添加 3 验收", "任务编号应为两级或三级"),
    ("alice", "/任务 添加 2.3 素材 @zed 依赖=9.9", "没有这些任务：9.9。"),
    ("alice", "/任务 添加 2.3 素材 @zed @gina", "只能指定一位负责人"),
    ("alice", "/任务 添加 2.x 素材", "编号「2.x」不对"),
    ("alice", "/任务 删除 2.1", "2 个子任务会一起删除：2.1.1, 2.1.2"),
    ("alice", "/任务 修改 9.9 截止=明天", "没有任务 9.9。"),
    ("alice", "/任务 修改 1.1", "请写出要改的内容"),
    ("alice", "/阶段 添加 1 重复阶段", "编号 1 已被「需求与设计」占用。"),
    ("alice", "/阶段 添加 3.1 验收", "阶段编号只能是一级"),
    ("alice", "/部门 添加 研发 @zed", "部门「研发」已经存在。"),
    ("alice", "/部门 添加 法务 @zed @gina", "只能指定一位负责人。"),
    ("alice", "/成员 添加 @zed 财务", "没有部门「财务」。现有部门：研发 / 市场 / 运营。"),
    ("alice", "/成员 添加 研发", "缺少参数：@成员。"),
    ("alice", "/里程碑 添加 上线 任务=1.1", "缺少参数：截止日期。"),
    ("alice", "/里程碑 添加 上线 截止=2027-01-20 任务=1.1,7.7", "没有这些任务：7.7。"),
    ("alice", "/里程碑 完成 9", "没有里程碑 #9。"),
    ("alice", "/部门 删除 研发", "部门「研发」还不是空的：3 位成员"),
    (
        "alice",
        "/部门 合并 研发",
        "用法：/部门 <名称>（另有 /部门 添加、/部门 负责人、/部门 改名、/部门 删除、/部门列表）",
    ),
    ("alice", "/任务 改 1.1", "用法：/任务 添加 <编号> <标题>"),
]


async def test_refusals_are_polite_and_change_nothing(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        before = await fingerprint(chat)
        for user, line, expected in REFUSALS:
            await said(chat, user, line, expected)
        assert await fingerprint(chat) == before


async def test_a_refusal_after_partial_work_rolls_everything_back(engine: AsyncEngine, platform: str) -> None:
    """RACI adds unknown people as members before a later step could fail: the savepoint undoes it."""
    async with chat_runtime(engine, platform=platform, locale="en") as chat:
        await said(chat, "alice", "/project new Alpha", "Alpha")
        await said(chat, "alice", "/phase add 1 Build", "Phase 1")
        await said(chat, "alice", "/task add 1.1 API @bob", "1.1")
        before = await fingerprint(chat)
        await said(chat, "alice", "/raci 1.1 R=@new1 A=@new2 A=@new3", "exactly one A")
        await said(chat, "alice", "/task add 1.2 UI @new4 due=someday", "can't read the date")
        await said(chat, "alice", "/member add @new5 Nowhere", 'no department "Nowhere"')
        assert await fingerprint(chat) == before


async def test_parent_progress_and_dates_are_derived(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        # Progress comes from the tracking commands; set leaves directly here.
        async with chat.runtime.factory() as session, session.begin():
            progress = {"1.1": (100, "done"), "1.2": (50, "in_progress"), "2.1.1": (100, "done")}
            for code, (percent, status) in progress.items():
                await session.execute(
                    update(Task).where(Task.code == code).values(progress=percent, status=status)
                )
        # Any plan change refreshes the stored roll-ups.
        await said(chat, "alice", "/任务 修改 2.1.2 截止=2027-01-12", "2027-01-10 → 2027-01-12")
        tasks = await tasks_by_code(chat)
        # 1.1: 5 days at 100 %, 1.2: 10 days at 50 % -> (500 + 500) / 15 = 66 %.
        assert (tasks["1"].progress, tasks["1"].status) == (66, "in_progress")
        # 2.1.1: 5 days done, 2.1.2: 23 days at 0 % -> 17 %; 2.2 has no start, so it weighs a week:
        # (500 + 0) // (28 + 7) -> 14 %.
        assert (tasks["2.1"].progress, tasks["2.1"].status) == (17, "in_progress")
        assert tasks["2"].progress == 14
        tree = await said(chat, "alice", "/任务列表")
        assert "🔵 2 开发与上线 · 2027-01-20 · 14%" in tree  # the phase's due spans its children
        assert "　🔵 2.1 后端开发 · @frank · 2027-01-12 · 17% · ← 1.2" in tree
        assert "　　✅ 2.1.1 接口定义 · @frank · 12-20 · 100%" in tree
        await said(chat, "alice", "/里程碑列表", "1.1 100%、1.2 50%")
        # Deleting the last open child leaves the parent summarising only what remains.
        await said(chat, "alice", "/任务 删除 2.1.2", "已删除 2.1.2")
        tasks = await tasks_by_code(chat)
        assert (tasks["2.1"].progress, tasks["2.1"].status) == (100, "done")


async def test_task_edit_delete_and_raci_details(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        # A dept head edits their own task; the reply lists old → new.
        reply = await said(
            chat, "bob", "/任务 修改 2.1 标题=服务端开发 开始=12-16 依赖=1.1,1.2", "服务端开发"
        )
        assert "• 标题：后端开发 → 服务端开发" in reply and "• 依赖：1.2 → 1.1, 1.2" in reply
        assert {("2.1", "1.1"), ("2.1", "1.2")} <= await dependency_codes(chat)
        await said(chat, "bob", "/任务 修改 2.1 依赖=无", "• 依赖：1.1, 1.2 → 无")
        assert not {dep for dep in await dependency_codes(chat) if dep[0] == "2.1"}
        # Moving a task to another department needs the receiving side too: the PM may.
        await said(
            chat, "alice", "/任务 修改 2.1 部门=运营 @dan", "• 部门：研发 → 运营", "• 负责人：@frank → @dan"
        )
        assert await raci_of(chat, "2.1") == {"R": ["dan"]}  # the R mirrored the owner, so it follows
        await said(chat, "dan", "/任务 修改 2.1 截止=2027-01-15", "• 截止：无 → 2027-01-15")
        await said(chat, "alice", "/任务 修改 1.2 @frank", "• 负责人：@erin → @frank")
        raci = {"R": ["frank"], "A": ["bob"], "C": ["carol", "dan"], "I": ["alice"]}
        assert await raci_of(chat, "1.2") == raci  # R mirrored the owner; A/C/I untouched
        await said(chat, "alice", "/责任 1.2 R=@frank,@erin A=@bob", "✅")
        await said(chat, "alice", "/任务 修改 1.2 @gina", "• 负责人：@frank → @gina")
        assert await raci_of(chat, "1.2") == {"R": ["frank", "erin"], "A": ["bob"]}  # a shared R stays
        # Deleting a task that others depend on, once confirmed, unlinks them and its milestone.
        await said(chat, "alice", "/任务 修改 2.2 依赖=2.1,1.2", "• 依赖：2.1 → 2.1, 1.2")
        await said(chat, "alice", "/任务 删除 1.2", "依赖会被去掉：2.2", "还没有删除")
        await said(chat, "alice", "/任务 删除 1.2 确认", "已删除 1.2「产品设计」", "不再依赖它：2.2", "#1")
        assert "1.2" not in {code for pair in await dependency_codes(chat) for code in pair}
        assert await raci_of(chat, "1.2") == {}
        # RACI replaces entirely; the first R becomes the owner; newcomers are added and named.
        await said(
            chat, "alice", "/责任 2.2 R=@zed,@gina A=@carol", "任务负责人：@zed", "@zed 原来不在项目里"
        )
        assert await raci_of(chat, "2.2") == {"R": ["zed", "gina"], "A": ["carol"]}
        assert (await tasks_by_code(chat))["2.2"].owner_member_id == (await members_by_user(chat))["zed"].id
        await said(chat, "alice", "/责任 2.2 R=@gina A=@carol", "任务负责人：@gina")
        assert await raci_of(chat, "2.2") == {"R": ["gina"], "A": ["carol"]}
        async with chat.runtime.factory() as session:
            entry = await session.scalar(
                select(AuditEntry)
                .where(AuditEntry.action == "raci.set")
                .order_by(AuditEntry.id.desc())
                .limit(1)
            )
            assert entry is not None and entry.before is not None and entry.after is not None
            assert len(entry.before["R"]) == 2 and len(entry.after["R"]) == 1


async def test_milestone_numbers_are_per_project(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, locale="en") as chat:
        await said(chat, "alice", "/project new Alpha", "Alpha")
        assert "Beta" in await chat.one("bob", "/project new Beta", chat="beta")
        await said(chat, "alice", "/milestone add Kickoff due=12-01", "#1")
        await said(chat, "alice", "/milestone add Beta release due=2027-02-01", "#2")
        assert "#1" in await chat.one("bob", "/milestone add Kickoff due=12-03", chat="beta")
        assert "#2 Beta release · due 2027-02-01" in await chat.one("alice", "/milestones")
        async with chat.runtime.factory() as session:
            numbers = sorted((m.project_id, m.number) for m in await session.scalars(select(Milestone)))
        assert numbers == [(1, 1), (1, 2), (2, 1)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/章程 不包含 -", "✅ 已清空不包含。"),
        ("/章程 开始 -", "✅ 项目周期：未设置 → 2027-03-31"),
        ("/章程 交付物：「App、后台」", "✅ 已更新交付物：App、后台"),
    ],
)
async def test_charter_clearing_and_quoting(
    engine: AsyncEngine, platform: str, line: str, expected: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await said(chat, "alice", "/项目 新建 新品发布 开始=12-01 结束=2027-03-31", "新品发布")
        await said(chat, "alice", "/章程 不包含 小程序", "✅")
        await said(chat, "alice", line, expected)


async def test_a_dependency_on_work_due_after_the_start_is_accepted_with_a_warning(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        reply = await said(chat, "alice", "/任务 添加 1.3 原型 开始=12-03 截止=12-10 依赖=1.1", "已添加")
        assert "⚠️ 1.1 截止 12-05，晚于 1.3 开始 12-03" in reply.splitlines()
        assert ("1.3", "1.1") in await dependency_codes(chat)
        # A date edit that makes the upstream end later warns about every task waiting on it.
        reply = await said(chat, "alice", "/任务 修改 1.1 截止=12-08", "12-05 → 12-08")
        warnings = [line for line in reply.splitlines() if line.startswith("⚠️")]
        assert warnings == ["⚠️ 1.1 截止 12-08，晚于 1.2 开始 12-06", "⚠️ 1.1 截止 12-08，晚于 1.3 开始 12-03"]
        assert (await tasks_by_code(chat))["1.1"].due_date == date(2026, 12, 8)
        # Changing the dependencies warns too; a title change alone does not.
        reply = await said(chat, "alice", "/任务 修改 1.2 依赖=1.1,1.3", "1.1 → 1.1, 1.3")
        assert [line for line in reply.splitlines() if line.startswith("⚠️")] == [
            "⚠️ 1.1 截止 12-08，晚于 1.2 开始 12-06",
            "⚠️ 1.3 截止 12-10，晚于 1.2 开始 12-06",
        ]
        assert "⚠️" not in await said(chat, "alice", "/任务 修改 1.1 标题=调研", "调研")
        assert "⚠️" not in await said(chat, "alice", "/任务 修改 1.2 开始=12-11", "12-06 → 12-11")
        # A refused change (a loop) changes nothing and warns about nothing.
        before = await dependency_codes(chat)
        reply = await said(chat, "alice", "/任务 修改 1.1 依赖=1.3")
        assert "⚠️" not in reply and await dependency_codes(chat) == before
        await said(chat, "alice", "/设置 语言 en")
        reply = await said(chat, "alice", "/task edit 1.3 start=12-04", "12-03 → 12-04")
        assert "⚠️ 1.1 is due 12-08, after 1.3 starts 12-04" in reply.splitlines()
