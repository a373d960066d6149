"""Views a PM asks for (/逾期, /我的任务 @某人, /部门 <名称>) and /提醒, end to end through the real
webhook path on every platform, SQLite and PostgreSQL. Refusals assert that nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, OutboxMessage, Project, RateCounter, Task
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan, fingerprint, said
from tests.services.test_tracking_commands import NOW, D, make_plan, snapshot


async def rows(chat: Chat, model: type, *where: ColumnElement[bool]) -> int:
    async with chat.runtime.factory() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- /逾期 ------------------------------------------------------------------------------------------


async def late_plan(chat: Chat) -> None:
    """make_plan, plus: 2.3 (后端) due 11-18; phase 3 due 11-20 by its own date though 3.1 is not
    late yet; dave moved into 后端 with A1 due 11-20; bob's A2 due 11-24; 11-24 a project holiday."""
    await make_plan(chat)
    await said(chat, "alice", "/任务 添加 2.3 接口联调 @bob 部门=后端 开始=11-16 截止=11-18", "2.3")
    await said(chat, "alice", "/阶段 添加 3 发布 结束=11-20", "阶段 3")
    await said(chat, "alice", "/任务 添加 3.1 发布准备 开始=11-16 截止=12-10", "3.1")
    await said(chat, "alice", "/成员 添加 @dave 后端", "后端")
    await said(chat, "alice", "/行动 添加 @dave 11-20 补齐接口文档", "A1")
    await said(chat, "alice", "/行动 添加 @bob 11-24 准备演示", "A2")
    await said(chat, "alice", "/行动 添加 @erin 12-02 还没到期", "A3")
    await said(chat, "alice", "/假期 添加 11-24 团建", "11-24")


async def test_overdue_by_department_in_project_workdays(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await late_plan(chat)
        card = await chat.one("zoe", "/逾期")  # anyone may look
        # Wednesday 11-25, 11-24 a holiday: 11-13 is 7 workdays ago, 11-18 4, 11-20 2, 11-24 1.
        # Phase 1 is late only through 1.2 (listed once, there); phase 3 by its own date.
        assert card.splitlines() == [
            "【🔴 逾期 5 项 · 11-25】",
            "后端（2）",
            "• 2.3 接口联调 · 0% · 逾期 4 个工作日（11-18）@bob",
            "• A1 补齐接口文档 · 逾期 2 个工作日（11-20）@dave",
            "未分部门（3）",
            "• 1.2 需求评审 · 50% · 逾期 7 个工作日（11-13）@bob",
            "• 3 发布 · 0% · 逾期 2 个工作日（11-20）无",
            "• A2 准备演示 · 逾期 1 个工作日（11-24）@bob",
        ]
        await said(chat, "bob", "/完成 1.2", "已完成")
        await said(chat, "alice", "/行动 完成 A1", "✅")
        card = await chat.one("zoe", "/overdue")
        assert "1.2" not in card and "A1" not in card and "【🔴 逾期 3 项 · 11-25】" in card
    # A Sunday after a Friday due date: late, though no workday has passed.
    async with chat_runtime(engine, platform=platform, now=datetime(2026, 11, 29, 2, tzinfo=UTC)) as chat:
        assert "• A1" not in (card := await chat.one("zoe", "/逾期"))
        assert "• 3 发布 · 0% · 逾期 4 个工作日（11-20）无" in card  # 11-23, 11-25, 11-26, 11-27
        await said(chat, "alice", "/任务 修改 3.1 截止=11-27", "3.1")
        card = await chat.one("zoe", "/逾期")
        assert "• 3.1 发布准备 · 0% · 逾期不足 1 个工作日（11-27）无" in card
        assert "• 3 发布" not in card  # late now through 3.1, listed once


async def test_overdue_pages_and_says_when_nothing_is_late(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await chat.say("alice", "/project new Big")
        assert await chat.one("zoe", "/overdue") == "👍 No task or action item is overdue."
        async with chat.runtime.factory() as s, s.begin():
            project = await s.scalar(select(Project))
            assert project is not None
            s.add_all(
                Task(
                    project_id=project.id,
                    code=str(number),
                    title=f"task {number}",
                    start_date=D("2026-11-02"),
                    due_date=D("2026-11-20"),
                    progress=10,
                    status="in_progress",
                    created_at=NOW,
                    updated_at=NOW,
                )
                for number in range(1, 36)
            )
        first = (await chat.one("zoe", "/overdue")).splitlines()
        assert first[:3] == [
            "【🔴 35 overdue · 11-25】",
            "No department (35)",
            "• 1 task 1 · 10% · 3 workdays late (11-20) none",
        ]
        assert first[-1] == "page 1/2, /overdue 2 for more"
        second = (await chat.one("zoe", "/overdue 2")).splitlines()
        assert second[1] == "• 30 task 30 · 10% · 3 workdays late (11-20) none"
        assert second[-1] == "page 2/2 (the last)"
        shown = [line for line in first + second if line.startswith("• ")]
        assert len(shown) == 35  # every one, none cut
        assert "There is no page 3; there are 2." in await chat.one("zoe", "/overdue 3")
        assert "/overdue [page]" in await chat.one("zoe", "/overdue soon")


# --- /我的任务 @某人 ------------------------------------------------------------------------------------


async def test_mytasks_of_someone_for_a_pm_or_their_head(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        await said(chat, "alice", "/成员 添加 @bob 后端", "后端")
        await said(chat, "alice", "/行动 添加 @bob 11-20 补齐接口文档", "A1")
        expected = [
            "【📝 成员任务 2 · 行动项 1】",
            "👤 @bob",
            "🔴 1.2 需求评审 · 50% · 逾期 12 天（11-13）",
            "• 2.1 后端接口 · 20% · 截止 12-04",
            "📌 行动项：",
            "🔴 A1 补齐接口文档 · 逾期 5 天（11-20）",
            "提醒 TA：/提醒 @bob <内容>",
        ]
        assert (await chat.one("alice", "/我的任务 @bob")).splitlines() == expected  # a PM
        assert (await chat.one("dave", "/我的任务 @bob")).splitlines() == expected  # bob's head
        mine = await chat.one("bob", "/我的任务 @bob")  # oneself: the usual card
        assert mine.startswith("【📝 我的任务 2 · 行动项 1】") and "👤" not in mine
        assert await chat.one("alice", "/我的任务 @dave") == "@dave 目前没有未完成的任务和行动项。"

        before = await snapshot(chat)
        refused = await chat.one("carol", "/我的任务 @bob")
        assert refused == "抱歉，只有项目经理或其部门负责人可以这样做。"
        assert "只有" in await chat.one("dave", "/我的任务 @erin")  # erin is not in his department
        assert "只有" in await chat.one("zoe", "/我的任务 @bob")
        assert await chat.one("alice", "/我的任务 @zoe") == "zoe 不是本项目成员。"
        assert "用法：/我的任务 [@某人]" in await chat.one("alice", "/我的任务 bob")
        assert "用法：" in await chat.one("alice", "/我的任务 @bob @carol")
        assert await snapshot(chat) == before


# --- /部门 <名称> ---------------------------------------------------------------------------------------


async def test_dept_shows_one_department(engine: AsyncEngine, platform: str) -> None:
    # Tuesday 12-22: 1.2 (due Tue 12-15) is 5 workdays late, 2.1.1 (due Sun 12-20) 2.
    async with chat_runtime(engine, platform=platform, now=datetime(2026, 12, 22, 2, tzinfo=UTC)) as chat:
        await build_plan(chat)
        await said(chat, "frank", "/进度 2.1.1 50", "50%")
        await said(chat, "erin", "/卡点 2.1.2 等待测试环境", "2.1.2")
        await said(chat, "alice", "/行动 添加 @erin 12-18 写接口文档", "A1")
        await said(chat, "alice", "/行动 添加 @gina 12-18 市场的", "A2")
        card = await chat.one("zoe", "/部门 研发")
        lines = card.splitlines()
        assert lines[:2] == ["【🏢 研发 · 12-22】", "负责人 @bob"]
        # 1.2 (10 days) and 2.1 over 2.1.1 (5 days, 50%) and 2.1.2 (21 days): 250 // 36 = 6%; the
        # plan has 1.2 and 2.1.1 done and 2.1.2 2 workdays in (13%): (1000 + 500 + 273) // 36 = 49%.
        assert lines[2] == "进度 6%（计划 49%）"
        assert lines[3:] == [
            "🔴 1.2 产品设计 · 0% · 逾期 5 个工作日（12-15）· @erin",
            "⛔ 2.1 后端开发 · 9% · 截止 2027-01-10 · @frank",
            "🔴 2.1.1 接口定义 · 50% · 逾期 2 个工作日（12-20）· @frank",
            "⛔ 2.1.2 接口实现 · 0% · 截止 2027-01-10 · @erin",
            "⛔ 未解除卡点 1 个：",
            "• 2.1.2 等待测试环境",
            "📌 逾期行动项 1 个：",
            "• A1 写接口文档 · 逾期 2 个工作日（12-18）@erin",
        ]
        assert await chat.one("zoe", "/部门 查看 研发") == card
        assert await chat.one("zoe", "/dept 研发") == card
        replies = await chat.say("erin", "/完成 1.2")  # and alice, its I, is told privately
        assert any("已完成" in reply for reply in replies) and len(replies) == 2
        done = (await chat.one("zoe", "/部门 研发")).splitlines()
        assert done.index("✅ 1.2 产品设计") == 6  # finished work after the open work

        # The group word still lists, and its sub-commands still work.
        assert "研发" in (listed := await chat.one("zoe", "/部门")) and "市场" in listed
        assert await chat.one("zoe", "/部门 列表") == listed
        before = await fingerprint(chat)
        assert "你是不是想写「研发」？" in await chat.one("zoe", "/部门 研髮")
        unknown = await chat.one("zoe", "/部门 财务")
        assert unknown.startswith("没有部门「财务」。现有部门：研发 / 市场 / 运营。\n用法：/部门 <名称>")
        assert (await chat.one("alice", "/部门 合并 研发")).startswith("没有部门「合并 研发」。")
        assert await fingerprint(chat) == before
        await said(chat, "alice", "/部门 添加 财务", "财务")
        assert "这个部门还没有任务。" in await chat.one("zoe", "/部门 财务")


async def answer(chat: Chat, user: str, line: str) -> str:
    """The bot's answer in the chat, whatever it also sent privately."""
    await chat.post(user, line)
    await chat.runtime.settle()
    (found,) = [sent.text for sent in chat.sent() if sent.kind != "user"]
    return found


# --- /提醒 -----------------------------------------------------------------------------------------------


async def test_nudge_sends_a_private_message_three_a_day(engine: AsyncEngine, platform: str) -> None:
    now = [NOW]
    async with chat_runtime(engine, platform=platform, clock=lambda: now[0]) as chat:
        await make_plan(chat)
        await chat.post("alice", "/提醒 @bob 记得更新 1.2 的进度，ＡＢ 全角照存")
        await chat.runtime.settle()
        sent = chat.sent()
        answered = [s.text for s in sent if s.kind != "user"]
        assert answered == ["📣 已私信提醒 @bob（今天第 1 次，最多 3 次）。"]
        private = [(s.target, s.text) for s in sent if s.kind == "user"]
        text = "记得更新 1.2 的进度，ＡＢ 全角照存"
        assert private == [("bob", f"📣 @alice 在项目「新品发布」提醒你：\n{text}")]
        async with chat.runtime.factory() as s:
            entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "nudge.send"))
            assert entry is not None and entry.actor_user_id == "alice"
            assert entry.after == {"to": "bob", "text": text}
        assert "第 2 次" in await answer(chat, "alice", "/提醒 @bob 二")
        assert "第 1 次" in await answer(chat, "dave", "/提醒 @bob 别人提醒的另算")
        assert "第 3 次" in await answer(chat, "alice", "/nudge @bob 三")

        async def state() -> tuple[object, ...]:
            async with chat.runtime.factory() as s:
                counters = set(
                    await s.execute(
                        select(RateCounter.key, RateCounter.count).where(RateCounter.scope == "nudge")
                    )
                )
            private = await rows(chat, OutboxMessage, OutboxMessage.idempotency_key.startswith("nudge:"))
            return (await snapshot(chat), private, counters)

        before = await state()
        assert before[1] == 4
        assert await chat.say("alice", "/提醒 @bob 四") == [
            "今天已经提醒过 @bob 3 次了，未发送；明天再试，或在群里 @TA。"
        ]
        assert await chat.say("zoe", "/提醒 @bob 你好") == ["抱歉，只有项目成员可以这样做。"]
        assert await chat.say("alice", "/提醒 @zoe 你好") == ["zoe 不是本项目成员。"]
        assert await chat.say("alice", "/提醒 @alice 自己") == ["不能提醒自己，未发送。"]
        assert "缺少参数：要提醒谁和提醒什么" in (await chat.say("alice", "/提醒 @bob"))[0]
        assert "缺少参数" in (await chat.say("alice", "/提醒 记得更新"))[0]
        assert "太长" in (await chat.say("alice", "/提醒 @bob " + "长" * 501))[0]
        assert await state() == before

        now[0] = NOW + timedelta(days=1)  # a new day in Shanghai
        assert "第 1 次" in await answer(chat, "alice", "/提醒 @bob 新的一天")


async def test_help_lists_the_views_with_who_may(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await make_plan(chat)
        overview = await chat.one("zoe", "/帮助")
        for line in (
            "/逾期 — 逾期的任务和行动项，按部门列出，逾期天数按工作日算",
            "/部门 — 查看一个部门的任务、进度、卡点和逾期（/部门 <名称>）",
            "/提醒 — 私信提醒一位项目成员（每天提醒同一人的次数有限）",
        ):
            assert line in overview
        assert "谁可以用：已加入项目的成员" in await chat.one("zoe", "/帮助 提醒")
        assert "谁可以用：本人；看别人的需项目经理或其部门负责人" in await chat.one("zoe", "/帮助 我的任务")
        dept = await chat.one("zoe", "/帮助 部门")
        assert "/部门 <名称>" in dept and "/部门 添加" in dept
        assert "任何人" in await chat.one("zoe", "/帮助 逾期")


async def test_views_in_english(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await make_plan(chat, english=True)
        await said(chat, "alice", "/member add @bob 后端", "后端")
        dept = await chat.one("zoe", "/dept 后端")
        assert dept.splitlines() == [
            "【🏢 后端 · 11-25】",
            "head @dave",
            "progress 20% (plan 53%)",  # 2.1 alone: 8 of its 15 workdays are past
            "• 2.1 后端接口 · 20% · due 12-04 · @bob",
        ]
        theirs = await chat.one("dave", "/mytasks @bob")
        assert theirs.splitlines()[:2] == ["【📝 Member's tasks 2 · action items 0】", "👤 @bob"]
        assert theirs.splitlines()[-1] == "Remind them: /nudge @bob <text>"
        refused = "Sorry, only a project manager or their department head can do that."
        assert await chat.one("carol", "/mytasks @bob") == refused
        assert await answer(chat, "dave", "/nudge @bob please update 2.1") == (
            "📣 Sent @bob a private reminder (1 of 3 today)."
        )
        assert (await chat.one("zoe", "/overdue")).splitlines() == [
            "【🔴 1 overdue · 11-25】",
            "No department (1)",  # bob's department now, but the task has none
            "• 1.2 需求评审 · 50% · 8 workdays late (11-13) @bob",
        ]
