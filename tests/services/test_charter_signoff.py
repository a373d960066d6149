"""The charter signed off by each department head, and each department's resource needs, through
really signed webhooks on Feishu and DingTalk, SQLite and PostgreSQL.

The plan is tests/services/test_plan_commands.py's: alice is the PM; bob heads 研发, carol 市场,
dan 运营; erin is in 研发. A second chat, "ops", is bound to the project to see the notices there.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, CharterConfirmation, Department, Member
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan, fingerprint, said


async def confirmations(chat: Chat) -> dict[str, str]:
    """Department name -> who confirmed it."""
    async with chat.runtime.factory() as session:
        rows = await session.execute(
            select(Department.name, CharterConfirmation.member_id).join(
                CharterConfirmation, CharterConfirmation.department_id == Department.id
            )
        )
        people = {m.id: m.platform_user_id for m in await session.scalars(select(Member))}
        return {name: people[member_id] for name, member_id in rows}


async def here_and_there(chat: Chat, user: str, line: str) -> tuple[str, str]:
    """The reply in the team chat and the notice in the ops chat."""
    await chat.post(user, line)
    await chat.runtime.settle()
    by_chat = {message.target: message.text for message in chat.sent()}
    assert set(by_chat) == {"team", "ops"}, by_chat
    return by_chat["team"], by_chat["ops"]


async def test_each_head_confirms_and_the_charter_shows_who_has_not(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        card = await said(chat, "erin", "/章程", "✍️ 部门确认 0/3")
        assert "⏳ 研发 · @bob 未确认" in card and "⏳ 运营 · @dan 未确认" in card, card
        assert "部门负责人发送 /章程 确认" in card

        reply = await said(chat, "bob", "/章程 确认", "✅ 已确认章程：研发。")
        assert "还在等：市场、运营" in reply, reply
        await said(chat, "bob", "/章程 确认", "「研发」之前已确认，无需重复。")
        await said(chat, "carol", "/charter confirm 市场", "✅ 已确认章程：市场。")
        assert await confirmations(chat) == {"研发": "bob", "市场": "carol"}

        card = await said(chat, "alice", "/章程", "✍️ 部门确认 2/3")
        assert "✅ 研发 · @bob 11-25" in card and "⏳ 运营 · @dan 未确认" in card, card

        await said(chat, "dan", "/章程 签字", "🎉 所有部门都已确认章程。")
        assert "部门负责人发送" not in await said(chat, "alice", "/章程", "✍️ 部门确认 3/3")


async def test_who_may_not_confirm_changes_nothing(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        before = await fingerprint(chat)
        # The PM heads nothing either.
        for person in ("erin", "alice"):
            await said(chat, person, "/章程 确认", "只有部门负责人（确认自己负责的部门）可以")
        await said(chat, "bob", "/章程 确认 市场", "你不是「市场」的负责人")
        assert await fingerprint(chat) == before and await confirmations(chat) == {}


async def test_a_goal_scope_or_date_change_withdraws_the_sign_offs_and_asks_again(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await chat.say("alice", "/项目 绑定 新品发布", chat="ops")
        chat.sent()
        await said(chat, "bob", "/章程 确认")
        await said(chat, "carol", "/章程 确认")
        # The background is not what the departments agreed on: the sign-offs stay.
        reply = await said(chat, "alice", "/章程 背景 用户反馈多", "✅")
        assert "撤回" not in reply and len(await confirmations(chat)) == 2

        here, there = await here_and_there(chat, "alice", "/章程 范围 iOS、安卓与鸿蒙")
        assert "⚠️ 章程的范围内改了，2 个部门的确认已撤回：@bob @carol 请重新确认（/章程 确认）" in here, here
        assert "「新品发布」章程的范围内已修改" in there and "@bob @carol 请查看 /章程" in there, there
        assert await confirmations(chat) == {}
        async with chat.runtime.factory() as session:
            withdrawn = await session.scalar(
                select(func.count()).where(AuditEntry.action == "charter.confirmation_reset")
            )
        assert withdrawn == 2

        await said(chat, "bob", "/章程 确认", "✅ 已确认章程：研发。")
        reply, notice = await here_and_there(chat, "alice", "/章程 结束 2027-04-30")
        assert "1 个部门的确认已撤回：@bob" in reply and "结束日期已修改" in notice, (reply, notice)
        # Setting the same value again changes nothing, so nothing is withdrawn.
        await said(chat, "bob", "/章程 确认")
        assert "撤回" not in await said(chat, "alice", "/章程 结束 2027-04-30")


async def test_the_pm_nudges_the_heads_who_have_not_confirmed(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await chat.say("alice", "/项目 绑定 新品发布", chat="ops")
        chat.sent()
        await said(chat, "bob", "/章程 确认")
        await said(chat, "alice", "/部门 添加 法务")
        before = await fingerprint(chat)
        await said(chat, "bob", "/章程 催签", "只有项目经理")
        here, there = await here_and_there(chat, "alice", "/章程 催签")
        assert "@carol @dan 请查看 /章程 并确认：/章程 确认" in here and "已提醒 2 位负责人" in here, here
        assert "这些部门还没有负责人，无法确认：法务" in here
        assert "【✍️ 请确认「新品发布」的章程】" in there and "@carol @dan" in there and "@bob" not in there
        assert await fingerprint(chat) == before  # a nudge changes nothing


async def test_resource_needs_per_department(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        card = await said(chat, "erin", "/章程", "📦 资源需求 （未填写）")
        reply = await said(chat, "bob", "/章程 资源 研发 人力=3人 预算：５万 其他=「测试服务器 2 台」", "✅")
        assert "「研发」的资源需求：人力 3人 · 预算 ５万 · 其他 测试服务器 2 台" in reply, reply
        await said(chat, "alice", "/charter resources 市场 budget=20万", "预算 20万")
        card = await said(chat, "erin", "/章程")
        assert (
            "📦 资源需求\n• 研发：人力 3人 · 预算 ５万 · 其他 测试服务器 2 台\n• 市场：预算 20万" in card
        ), card
        await said(chat, "bob", "/章程 资源 研发 其他=-", "人力 3人 · 预算 ５万")

        before = await fingerprint(chat)
        await said(chat, "bob", "/章程 资源 市场 人力=1人", "只有项目经理或该部门负责人")
        await said(chat, "alice", "/章程 资源 财务 人力=1人", "没有部门「财务」")
        assert await fingerprint(chat) == before
        await said(chat, "erin", "/章程 资源 市场", "• 市场：预算 20万")
