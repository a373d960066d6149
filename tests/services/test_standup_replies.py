"""Standup replies end to end (real runtime, real SQL, SQLite and PostgreSQL): /standup, free text in
a 1:1 chat and replies to the prompt in the group update tasks with the /progress permissions, open
blockers, are stored per day and amended by a second reply. The plan is the one of
tests/scheduler/test_standup_jobs.py (bob: 1.2, 2.1; carol: R on 2.2; erin: 2.3; dave: done 1.1)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AuditEntry, Blocker, OutboxMessage, ProgressUpdate, StandupReport, Task
from tests.scheduler.test_standup_jobs import Standup, local, standup_day

DAY = "2026-11-25"
CORRECT = "有误？再发一条即可更正。卡点解决后发送 /卡点 解除 <编号>"
UNKNOWN = "没有这个命令"  # the start of the "unknown command" answer


async def dm(day: Standup, user: str, text: str, time: str = "09:45") -> str:
    """The answer in the 1:1 chat, without the project it names first (for a project member)."""
    answer = await day.say(user, text, day=DAY, time=time, chat=f"dm-{user}", chat_type="p2p")
    return re.sub(r"^〔[^〕]+ · (编号|id) 1〕", "", answer)


async def task(day: Standup, code: str) -> Task:
    async with day.chat.runtime.factory() as s:
        found = await s.scalar(select(Task).where(Task.code == code))
        assert found is not None
        return found


async def count(day: Standup, model: type[Any], *where: ColumnElement[bool]) -> int:
    async with day.chat.runtime.factory() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def report(day: Standup, user: str) -> StandupReport:
    member = await day.member(user)
    async with day.chat.runtime.factory() as s:
        found = await s.scalar(select(StandupReport).where(StandupReport.member_id == member.id))
        assert found is not None
        return found


async def test_a_free_text_reply_in_the_dm_updates_tasks_and_says_what_it_understood(
    engine: AsyncEngine,
    platform: str,
) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "昨天：1.2 完成，2.1 ８０％\n今天：联调 2.1\n卡点：无")
        assert answer == "\n".join(
            [
                "✅ 已记录你 11-25 的站会",
                "昨天：1.2 完成,2.1 80%",
                "今天：联调 2.1",
                "卡点：无",
                "🎉 1.2 需求评审 已完成",
                "📈 2.1 后端接口 20% → 80%",
                CORRECT,
            ]
        )
        t12, t21, phase1 = await task(day, "1.2"), await task(day, "2.1"), await task(day, "1")
        assert (t12.progress, t12.status) == (100, "done")
        assert (t21.progress, t21.status) == (80, "in_progress")
        assert phase1.progress == 100  # roll-ups refreshed like /progress
        bob = await day.member("bob")
        assert await count(day, ProgressUpdate, ProgressUpdate.source == "standup") == 2
        assert await count(day, ProgressUpdate, ProgressUpdate.author_member_id == bob.id) == 2
        stored = await report(day, "bob")
        assert stored.business_date.isoformat() == DAY
        assert stored.parsed["yesterday"] == "1.2 完成,2.1 80%" and stored.parsed["no_blocker"] is True
        assert stored.parsed["changes"] == {"1.2": [40, 100], "2.1": [20, 80]}
        async with day.chat.runtime.factory() as s:
            query = select(AuditEntry.action).where(AuditEntry.actor_user_id == "bob").order_by(AuditEntry.id)
            assert list(await s.scalars(query)) == ["task.progress", "task.progress", "standup.report"]


async def test_tasks_the_person_may_not_update_are_reported_back_not_changed(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "2.2 50%，2.3 完成，2.1 60%")
        assert "📈 2.1 后端接口 20% → 60%" in answer
        assert "⚠️ 2.2 不是你的任务，未更新。" in answer and "⚠️ 2.3 不是你的任务，未更新。" in answer
        assert (await task(day, "2.2")).progress == 0 and (await task(day, "2.3")).progress == 10
        # A task that cannot take the change says why, as /progress and /blocker would.
        parent = await day.say("frank", "/站会 任务2 50%", day=DAY, time="09:50")
        assert "⚠️ 2 的进度由子任务汇总而来" in parent
        done = await day.say("dave", "/站会 卡点：1.1 要返工，等测试", day=DAY, time="09:55")
        assert "⚠️ 1.1 已完成，不能登记卡点" in done
        assert await count(day, Blocker) == 0


async def test_a_second_reply_the_same_day_amends_the_first(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await dm(day, "bob", "写完接口\n联调\n无", "09:40")
        amended = await dm(day, "bob", "2.1 90%，卡点：2.1 等设计稿", "10:00")
        assert amended == "\n".join(
            [
                "✅ 已更新你 11-25 的站会（同一天的回复已合并）",
                "昨天：写完接口；2.1 90%",
                "今天：联调",
                "卡点：2.1 等设计稿",
                "📈 2.1 后端接口 20% → 90%",
                "⛔ 2.1 后端接口 已标记受阻：等设计稿",
                CORRECT,
            ]
        )
        assert (await task(day, "2.1")).status == "blocked"
        # Saying it again changes nothing: no new progress record, no second blocker.
        again = await dm(day, "bob", "2.1 90%，卡点：2.1 等设计稿", "10:10")
        assert "📈" not in again and "⛔" not in again
        assert await count(day, ProgressUpdate) == 1 and await count(day, Blocker) == 1
        # A labelled section replaces the earlier answer; a new value is applied.
        corrected = await dm(day, "bob", "2.1 95%\n今天：写文档", "10:20")
        assert "今天：写文档\n" in corrected and "📈 2.1 后端接口 90% → 95%" in corrected
        stored = await report(day, "bob")
        assert stored.parsed["today"] == "写文档"
        assert stored.parsed["changes"] == {"2.1": [20, 95]}
        replies = ["写完接口\n联调\n无", *["2.1 90%，卡点：2.1 等设计稿"] * 2, "2.1 95%\n今天：写文档"]
        assert stored.text == "\n".join(replies)  # every reply as typed
        assert await count(day, StandupReport) == 1
        assert await count(day, AuditEntry, AuditEntry.action == "standup.amend") == 3


async def test_free_text_in_the_dm_needs_open_tasks_and_a_standup_or_a_prompt(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        assert (await dm(day, "alice", "2.1 80%")).startswith(UNKNOWN)  # alice has no task
        assert (await dm(day, "dave", "昨天：评审")).startswith(UNKNOWN)  # dave's task is done
        assert (await dm(day, "bob", "接口还在写")).startswith(UNKNOWN)  # not a standup, not prompted
        assert (await dm(day, "bob", "/frobnicate 2.1 80%")).startswith(UNKNOWN)
        assert await count(day, StandupReport) == 0

        await day.run("standup-prompt", DAY, "09:30")
        answer = await dm(day, "bob", "接口还在写", "09:50")  # after the prompt, any reply is the answer
        assert answer.startswith("✅ 已记录你 11-25 的站会\n昨天：接口还在写")


async def test_a_reply_to_the_group_prompt_is_a_standup_other_group_text_is_not(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await day.update(standup_mode="group")
        await day.run("standup-prompt", DAY, "09:30")
        async with day.chat.runtime.factory() as s:
            prompt_id = await s.scalar(
                select(OutboxMessage.platform_message_id).where(
                    OutboxMessage.idempotency_key.startswith("standup-prompt:")
                )
            )
        assert prompt_id is not None

        async def group(user: str, text: str, reply_to: str | None) -> str:
            day.clock.now = local(DAY, "09:50")
            return await day.chat.one(user, text, reply_to=reply_to)

        assert (await group("carol", "2.2 30%，今天继续", None)).startswith(UNKNOWN)
        if platform == "dingtalk":
            # DingTalk's robot callbacks do not say which message a reply quotes (and its group send
            # API returns no message id to match): there a standup is sent with /站会 or privately.
            return
        answer = await group("carol", "2.2 30%，今天继续", prompt_id)
        assert "📈 2.2 前端页面 0% → 30%" in answer
        assert (await group("erin", "2.3 50%", "om_another_message")).startswith(UNKNOWN)


async def test_the_standup_command(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        mine = await day.say("bob", "/站会", day=DAY, time="09:40")
        assert mine.startswith("【☀️ 站会 · 11-25】\n你有 2 个未完成的任务：\n🔴 1.2 需求评审")
        assert await day.say("alice", "/standup", day=DAY, time="09:40") == (
            "你目前没有未完成的任务。有进展也可以发送 /站会 <内容> 汇报。"
        )
        # Lines survive the command word, so unlabelled answers keep their order.
        answer = await day.say("erin", "/站会 写用例\n2.3 60%\n继续测试\n无", day=DAY, time="09:45")
        assert answer.startswith(
            "✅ 已记录你 11-25 的站会\n昨天：写用例；2.3 60%\n今天：继续测试\n卡点：无\n"
        )
        assert (await task(day, "2.3")).progress == 60


async def test_replies_in_english_for_an_english_project(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        answer = await dm(day, "bob", "Yesterday: 2.1 done\nToday: 1.2 review\nBlockers: none")
        assert answer == "\n".join(
            [
                "✅ Got your standup for 11-25",
                "Yesterday: 2.1 done",
                "Today: 1.2 review",
                "Blockers: none",
                "🎉 2.1 后端接口 is done",
                "Anything wrong? Just send a correction. Once a blocker is solved: /blocker clear <code>",
            ]
        )
