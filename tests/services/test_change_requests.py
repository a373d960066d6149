"""Change requests after a baseline, through really signed webhooks on Feishu and DingTalk, SQLite
and PostgreSQL: a head's date change waits for a PM, whose card button applies it with the tasks it
pushes; everyone concerned is told; the PMs' own changes apply and are logged; refusals change
nothing.

The plan is tests/services/test_plan_commands.py's: alice is the PM, bob heads 研发, carol 市场;
erin owns 1.2 (12-06..12-15) and 2.1.2 (12-21..2027-01-10, after 2.1.1); frank owns 2.1.1
(12-16..12-20); 2.1 is after 1.2; gina owns 2.2 (due 2027-01-20, after 2.1); milestone #1 (12-20)
waits for 1.1 and 1.2.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ChangeRequest
from tests.harness import Chat, Sent, chat_runtime
from tests.services.test_plan_commands import build_plan, fingerprint, said, tasks_by_code


async def exchange(chat: Chat, user: str, line: str) -> list[Sent]:
    await chat.post(user, line)
    await chat.runtime.settle()
    return chat.sent()


async def dates(chat: Chat) -> dict[str, tuple[date | None, date | None]]:
    return {code: (task.start_date, task.due_date) for code, task in (await tasks_by_code(chat)).items()}


async def requests(chat: Chat) -> dict[int, ChangeRequest]:
    async with chat.runtime.factory() as session:
        return {cr.number: cr for cr in await session.scalars(select(ChangeRequest))}


async def answered(chat: Chat, user: str, line: str, *expected: str) -> tuple[str, dict[str, str]]:
    """The reply in the chat (holding every `expected`) and the private messages, by recipient."""
    sent = await exchange(chat, user, line)
    [reply] = [s.text for s in sent if s.kind == "reply"]
    for text in expected:
        assert text in reply, (line, reply)
    return reply, private(sent)


def private(sent: list[Sent]) -> dict[str, str]:
    found = {s.target: s.text for s in sent if s.kind == "user"}
    assert len(found) == sum(s.kind == "user" for s in sent), sent  # one message each
    return found


async def test_a_heads_date_change_waits_for_a_pm_whose_click_applies_it(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "bob", "/变更 1.2 截止=12-18 原因 设计返工", "还没有基线，直接修改计划即可")
        await said(chat, "alice", "/基线 设定 首版", "📐 已设定基线 1")
        planned = await dates(chat)

        # bob heads 研发: the new title applies at once, the later due date waits as CR-1.
        sent = await exchange(chat, "bob", "/任务 修改 1.2 标题=产品设计稿 截止=12-22")
        [reply] = [s.text for s in sent if s.kind == "reply"]
        assert reply.startswith("✏️ 已修改 1.2「产品设计稿」：\n• 标题：产品设计 → 产品设计稿\n"), reply
        assert "⏳ 需要项目经理批准，已作为 CR-1 发给项目经理；批准前计划不变。" in reply
        [card] = [s for s in sent if s.kind == "user"]
        assert card.target == "alice" and card.card and len(sent) == 2
        impact = (
            "• ↪ 2.1.1 顺延：12-20 → 12-25\n"
            "• ↪ 2.1.2 顺延：2027-01-10 → 2027-01-15\n"
            "• 🏁 #1 设计评审通过（12-20）将晚于 1.2 的完成日 12-22"
        )
        assert card.text == (
            "【📝 变更申请 CR-1 · 新品发布】\n申请人：bob · 相对基线 1\n内容：1.2 截止 12-15 → 12-22\n"
            f"原因：无\n影响：\n{impact}"
        )
        assert impact in reply  # the requester sees the impact too
        assert await dates(chat) == planned

        # Refused, with nothing stored or changed: not the head of 研发, not a PM, not a valid change.
        before = await fingerprint(chat)
        for user, line, expected in [
            ("erin", "/任务 修改 1.2 截止=12-30", "抱歉，只有项目经理或该部门负责人可以这样做。"),
            ("bob", "/变更 批准 CR-1", "抱歉，只有项目经理可以这样做。"),
            ("bob", "/变更 驳回 CR-1 不行", "抱歉，只有项目经理可以这样做。"),
            ("erin", "/变更 1.2 截止=12-20", "用法：/变更 <内容> 原因 <原因>"),
            ("erin", "/变更 9.9 截止=12-20 原因 来不及", "没有任务 9.9。"),
            ("erin", "/变更 1.2 截止=13-45 原因 来不及", "看不懂日期「13-45」"),
            ("erin", "/变更 2.1.1 依赖=2.1.2 原因 顺序反了", "依赖会成环"),
            ("erin", "/变更 1.2 截止=12-15 原因 没变", "没有可申请的变更"),
            ("alice", "/变更 批准 CR-9", "没有变更 CR-9。"),
        ]:
            await said(chat, user, line, expected)
        assert await fingerprint(chat) == before

        # "Discuss" asks the requester and the owners concerned in the group; the card stays usable.
        _, replies = await chat.click("alice", card, button=2)
        assert any("💬 已在项目群里请 @bob、@erin、@frank 讨论 CR-1" in text for text in replies), replies
        [post] = [text for text in replies if text.startswith("💬 变更 CR-1 需要讨论")]
        assert post.startswith(
            "💬 变更 CR-1 需要讨论：1.2 截止 12-15 → 12-22\n请 @bob @erin @frank @alice"
        ), post
        assert (await requests(chat))[1].discussing and await dates(chat) == planned

        # alice taps "approve" on her card: 1.2 and what it pushes move in one go.
        toast, replies = await chat.click("alice", card, button=0)
        assert toast == ("✅ 已批准并执行 CR-1：1.2 截止 12-15 → 12-22" if platform == "feishu" else "")
        [answer] = [
            text for text in replies if text.startswith(("✅ 已批准", "〔新品发布 · 编号 1〕✅ 已批准"))
        ]
        assert impact in answer and "已私信告知 @bob、@erin、@frank" in answer, answer
        moved = await dates(chat)
        assert moved["1.2"] == (date(2026, 12, 6), date(2026, 12, 22))
        assert moved["2.1.1"] == (date(2026, 12, 23), date(2026, 12, 25))  # 3 workdays, as before
        assert moved["2.1.2"][1] == date(2027, 1, 15)
        assert moved["2.2"] == planned["2.2"]  # 2.1 still ends before it is due
        cr = (await requests(chat))[1]
        assert (cr.status, cr.kind, cr.target, cr.change, cr.baseline_number) == (
            "approved",
            "task.edit",
            "1.2",
            {"due": "2026-12-22"},
            1,
        )
        assert [m["code"] for m in (cr.impact or {})["moved"]] == ["2.1.1", "2.1.2"]

        # The requester and the owners of the moved tasks hear it privately, dates and all.
        told = {text.split("\n")[0] for text in replies if "变更 CR-1 已由 alice 批准并执行" in text}
        assert told == {"✅ 新品发布 · 变更 CR-1 已由 alice 批准并执行：1.2 截止 12-15 → 12-22"}
        assert sum("• ↪ 2.1.1 顺延：12-20 → 12-25" in text for text in replies) == 4  # 3 told + alice

        # Deciding it again is refused politely.
        await said(chat, "alice", "/变更 驳回 CR-1", "CR-1 已经批准过了，未再改动。")

        # The slip shows in /status (1, 1.2, 2.1, 2.1.1, 2.1.2) and the weekly report, with the impact.
        await said(chat, "erin", "/状态", "📐 相对基线 1：计划结束 ±0 个工作日 · 改期 5 项")
        report = await said(chat, "erin", "/周报", "📝 本周批准的变更（1）\n• CR-1 1.2 截止 12-15 → 12-22\n")
        assert impact in report
        await said(chat, "erin", "/变更列表", "✅ CR-1 · 已批准 · 1.2 截止 12-15 → 12-22 · @bob")


async def test_reject_discuss_and_a_pms_own_changes(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/基线 设定 首版", "📐 已设定基线 1")

        # Any member may ask, in the plan's own words, with a reason (kept as typed).
        _, cards = await answered(chat, "gina", "/变更 2.2 截止=2027-02-10 原因 推广排期，顺延", "CR-1 发给")
        assert set(cards) == {"alice"} and "原因：推广排期，顺延" in cards["alice"]
        _, cards = await answered(chat, "frank", "/变更 范围 iOS、安卓与鸿蒙 原因 客户要求", "CR-2 发给")
        assert "内容：范围内「iOS 与安卓」→「iOS、安卓与鸿蒙」" in cards["alice"]
        await answered(chat, "erin", "/变更 删除 2.1.2 原因 合并到 2.1.1", "CR-3 发给")
        await answered(chat, "bob", "/任务 添加 2.1.3 联调 @erin 截止=2027-01-15", "CR-4 发给")
        assert "2.1.3" not in await tasks_by_code(chat)

        # Discuss: asked in the group, still open.
        sent = await exchange(chat, "alice", "/变更 讨论 CR-1")
        [post] = [s for s in sent if s.kind in ("chat", "reply") and "需要讨论" in s.text]
        assert "gina" in post.text and "2.2 截止 2027-01-20 → 2027-02-10" in post.text
        await said(chat, "alice", "/变更列表", "⏳ CR-1 · 讨论中")

        # Reject: nothing applied, the requester told with the reason.
        _, told = await answered(
            chat, "alice", "/变更 驳回 CR-1 预算不够", "❌ 已驳回 CR-1", "说明：预算不够"
        )
        assert set(told) == {"gina"} and "说明：预算不够" in told["gina"]
        assert (await dates(chat))["2.2"] == (None, date(2027, 1, 20))
        await said(chat, "alice", "/变更 批准 CR-1", "CR-1 已经驳回了")

        # Typed approvals of a scope change, a delete and an add.
        _, told = await answered(
            chat, "alice", "/变更 批准 CR-2", "✅ 已批准并执行 CR-2", "已私信告知 @frank"
        )
        assert set(told) == {"frank"}
        await said(chat, "alice", "/章程 范围", "iOS、安卓与鸿蒙")
        await answered(chat, "alice", "/变更 批准 CR-3", "✅ 已批准并执行 CR-3：删除任务 2.1.2 接口实现")
        await answered(chat, "alice", "/变更 批准 CR-4", "✅ 已批准并执行 CR-4：新增任务 2.1.3 联调")
        codes = await tasks_by_code(chat)
        assert "2.1.2" not in codes and codes["2.1.3"].due_date == date(2027, 1, 15)

        # A PM's own edit applies at once, pushes its dependents, tells their owners, and is logged.
        _, told = await answered(
            chat,
            "alice",
            "/任务 修改 1.2 截止=12-18",
            "• ↪ 2.1.1 顺延：12-20 → 12-23",
            "📝 已记为基线 1 后的变更 CR-5",
        )
        assert set(told) == {"frank"}  # the owner of 2.1.1, which it pushed (2.1.2 is gone)
        assert (await dates(chat))["2.1.1"] == (date(2026, 12, 21), date(2026, 12, 23))
        await said(
            chat,
            "alice",
            "/里程碑 修改 1 截止=12-16",
            "• 🏁 #1 设计评审通过（12-16）将晚于 1.2 的完成日 12-18",
        )
        logged = await requests(chat)
        assert [(cr.number, cr.kind, cr.status) for cr in logged.values() if cr.number >= 5] == [
            (5, "task.edit", "approved"),
            (6, "milestone.edit", "approved"),
        ]
        # Undone: the edit, the pushes and the log go together.
        await said(chat, "alice", "/撤销", "删除了刚登记的 CR-6")
        await said(chat, "alice", "/撤销", "删除了刚登记的 CR-5")
        assert (await dates(chat))["2.1.1"] == (date(2026, 12, 16), date(2026, 12, 20))

        # In English, a milestone's date by its number; the list puts the open one first.
        await said(chat, "alice", "/config language en")
        await answered(
            chat,
            "gina",
            "/change M1 due=12-27 because the review moved",
            "⏳ This needs approval: sent to the PMs as CR-5",
            "Change: milestone #1 设计评审通过 due 12-20 → 12-27",
        )
        listed = await said(chat, "dan", "/changes", "📝 Changes (1 open · 5 in all)")
        assert listed.splitlines()[1].startswith("⏳ CR-5 · awaiting approval · milestone #1"), listed

        # A branch: a head may not ask to delete one; a PM deletes it once confirmed, logged as a change.
        await said(chat, "bob", "/task delete 2.1", "2.1 has 2 subtasks: a project manager deletes")
        await said(chat, "alice", "/task delete 2.1", "Delete 2.1")
        assert "2.1" in await tasks_by_code(chat)
        await said(chat, "alice", "/task delete 2.1 confirm", "deleted", "CR-6")
        assert not {"2.1", "2.1.1", "2.1.3"} & set(await tasks_by_code(chat))
