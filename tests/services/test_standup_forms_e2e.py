"""The standup forms of issue 9 through the real webhook path on both platforms: signed requests
into the app, real SQL; each test asserts the tasks and blockers in the database and the answer.
The plan is the one of tests/scheduler/test_standup_jobs.py (bob: 1.2 at 40%, 2.1 at 20%)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Blocker, StandupReport
from tests.scheduler.test_standup_jobs import standup_day
from tests.services.test_standup_replies import count, dm, report, task


async def test_labels_in_the_middle_of_one_line(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "昨天：2.1 80% 今天：写方案 卡点：无")
        assert "昨天：2.1 80%\n今天：写方案\n卡点：无\n📈 2.1 后端接口 20% → 80%" in answer
        assert (await task(day, "2.1")).progress == 80 and await count(day, Blocker) == 0


async def test_labels_in_the_middle_of_an_english_line(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await dm(day, "bob", "Yesterday: drafted questions today: send survey blockers: legal approval")
        stored = await report(day, "bob")
        assert (stored.parsed["yesterday"], stored.parsed["today"], stored.parsed["blockers"]) == (
            "drafted questions",
            "send survey",
            "legal approval",
        )


async def test_a_blockers_label_in_the_dm_is_the_standup_not_the_blocker_command(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "卡点：无")
        assert answer.startswith("✅ 已记录你 11-25 的站会\n卡点：无")
        second = await dm(day, "bob", "卡点：第三方接口延迟", "10:00")
        assert "卡点：第三方接口延迟" in second and await count(day, StandupReport) == 1
        assert await count(day, Blocker) == 0  # no task named: the blocker is the report's text


async def test_no_blocker_then_progress_on_the_next_line(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "卡点：无\n2.1 80%")
        assert "📈 2.1 后端接口 20% → 80%" in answer and "⛔" not in answer
        t21 = await task(day, "2.1")
        assert (t21.progress, t21.status) == (80, "in_progress") and await count(day, Blocker) == 0


async def test_progress_in_words_bare_numbers_and_under_the_today_label(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "1.2 六成\n今天：2.1 45 percent")
        assert "📈 1.2 需求评审 40% → 60%" in answer and "📈 2.1 后端接口 20% → 45%" in answer
        assert (await task(day, "1.2")).progress == 60 and (await task(day, "2.1")).progress == 45
        again = await dm(day, "bob", "2.1 55", "10:00")
        assert "📈 2.1 后端接口 45% → 55%" in again and (await task(day, "2.1")).progress == 55


async def test_blockers_tied_to_tasks(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "Blocked on 2.1: vendor has not signed\nwaiting for the design (1.2)")
        assert "⛔ 2.1 后端接口 已标记受阻：vendor has not signed" in answer
        assert "⛔ 1.2 需求评审 已标记受阻：waiting for the design" in answer
        assert (await task(day, "2.1")).status == "blocked" and (await task(day, "1.2")).status == "blocked"
        assert await count(day, Blocker) == 2


async def test_several_percents_after_one_code_ask_for_the_overall_one(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "1.2 接口60%，文档20%\n2.1 30%")
        assert (
            "⚠️ 「1.2 接口60%，文档20%」有几个百分比，1.2 的整体进度是多少？未更新，请再发一条，如 1.2 60%"
            in answer
        )
        assert "📈 2.1 后端接口 20% → 30%" in answer
        assert (await task(day, "1.2")).progress == 40 and (await task(day, "2.1")).progress == 30
        assert (
            (await report(day, "bob")).parsed["yesterday"].startswith("1.2 接口60%,文档20%")
        )  # kept as the note


async def test_a_reply_naming_no_task_after_the_prompt_says_how_to_give_progress(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await day.run("standup-prompt", "2026-11-25", "09:30")
        answer = await dm(day, "bob", "接口还在写", "09:50")
        assert "没看出要更新哪个任务，已记为站会内容；更新进度可以写 2.1 80%" in answer
        assert await count(day, StandupReport) == 1


async def test_task_titles_instead_of_codes(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "昨天：需求评审 完成，后端接口90%")
        assert "🎉 1.2 需求评审 已完成" in answer and "📈 2.1 后端接口 20% → 90%" in answer
        assert (await task(day, "1.2")).status == "done" and (await task(day, "2.1")).progress == 90
        # "前端页面" is carol's task, not bob's: titles are matched among the sender's own tasks.
        await dm(day, "bob", "前端页面 done", "10:00")
        assert (await task(day, "2.2")).progress == 0
