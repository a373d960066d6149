"""The plan's structure corrected after the fact, through really signed webhooks on Feishu and
DingTalk, SQLite and PostgreSQL: phases edited and deleted, deletes that reach further asking for a
confirmation first, members removed and moved, departments renamed and deleted, PMs removed.
Refusals change nothing; every change comes back with /undo (tests/services/test_undo.py).

The plan is tests/services/test_plan_commands.py's: alice is the only PM; bob heads 研发 (erin,
frank), carol 市场 (gina), dan 运营. frank owns 2.1 and 2.1.1, erin 1.2 and 2.1.2, gina 2.2;
2.2 is after 2.1, 2.1.2 after 2.1.1; milestone #1 links 1.1 and 1.2."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Department, Member, Project
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import (
    build_plan,
    dependency_codes,
    fingerprint,
    members_by_user,
    raci_of,
    said,
    tasks_by_code,
)


async def refused(chat: Chat, user: str, line: str, expected: str) -> None:
    before = await fingerprint(chat)
    await said(chat, user, line, expected)
    assert await fingerprint(chat) == before, line


async def owners(chat: Chat) -> dict[str, str | None]:
    by_id = {m.id: m.platform_user_id for m in (await members_by_user(chat)).values()}
    return {code: by_id.get(t.owner_member_id or 0) for code, t in (await tasks_by_code(chat)).items()}


async def test_phases_and_deletes_that_reach_further(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        # /phase edit takes /phase add's words; 结束, 截止 and end are one option.
        await said(chat, "alice", "/阶段 修改 1 标题=需求 截止=12-22", "已修改阶段 1「需求」", "标题")
        await said(
            chat,
            "alice",
            "/phase edit 2 start=12-21 结束=2027-02-01",
            "开始：无 → 12-21",
            "截止：无 → 2027-02-01",
        )
        phases = await tasks_by_code(chat)
        assert (phases["1"].title, phases["1"].due_date) == ("需求", date(2026, 12, 22))
        assert (phases["2"].start_date, phases["2"].due_date) == (date(2026, 12, 21), date(2027, 2, 1))
        await refused(chat, "bob", "/阶段 修改 1 结束=12-25", "只有项目经理可以这样做")
        await refused(chat, "alice", "/阶段 修改 2.1 标题=x", "2.1 不是阶段")
        await refused(chat, "alice", "/阶段 修改 1 结束=12-25 截止=12-26", "due")
        await refused(chat, "alice", "/阶段 删除 1 马上", "用法：/阶段 删除 <编号> [确认]")

        # A task with subtasks and dependents: what would go, and how to confirm; nothing changes.
        before = await fingerprint(chat)
        await chat.post("alice", "/任务 删除 2.1")
        await chat.runtime.settle()
        [card] = chat.sent()
        assert card.card, card
        for text in ("确认删除 2.1「后端开发」", "2 个子任务会一起删除：2.1.1, 2.1.2", "依赖会被去掉：2.2"):
            assert text in card.text, card.text
        assert "发送 /任务 删除 2.1 确认" in card.text
        # The button sends that same command (a Feishu callback value, a DingTalk dtmd link).
        assert "/任务 删除 2.1 确认" in unquote(json.dumps(card.request, ensure_ascii=False))
        assert await fingerprint(chat) == before
        # Every department the deletion reaches must agree: carol heads none of them.
        await refused(chat, "carol", "/任务 删除 2.1 确认", "只有项目经理或该部门负责人可以这样做")
        await said(chat, "bob", "/任务 删除 2.1 确认", "已删除 2.1「后端开发」", "连同 2 个子任务", "2.2")
        assert {"2.1", "2.1.1", "2.1.2"}.isdisjoint(await tasks_by_code(chat))
        assert await dependency_codes(chat) == {("1.2", "1.1")}
        await said(chat, "bob", "/撤销", "恢复了已删除的 2.1 后端开发", "2.1.1 接口定义", "2.1.2 接口实现")
        assert await dependency_codes(chat) == {
            ("1.2", "1.1"),
            ("2.1", "1.2"),
            ("2.1.2", "2.1.1"),
            ("2.2", "2.1"),
        }
        assert await raci_of(chat, "2.1.2") == {"R": ["erin"]}
        restored = await tasks_by_code(chat)
        assert (
            restored["2.1.1"].parent_id == restored["2.1"].id
            and restored["2.1"].parent_id == restored["2"].id
        )

        # A phase with tasks, confirmed in English; a leaf without dependents goes at once.
        await said(
            chat, "alice", "/phase delete 1", "2 个子任务会一起删除：1.1, 1.2", "依赖会被去掉：2.1", "#1"
        )
        await said(chat, "alice", "/phase delete 1 confirm", "已删除 1「需求」", "1.1, 1.2", "2.1", "#1")
        assert sorted(await tasks_by_code(chat)) == ["2", "2.1", "2.1.1", "2.1.2", "2.2"]
        await said(chat, "alice", "/任务 删除 2.2", "已删除 2.2「上线推广」")


async def test_members_departments_and_pms(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/行动 添加 @frank 12-01 写文档", "A1")
        # Who may, and what is refused until someone takes over.
        await refused(chat, "carol", "/成员 移除 @frank", "只有项目经理或该部门负责人可以这样做")
        await refused(chat, "bob", "/成员 调动 @frank 市场", "只有项目经理或该部门负责人可以这样做")
        await refused(chat, "alice", "/成员 移除 @bob", "@bob 是「研发」的负责人")
        await refused(chat, "alice", "/成员 调动 @dan 市场", "@dan 是「运营」的负责人")
        await refused(chat, "alice", "/成员 移除 @alice", "@alice 是唯一的项目经理")
        await refused(chat, "alice", "/项目 负责人 移除 @alice", "@alice 是唯一的项目经理")
        await refused(chat, "alice", "/成员 移除 @zed", "@zed 不是本项目成员")
        await refused(chat, "bob", "/部门 改名 研发 技术", "只有项目经理可以这样做")
        await refused(chat, "alice", "/部门 改名 研发 市场", "部门「市场」已经存在")
        await refused(chat, "alice", "/部门 删除 市场", "部门「市场」还不是空的：2 位成员、2 个任务")

        # Removed by his head: his open work is handed back and listed, in the chat and privately
        # to the PM who reassigns it; he is no member any more.
        await chat.post("bob", "/成员 移除 @frank")
        await chat.runtime.settle()
        sent = chat.sent()
        [reply] = [s.text for s in sent if s.kind == "reply"]
        for text in ("已把 @frank 移出项目", "没有负责人，请重新指派", "2.1, 2.1.1", "A1"):
            assert text in reply, reply
        [told] = [s for s in sent if s.kind == "user"]
        assert told.target == "alice" and "@bob" in told.text and "2.1, 2.1.1" in told.text, told
        assert (await owners(chat))["2.1"] is None and (await owners(chat))["2.1.1"] is None
        assert "@frank" not in await said(chat, "alice", "/成员列表", "@erin")
        await refused(chat, "frank", "/进度 2.1.1 50%", "只有任务的执行人（R）")
        # Writing in the group does not enrol him again (the join policy is auto).
        await refused(chat, "frank", "/站会 昨天：写文档 今天：评审 卡点：无", "你已被移出本项目")
        await said(chat, "bob", "/撤销", "@frank 回到项目")
        assert (await owners(chat))["2.1"] == "frank" and "@frank" in await said(chat, "alice", "/成员列表")
        # Removed again and added back: the same member, in his old department.
        await said(chat, "alice", "/成员 移除 @frank", "2.1, 2.1.1")
        await said(chat, "bob", "/成员 添加 @frank 研发", "@frank 已加入「研发」")
        assert (await members_by_user(chat))["frank"].removed_at is None

        # Moved with both sides' consent: his open tasks stay his and are listed.
        await said(chat, "alice", "/成员 调动 @erin 市场", "@erin：「研发」→「市场」", "1.2, 2.1.2")
        await said(chat, "alice", "/成员 调动 @erin 市场", "@erin 已在「市场」")
        people = await members_by_user(chat)
        async with chat.runtime.factory() as session:
            market = await session.scalar(select(Department).where(Department.name == "市场"))
            assert market is not None and people["erin"].department_id == market.id
        assert (await owners(chat))["1.2"] == "erin"

        # Departments: renamed, and deleted once empty.
        await said(chat, "alice", "/部门 改名 运营 客服", "「运营」已改名为「客服」")
        await said(chat, "alice", "/部门 添加 法务", "法务")
        await said(chat, "alice", "/部门 删除 法务", "已删除部门「法务」")
        assert "法务" not in await said(chat, "alice", "/部门列表", "客服")

        # PMs: added and removed, never the last; `移除` is not taken for a name.
        await said(chat, "alice", "/项目 负责人 @bob", "@bob 现在是项目经理")
        await said(chat, "bob", "/project pm remove @alice", "@alice 不再是项目经理")
        await said(chat, "bob", "/项目 负责人 移除 @alice", "@alice 不是项目经理")
        await refused(chat, "alice", "/项目 负责人 移除 @bob", "只有项目经理可以这样做")
        assert {m.platform_user_id for m in (await members_by_user(chat)).values() if m.role == "pm"} == {
            "bob"
        }


async def test_member_commands_in_english(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, locale="en") as chat:
        await chat.say("alice", "/project new Launch start=12-01 截止=2027-03-31")  # 截止 is end
        await chat.say("alice", "/dept add R&D @bob")
        await chat.say("alice", "/dept add Sales")
        await chat.say("alice", "/member add @erin R&D")
        await said(chat, "alice", "/phase add 1 Build end=2027-01-10", "1")
        await said(chat, "bob", "/task add 1.1 API @erin end=2027-01-05", "1.1")  # end is due
        async with chat.runtime.factory() as session:
            project = await session.scalar(select(Project))
            assert project is not None and project.end_date == date(2027, 3, 31)
        assert (await tasks_by_code(chat))["1.1"].due_date == date(2027, 1, 5)
        await said(chat, "alice", "/member move @erin Sales", '"R&D" → "Sales"', "1.1")
        await said(chat, "alice", "/member remove @erin", "no longer in the project", "reassign them", "1.1")
        await said(chat, "alice", "/dept rename Sales Marketing", '"Sales" is now "Marketing"')
        await said(chat, "alice", "/dept delete Marketing", 'Department "Marketing" deleted.')
        await refused(chat, "alice", "/project pm remove @alice", "the only project manager")
        members = await members_by_user(chat)
        assert isinstance(members["erin"], Member) and members["erin"].removed_at is not None
