"""Action items and risks corrected after the fact, through really signed webhooks on Feishu and
DingTalk, SQLite and PostgreSQL: /action edit|delete|reopen, /risk edit, and /risk R1 showing the
risk's whole history. Each change is audited and undoable; each refusal changes nothing.

The plan is tests/services/test_plan_commands.py's: alice is the PM, bob heads 研发, erin and frank
are members of 研发; zoe is not in the project. The clock starts 2026-11-25 10:00 in Shanghai.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ActionItem, AuditEntry, Base, Member, Risk
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan, said
from tests.services.test_plan_commands import fingerprint as plan_fingerprint
from tests.services.test_undo import Clock

ADD_A1 = "/行动 添加 @bob 12-01 写文档"
ADD_R1 = "/风险 添加 中 供应商延期 @bob"


async def fingerprint(chat: Chat) -> dict[str, list[tuple[Any, ...]]]:
    """The plan's tables and the ones these commands write (the audit log among them)."""
    picture = await plan_fingerprint(chat)
    async with chat.runtime.factory() as session:
        for name in ("risks", "risk_events", "action_items"):
            rows = (await session.execute(select(Base.metadata.tables[name]))).all()
            picture[name] = sorted((tuple(row) for row in rows), key=repr)
    return picture


async def action(chat: Chat) -> tuple[str, date | None, str, str | None] | None:
    """A1 as (text, due, status, owner's user id); None when there is no A1."""
    async with chat.runtime.factory() as session:
        item = await session.scalar(select(ActionItem).where(ActionItem.number == 1))
        if item is None:
            return None
        owner = await session.get(Member, item.owner_member_id) if item.owner_member_id else None
        return item.text, item.due_date, item.status, owner.platform_user_id if owner else None


async def risk(chat: Chat) -> tuple[str, str, str, str | None]:
    """R1 as (level, description, mitigation, owner's user id)."""
    async with chat.runtime.factory() as session:
        found = await session.scalar(select(Risk).where(Risk.number == 1))
        assert found is not None
        owner = await session.get(Member, found.owner_member_id) if found.owner_member_id else None
        return found.level, found.description, found.mitigation, owner.platform_user_id if owner else None


async def audited(chat: Chat, action_name: str) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    async with chat.runtime.factory() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action_name).order_by(AuditEntry.id)
        )
        return [(entry.before, entry.after) for entry in entries]


async def test_an_action_item_is_edited_reassigned_reopened_and_deleted(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", ADD_A1, "A1")
        reply = await said(
            chat, "bob", "/行动 修改 A1 内容=写接口文档（ＡＰＩ，v2） 截止=12-03", "✏️ 已修改行动项 A1："
        )
        assert "• 内容：写文档 → 写接口文档（ＡＰＩ，v2）" in reply, reply
        assert "• 截止：12-01 → 12-03" in reply, reply
        typed = "写接口文档（ＡＰＩ，v2）"  # full-width letters and comma kept
        assert await action(chat) == (typed, date(2026, 12, 3), "open", "bob")
        assert await audited(chat, "action.edit") == [
            (
                {"text": "写文档", "due_date": "2026-12-01"},
                {"text": "写接口文档（ＡＰＩ，v2）", "due_date": "2026-12-03"},
            )
        ]

        await said(chat, "bob", "/行动 修改 A1 @erin", "• 负责人：@bob → @erin")
        await said(chat, "erin", "/action edit A1 end=12-04", "• 截止：12-03 → 12-04")  # end = due
        await said(chat, "erin", "/行动 修改 A1 写接口文档", "• 内容：写接口文档（ＡＰＩ，v2） → 写接口文档")
        assert await action(chat) == ("写接口文档", date(2026, 12, 4), "open", "erin")

        await said(chat, "erin", "/行动 完成 A1", "✅")
        await said(chat, "erin", "/行动 重开 A1", "↩️ 行动项 A1 已重开：写接口文档 · 截止 12-04")
        assert await action(chat) == ("写接口文档", date(2026, 12, 4), "open", "erin")
        assert await audited(chat, "action.reopen") == [
            ({"status": "done", "done_at": "2026-11-25T02:00:00+00:00"}, {"status": "open", "done_at": None})
        ]

        await said(chat, "alice", "/行动 删除 A1", "🗑️ 已删除行动项 A1：写接口文档")  # a PM may too
        assert await action(chat) is None
        [(before, after)] = await audited(chat, "action.delete")
        assert after is None and before is not None
        assert (before["number"], before["text"], before["due_date"]) == (1, "写接口文档", "2026-12-04")


async def test_a_new_owner_joins_the_project(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", ADD_A1)
        await said(chat, "alice", ADD_R1)
        await said(chat, "bob", "/行动 修改 A1 负责人=@zoe", "• 负责人：@bob → @zoe")
        await said(chat, "bob", "/风险 修改 R1 @zoe", "• 负责人：@bob → @zoe")
        assert (await action(chat))[3] == "zoe"  # type: ignore[index]
        assert (await risk(chat))[3] == "zoe"
        assert len(await audited(chat, "member.add")) == 8  # the plan's seven, then zoe once


async def test_who_may_and_refusals_change_nothing(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", ADD_A1)
        await said(chat, "alice", ADD_R1)
        await said(chat, "bob", "/行动 完成 A1")
        before = await fingerprint(chat)
        for line in ("/行动 修改 A1 内容=x", "/行动 修改 A1 @zoe", "/行动 删除 A1", "/行动 重开 A1"):
            await said(chat, "frank", line, "只有行动项负责人或项目经理")
        for line in ("/风险 修改 R1 等级=高", "/风险 修改 R1 @zoe"):
            await said(chat, "frank", line, "只有风险负责人或项目经理")
        await said(chat, "alice", "/行动 修改 A9 内容=x", "找不到行动项 A9")
        await said(chat, "alice", "/行动 删除 A9", "找不到行动项 A9")
        await said(chat, "alice", "/风险 修改 R9 等级=高", "找不到风险 R9")
        await said(chat, "alice", "/风险 R9", "找不到风险 R9")
        await said(chat, "alice", "/行动 修改 A1", "请写出要改的内容")
        await said(chat, "alice", "/风险 修改 R1", "请写出要改的内容，如 等级=高")
        await said(chat, "alice", "/风险 修改 R1 等级=超高", "风险等级「超高」应为 高 / 中 / 低")
        await said(chat, "alice", "/行动 修改 A1 内容=", "缺少参数：行动项内容。")
        await said(chat, "alice", "/行动 修改 A1 @erin @frank", "只能指定一位负责人")
        await said(chat, "alice", "/行动 修改 A1 截止=12-01 结束=12-02", "用法：")
        await said(chat, "alice", "/行动 修改 A1 截止=12-01", "A1 没有变化。")
        await said(chat, "alice", "/风险 修改 R1 等级=中 缓解=", "R1 没有变化。")
        await said(chat, "alice", "/风险 修改 R1 描述=" + "长" * 501, "太长")
        assert await fingerprint(chat) == before
        await said(chat, "bob", "/行动 重开 A1", "↩️")
        before = await fingerprint(chat)
        await said(chat, "bob", "/行动 重开 A1", "行动项 A1 还没完成，不用重开。")
        assert await fingerprint(chat) == before


async def test_a_risk_is_edited_and_shows_its_whole_history(engine: AsyncEngine, platform: str) -> None:
    clock = Clock()
    async with chat_runtime(engine, platform=platform, clock=clock) as chat:
        await build_plan(chat)
        await said(chat, "bob", ADD_R1)
        clock.wait(24 * 60)
        await said(chat, "bob", "/风险 R1 仍存在 已联系供应商")
        reply = await said(
            chat,
            "bob",
            "/风险 修改 R1 等级=高 描述=供应商延期两周 缓解=找备选供应商",
            "✏️ 已修改风险 R1（高）：",
        )
        assert "• 等级：中 → 高" in reply and "• 内容：供应商延期 → 供应商延期两周" in reply, reply
        assert "• 应对：无 → 找备选供应商" in reply
        assert await risk(chat) == ("high", "供应商延期两周", "找备选供应商", "bob")
        clock.wait(24 * 60)
        await said(chat, "bob", "/risk edit R1 level=medium owner=@carol", "• 等级：高 → 中")
        await said(chat, "erin", "/风险 R1 升级 客户在催")
        await said(chat, "carol", "/风险 R1 已缓解 换了供应商")
        await said(chat, "carol", "/撤销", "• R1 恢复到之前的状态和等级")
        await said(chat, "alice", "/风险 修改 R1 缓解=", "• 应对：找备选供应商 → 无")
        card = await said(chat, "zoe", "/风险 R1")  # anyone may look, a non-member too
        assert card.splitlines() == [
            "【⚠️ 风险 R1 · 高 · 未缓解】",
            "供应商延期两周",
            "负责人：carol",
            "历史：",
            "• 11-25 bob：登记",
            "• 11-26 bob：状态 新登记 → 未缓解（已联系供应商）",
            "• 11-26 bob：修改，等级 中 → 高；内容改为「供应商延期两周」；应对改为「找备选供应商」",
            "• 11-27 bob：修改，等级 高 → 中；负责人 bob → carol",
            "• 11-27 erin：升级，等级 中 → 高（客户在催）",
            "• 11-27 carol：状态 未缓解 → 已缓解（换了供应商）",
            "• 11-27 carol：撤销，状态 已缓解 → 未缓解",
            "• 11-27 alice：修改，应对 找备选供应商 → 无",
        ], card
        await said(chat, "carol", "/风险 R1 仍存在")
        assert (await said(chat, "carol", "/risk R1")).endswith("• 11-27 carol：复核，仍存在")


async def test_a_deleted_item_whose_number_was_taken_is_not_brought_back(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", ADD_A1)
        await said(chat, "bob", "/行动 删除 A1")
        await said(chat, "alice", "/行动 添加 @erin 12-02 订会议室", "A1")  # the number is free again
        before = await fingerprint(chat)
        await said(chat, "bob", "/撤销", "不能撤销：编号 A1 已被新登记的占用。")
        assert await fingerprint(chat) == before
        assert await action(chat) == ("订会议室", date(2026, 12, 2), "open", "erin")
