"""Milestones corrected after the fact, through really signed webhooks on Feishu and DingTalk,
SQLite and PostgreSQL: edit, delete, reopen, and `done` refused while linked tasks are open unless
forced. The plan is tests/services/test_plan_commands.py's: milestone #1「设计评审通过」due 12-20,
linked to 1.1 and 1.2 (both open); alice is the PM, bob heads 研发."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Milestone, MilestoneTask, Task
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan, fingerprint, said


async def milestone(chat: Chat) -> tuple[str, date, str, list[str]] | None:
    async with chat.runtime.factory() as session:
        found = await session.scalar(select(Milestone).where(Milestone.number == 1))
        if found is None:
            return None
        codes = await session.scalars(
            select(Task.code)
            .join(MilestoneTask, MilestoneTask.task_id == Task.id)
            .where(MilestoneTask.milestone_id == found.id)
        )
        return found.title, found.due_date, found.status, sorted(codes)


async def test_done_waits_for_the_linked_tasks_unless_forced_and_can_be_reopened(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        before = await fingerprint(chat)
        reply = await said(chat, "alice", "/里程碑 完成 1", "里程碑 #1 的关联任务还没完成：1.1 0%, 1.2 0%")
        assert "/里程碑 完成 1 强制" in reply and await fingerprint(chat) == before
        reply = await said(chat, "alice", "/里程碑 完成 #1 强制", "🎉 里程碑 #1「设计评审通过」已完成。")
        assert "⚠️ 关联任务还没完成：1.1 0%" in reply and "1.2 0%" in reply, reply
        assert (await milestone(chat))[2] == "done"  # type: ignore[index]
        await said(chat, "alice", "/里程碑 重开 1", "↩️ 里程碑 #1「设计评审通过」已重开 · 截止 12-20")
        assert (await milestone(chat))[2] == "open"  # type: ignore[index]
        await said(chat, "alice", "/里程碑 重开 1", "还没完成，不用重开")
        await said(chat, "alice", "/里程碑 完成 1 随便", "用法：")


async def test_edit_and_delete(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        reply = await said(
            chat,
            "alice",
            "/里程碑 修改 1 标题=设计评审 截止=12-22 任务=1.2",
            "✏️ 已修改里程碑 #1「设计评审」：",
        )
        assert "• 标题：设计评审通过 → 设计评审" in reply and "• 截止：12-20 → 12-22" in reply, reply
        assert "• 关联任务：1.1, 1.2 → 1.2" in reply
        assert await milestone(chat) == ("设计评审", date(2026, 12, 22), "open", ["1.2"])
        await said(
            chat, "alice", "/milestone edit 1 end=12-23", "12-22 → 12-23"
        )  # 结束 and 截止 are one word
        await said(chat, "alice", "/里程碑 修改 1 截止=12-23", "里程碑 #1 没有变化。")
        await said(chat, "alice", "/里程碑 删除 1", "🗑️ 已删除里程碑 #1「设计评审」。")
        assert await milestone(chat) is None


async def test_only_a_pm_and_nothing_changes(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        before = await fingerprint(chat)
        for line in ("/里程碑 修改 1 标题=x", "/里程碑 删除 1", "/里程碑 重开 1", "/里程碑 完成 1 强制"):
            await said(chat, "bob", line, "只有项目经理")
        await said(chat, "alice", "/里程碑 修改 1 任务=1.1,9.9", "没有这些任务：9.9。")
        await said(chat, "alice", "/里程碑 删除 7", "没有里程碑 #7")
        await said(chat, "alice", "/里程碑 修改 1", "请写出要改的内容")
        assert await fingerprint(chat) == before


async def test_undo_brings_a_deleted_milestone_back_with_its_tasks(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/里程碑 删除 1")
        await said(chat, "alice", "/撤销", "「#1 设计评审通过」恢复到修改前")
        assert await milestone(chat) == ("设计评审通过", date(2026, 12, 20), "open", ["1.1", "1.2"])
        await said(chat, "alice", "/里程碑 修改 1 任务=1.2")
        await said(chat, "alice", "/撤销")
        assert await milestone(chat) == ("设计评审通过", date(2026, 12, 20), "open", ["1.1", "1.2"])
