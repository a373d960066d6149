"""The standup forms of issue 9 through the real webhook path on both platforms: signed requests
into the app, real SQL; each test asserts the tasks and blockers in the database and the answer.
The plan is the one of tests/scheduler/test_standup_jobs.py (bob: 1.2 at 40%, 2.1 at 20%; carol: R
on 2.2; erin: 2.3; dave: only 1.1, done), with `more_tasks` the codes the issue's examples use."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Blocker, ProgressUpdate, RaciAssignment, StandupReport, Task
from tests.scheduler.test_standup_jobs import Standup, standup_day
from tests.services.test_standup_replies import CORRECT, UNKNOWN, count, dm, report, task

# code, title, owner, %: bob's further tasks (and bob becomes R on erin's 2.3).
MORE = (
    ("1.3", "数据采集", "bob", 0),
    ("1.4", "Survey design", "bob", 10),
    ("2.4", "供应商对接", "bob", 0),
    ("3", "调研", None, 0),
    ("3.1", "问卷设计", "bob", 0),
    ("3.2", "用户访谈", "bob", 0),
    ("3.3", "合同签署", "bob", 0),
)
CORRECT_EN = "Anything wrong? Just send a correction. Once a blocker is solved: /blocker clear <code>"


async def more_tasks(day: Standup, *rows: tuple[str, str, str | None, int]) -> None:
    """Add tasks (code, title, owner, %) to the plan; without rows, MORE and bob as R on 2.3."""
    owners = {name: (await day.member(name)).id for name in ("bob", "carol")}
    now = day.clock.now
    await day.add(
        *(
            Task(
                project_id=day.project_id,
                code=code,
                title=title,
                progress=progress,
                status="in_progress" if progress else "not_started",
                owner_member_id=owners[owner] if owner else None,
                created_at=now,
                updated_at=now,
            )
            for code, title, owner, progress in rows or MORE
        )
    )
    if not rows:
        await day.add(RaciAssignment(task_id=(await task(day, "2.3")).id, member_id=owners["bob"], role="R"))


async def dm_on(day: Standup, user: str, text: str, date: str, time: str = "09:45") -> str:
    """The answer in the 1:1 chat on another day than dm's, without the project header."""
    answer = await day.say(user, text, day=date, time=time, chat=f"dm-{user}", chat_type="p2p")
    return re.sub(r"^〔[^〕]+ · (编号|id) 1〕", "", answer)


async def report_of(day: Standup, user: str, on: str) -> StandupReport:
    member = await day.member(user)
    async with day.chat.runtime.factory() as s:
        found = await s.scalar(
            select(StandupReport).where(
                StandupReport.member_id == member.id, StandupReport.business_date == date.fromisoformat(on)
            )
        )
        assert found is not None
        return found


async def group(day: Standup, user: str, text: str, time: str = "09:45") -> str:
    return await day.say(user, text, day="2026-11-25", time=time)


async def progress_of(day: Standup, *codes: str) -> list[int]:
    return [(await task(day, code)).progress for code in codes]


async def test_labels_in_the_middle_of_one_line(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "昨天：2.1 80% 今天：写方案 卡点：无")
        assert "昨天：2.1 80%\n今天：写方案\n卡点：无\n📈 2.1 后端接口 20% → 80%" in answer
        assert (await task(day, "2.1")).progress == 80 and await count(day, Blocker) == 0


async def test_labels_in_the_middle_of_an_english_line(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(
            day, "bob", "Yesterday: drafted questions today: send survey blockers: legal approval"
        )
        assert answer == "\n".join(
            [
                "✅ 已记录你 11-25 的站会",
                "昨天：drafted questions",
                "今天：send survey",
                "卡点：legal approval",
                CORRECT,
            ]
        )
        assert await count(day, Blocker) == 0  # no task named: the blocker is the report's text
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


# --- every standup example of the issue ------------------------------------------------------------


async def test_the_three_answers_on_one_line(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "昨天：整理需求 今天：写方案 卡点：无")
        assert answer == "\n".join(
            ["✅ 已记录你 11-25 的站会", "昨天：整理需求", "今天：写方案", "卡点：无", CORRECT]
        )
        stored = await report(day, "bob")
        assert (stored.parsed["yesterday"], stored.parsed["today"], stored.parsed["no_blocker"]) == (
            "整理需求",
            "写方案",
            True,
        )
        assert await count(day, ProgressUpdate) == 0 and await count(day, Blocker) == 0


async def test_every_no_blocker_word_then_a_task_on_a_later_line(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        before = 20
        for minute, (none, value) in enumerate(
            [("无", 30), ("没有", 40), ("暂无", 50), ("none", 60), ("n/a", 70), ("nothing", 80)]
        ):
            answer = await dm(day, "bob", f"卡点：{none}\n2.1 {value}%", f"10:{minute:02d}")
            assert "\n卡点：无\n" in answer and f"📈 2.1 后端接口 {before}% → {value}%" in answer
            assert "⛔" not in answer and "⚠️" not in answer
            before = value
        t21 = await task(day, "2.1")
        assert (t21.progress, t21.status) == (80, "in_progress") and await count(day, Blocker) == 0


async def test_every_progress_form_of_the_issue(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await more_tasks(day)
        steps: list[tuple[str, list[str]]] = [
            ("2.1 80%", ["📈 2.1 后端接口 20% → 80%"]),
            ("3.1：６５％", ["📈 3.1 问卷设计 0% → 65%"]),
            ("任务3.2完成70%", ["📈 3.2 用户访谈 0% → 70%"]),
            ("2.3：40%；1.4：75%", ["📈 2.3 测试 10% → 40%", "📈 1.4 Survey design 10% → 75%"]),
            (
                "1.3 10%\n2.4 20%\n3.3 30%",
                ["📈 1.3 数据采集 0% → 10%", "📈 2.4 供应商对接 0% → 20%", "📈 3.3 合同签署 0% → 30%"],
            ),
            ("2.4 45 percent", ["📈 2.4 供应商对接 20% → 45%"]),
            ("3.1 55", ["📈 3.1 问卷设计 65% → 55%"]),
            ("3.2 六成", ["📈 3.2 用户访谈 70% → 60%"]),
            ("1.3 百分之六十", ["📈 1.3 数据采集 10% → 60%"]),
            ("3.3 八十%", ["📈 3.3 合同签署 30% → 80%"]),
            ("昨天：2.3 50%\n今天：1.4 90%", ["📈 2.3 测试 40% → 50%", "📈 1.4 Survey design 75% → 90%"]),
            ("2.1 完成", ["🎉 2.1 后端接口 已完成"]),
            ("1.3 done", ["🎉 1.3 数据采集 已完成"]),
            ("1.4 finished", ["🎉 1.4 Survey design 已完成"]),
            ("2.4 搞定", ["🎉 2.4 供应商对接 已完成"]),
        ]
        for minute, (text, changes) in enumerate(steps):
            answer = await dm(day, "bob", text, f"10:{minute:02d}")
            assert all(change in answer for change in changes), (text, answer)
            assert "⚠️" not in answer, answer
        codes = ("2.1", "3.1", "3.2", "2.3", "1.4", "1.3", "2.4", "3.3")
        assert await progress_of(day, *codes) == [100, 55, 60, 50, 100, 100, 100, 80]
        assert await count(day, ProgressUpdate) == 19 and await count(day, StandupReport) == 1


async def test_every_blocker_form_of_the_issue(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await more_tasks(day)
        steps = [
            (
                "bob",
                "Blocked on 3.3: vendor has not signed",
                "⛔ 3.3 合同签署 已标记受阻：vendor has not signed",
            ),
            ("bob", "卡点：等供应商报价（2.4）", "⛔ 2.4 供应商对接 已标记受阻：等供应商报价"),
            (
                "bob",
                "昨天：写接口 遇到卡点：测试环境未就绪 2.3",
                "⛔ 2.3 测试 已标记受阻：测试环境未就绪 2.3",
            ),
            ("bob", "1.3 卡住了，在等数据", "⛔ 1.3 数据采集 已标记受阻：在等数据"),
            ("bob", "stuck on 2.1", "⛔ 2.1 后端接口 已标记受阻：stuck on 2.1"),
            ("carol", "waiting for the design (2.2)", "⛔ 2.2 前端页面 已标记受阻：waiting for the design"),
        ]
        for minute, (user, text, opened) in enumerate(steps):
            answer = await dm(day, user, text, f"10:{minute:02d}")
            assert opened in answer, answer
        for code in ("3.3", "2.4", "2.3", "1.3", "2.1", "2.2"):
            assert (await task(day, code)).status == "blocked"
        assert await count(day, Blocker, Blocker.status == "open") == 6


async def test_titles_of_ones_own_tasks(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await more_tasks(day)
        answer = await dm(day, "bob", "昨天完成了问卷设计90%，用户访谈20%", "10:00")
        assert "📈 3.1 问卷设计 0% → 90%" in answer and "📈 3.2 用户访谈 0% → 20%" in answer
        assert "🎉 3.1 问卷设计 已完成" in await dm(day, "bob", "问卷设计 done", "10:01")
        assert "🎉 3.2 用户访谈 已完成" in await dm(day, "bob", "完成了用户访谈 👍", "10:02")
        assert "🎉 1.4 Survey design 已完成" in await dm(day, "bob", "finished the survey design", "10:03")
        assert await progress_of(day, "3.1", "3.2", "1.4") == [100, 100, 100]


async def test_a_title_two_of_ones_tasks_share_is_asked_about(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await more_tasks(day, ("3.1", "问卷设计", "bob", 0), ("3.2", "问卷设计", "bob", 30))
        answer = await dm(day, "bob", "完成了问卷设计")
        assert "⚠️ 「问卷设计」是你的哪个任务（3.1 / 3.2）？未更新，请写编号，如 2.1 60%" in answer
        assert "🎉" not in answer and "没看懂" not in answer
        assert await progress_of(day, "3.1", "3.2") == [0, 30] and await count(day, ProgressUpdate) == 0


# --- 同上 / same as yesterday ------------------------------------------------------------------------


async def test_same_as_yesterday_carries_the_plan_and_keeps_open_blockers(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await dm_on(day, "bob", "昨天：整理需求 今天：写方案 卡点：2.1 等设计稿", "2026-11-24")
        answer = await dm(day, "bob", "同上👍")
        assert answer == "\n".join(
            [
                "✅ 已记录你 11-25 的站会",
                "↩️ 同上次（11-24）：上次的今天计划记为已完成，今天计划不变，未改任何进度",
                "昨天：写方案",
                "今天：写方案",
                "仍未解决的卡点（保持不变）：",
                "⛔ 2.1 后端接口：等设计稿",
                CORRECT,
            ]
        )
        today = await report_of(day, "bob", "2026-11-25")
        assert today.text == "同上👍"
        assert (today.parsed["yesterday"], today.parsed["today"], today.parsed["blocked"]) == (
            "写方案",
            "写方案",
            {},
        )
        assert await count(day, Blocker) == 1 and await count(day, Blocker, Blocker.status == "open") == 1
        assert await count(day, ProgressUpdate) == 0 and await progress_of(day, "1.2", "2.1") == [40, 20]


async def test_same_as_yesterday_in_english_with_the_command(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        await day.say(
            "erin",
            "/standup Yesterday: wrote cases Today: run tests Blockers: none",
            day="2026-11-24",
            time="09:40",
        )
        answer = await group(day, "erin", "/standup Same as yesterday!")
        assert answer == "\n".join(
            [
                "✅ Got your standup for 11-25",
                "↩️ Same as last time (11-24): that plan counted as done, today's plan unchanged, "
                "no progress changed",
                "Yesterday: run tests",
                "Today: run tests",
                "Blockers: none open",
                CORRECT_EN,
            ]
        )
        assert (await report_of(day, "erin", "2026-11-25")).parsed["yesterday"] == "run tests"
        assert await count(day, ProgressUpdate) == 0 and await count(day, Blocker) == 0


async def test_same_as_yesterday_without_an_earlier_report_asks_and_stores_nothing(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        ask = (
            "还没有你之前的站会计划可以沿用，未记录。"
            "请写 昨天 / 今天 / 卡点，如「昨天：整理需求 今天：写方案 卡点：无」"
        )
        assert await dm(day, "carol", "和昨天一样～") == ask
        assert await group(day, "dave", "/站会 同上", "09:50") == ask  # dave has no open task
        # An earlier report without a plan has nothing to carry either.
        await dm_on(day, "bob", "卡点：无", "2026-11-24")
        assert await dm(day, "bob", "same", "10:00") == ask
        assert await count(day, StandupReport) == 1 and await count(day, ProgressUpdate) == 0


async def test_same_as_yesterday_without_an_earlier_report_in_english(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        answer = await group(day, "erin", "/standup same as yesterday")
        assert answer.startswith("There is no earlier standup of yours to repeat, so nothing was recorded.")
        assert await count(day, StandupReport) == 0


# --- members without an open task -------------------------------------------------------------------


async def test_members_without_open_tasks_may_report_and_count_as_reported(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await day.run("standup-prompt", "2026-11-25", "09:30")
        assert "10% → 100%" in await group(day, "erin", "/进度 2.3 100%", "09:35")  # her last open task
        answer = await dm(day, "erin", "测完了，今天写总结", "09:40")  # free text after the prompt
        assert answer.startswith("✅ 已记录你 11-25 的站会\n昨天：测完了")
        answer = await group(day, "dave", "/站会 昨天：复盘 今天：写文档 卡点：无", "09:45")  # never prompted
        assert answer.startswith("✅ 已记录你 11-25 的站会\n昨天：复盘\n今天：写文档\n卡点：无")
        assert (await dm(day, "dave", "昨天：评审", "09:46")).startswith(UNKNOWN)  # unprompted free text
        await dm(day, "bob", "2.1 80%", "09:50")
        assert await count(day, StandupReport) == 3
        summary = [
            text
            for kind, _, text in await day.run("standup-summary", "2026-11-25", "11:00")
            if kind == "chat"
        ]
        assert summary[0].startswith("【📋 站会小结 · 11-25】\n✅ 已汇报 3/4：@erin @dave @bob\n")
        assert "❓ 未汇报 1 人：@carol" in summary[0]


# --- a later reply the same day --------------------------------------------------------------------


async def test_a_later_reply_applies_what_changed_in_between(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        assert "📈 2.1 后端接口 20% → 80%" in await dm(day, "bob", "2.1 80%", "09:40")
        assert "80% → 50%" in await group(day, "alice", "/进度 2.1 50%", "09:50")
        assert "📈 2.1 后端接口 50% → 80%" in await dm(day, "bob", "2.1 80%", "10:00")
        assert "📈" not in await dm(day, "bob", "2.1 80%", "10:10")  # said already, and still so
        assert (await task(day, "2.1")).progress == 80 and await count(day, ProgressUpdate) == 3

        assert "⛔ 2.1 后端接口 已标记受阻：等设计稿" in await dm(day, "bob", "卡点：2.1 等设计稿", "10:20")
        await group(day, "alice", "/卡点 解除 2.1", "10:30")
        assert (await task(day, "2.1")).status == "in_progress"
        assert "⛔ 2.1 后端接口 已标记受阻：等设计稿" in await dm(day, "bob", "卡点：2.1 等设计稿", "10:40")
        assert "⛔" not in await dm(day, "bob", "2.1 卡住了", "10:50")  # the one of today is still open
        assert (await task(day, "2.1")).status == "blocked"
        assert await count(day, Blocker) == 2 and await count(day, Blocker, Blocker.status == "open") == 1


async def test_a_blocker_open_since_an_earlier_day_is_not_opened_again(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await day.say("bob", "/卡点 1.2 等评审会", day="2026-11-24", time="16:00")
        answer = await dm(day, "bob", "卡点：1.2 等评审会")
        assert "⛔" not in answer and await count(day, Blocker) == 1
        # Another blocker of the same task is one more.
        assert "⛔ 1.2 需求评审 已标记受阻：缺数据" in await dm(day, "bob", "卡点：1.2 缺数据", "10:00")
        assert await count(day, Blocker, Blocker.status == "open") == 2


# --- what could not be applied is named -------------------------------------------------------------


async def test_fragments_not_understood_are_quoted_as_typed(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await group(day, "bob", "/站会 80%", "09:40")
        assert answer == "\n".join(
            ["✅ 已记录你 11-25 的站会", "昨天：80%", "⚠️ 没看懂「80%」，可以写 2.1 80%", CORRECT]
        )
        answer = await dm(day, "bob", "2.1 六成\n9.9 50%", "09:50")
        assert "📈 2.1 后端接口 20% → 60%" in answer
        assert "⚠️ 没有任务 9.9：「9.9 50%」未更新，请检查编号" in answer
        answer = await dm(day, "bob", "昨天：接口写了８０％ 今天：联调", "10:00")
        assert "⚠️ 没看懂「接口写了８０％」，可以写 2.1 80%" in answer
        answer = await dm(day, "bob", "1.2 差不多了，2.1 七成", "10:10")
        assert "⚠️ 没看懂「1.2 差不多了」，可以写 1.2 80%" in answer and "📈 2.1 后端接口 60% → 70%" in answer
        assert "⚠️" not in await dm(day, "bob", "昨天：整理需求", "10:20")  # prose is just the answer
        assert await progress_of(day, "1.2", "2.1") == [40, 70] and await count(day, ProgressUpdate) == 2
        assert (await report(day, "bob")).text.startswith("80%\n2.1 六成\n9.9 50%\n")  # stored as typed


async def test_fragments_not_understood_in_english(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        answer = await group(day, "bob", "/standup yesterday: about 60% of the API; 9.9 done")
        assert "⚠️ Could not read “about 60% of the API”; write e.g. 2.1 80%" in answer
        assert "⚠️ There is no task 9.9: “9.9 done” not applied; check the code" in answer
        assert await count(day, ProgressUpdate) == 0


async def test_every_reason_a_reply_part_was_not_applied(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await more_tasks(
            day,
            ("2.1.1", "接口设计", "bob", 20),
            ("2.2.1", "页面设计", "carol", 0),
            ("3.1", "问卷设计", "bob", 0),
            ("3.2", "问卷设计", "bob", 0),
        )
        answer = await dm(day, "bob", "2.2.1 50%\n2.1 80%\n1.2 接口60%，文档20%\n问卷设计 done\n9.9 50%\n80%")
        for reason in (
            "⚠️ 2.2.1 不是你的任务，未更新。",
            "⚠️ 2.1 的进度由子任务汇总而来，请更新子任务：2.1.1",
            "⚠️ 「1.2 接口60%，文档20%」有几个百分比，1.2 的整体进度是多少？未更新，请再发一条，如 1.2 60%",
            "⚠️ 「问卷设计」是你的哪个任务（3.1 / 3.2）？未更新，请写编号，如 2.1 60%",
            "⚠️ 没有任务 9.9：「9.9 50%」未更新，请检查编号",
            "⚠️ 没看懂「80%」，可以写 2.1 80%",
        ):
            assert reason in answer, answer
        assert "📈" not in answer and "🎉" not in answer
        assert await progress_of(day, "2.2.1", "2.1", "1.2", "3.1", "3.2") == [0, 20, 40, 0, 0]
        assert await count(day, ProgressUpdate) == 0 and await count(day, Blocker) == 0


async def test_reasons_in_english(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        answer = await group(day, "bob", "/standup 2.2 50%, 1.2 frontend 60% docs 20%")
        assert "⚠️ 2.2 is not one of your tasks; not updated." in answer
        assert (
            "⚠️ “1.2 frontend 60% docs 20%” has several percentages: what is 1.2's overall progress?" in answer
        )
        assert await progress_of(day, "2.2", "1.2") == [0, 40] and await count(day, ProgressUpdate) == 0


async def test_mixed_languages(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer = await dm(day, "bob", "Yesterday: 2.1 完成 今天：review 1.2 卡点：none")
        assert answer == "\n".join(
            [
                "✅ 已记录你 11-25 的站会",
                "昨天：2.1 完成",
                "今天：review 1.2",
                "卡点：无",
                "🎉 2.1 后端接口 已完成",
                CORRECT,
            ]
        )
        assert (await task(day, "2.1")).status == "done" and (await task(day, "1.2")).progress == 40
        # In a 1:1 chat a group word before a code names the task; it is not the group's usage.
        assert "🎉 1.2 需求评审 已完成" in await dm(day, "bob", "task 1.2 done", "10:00")
        assert "📋 任务 · 新品发布】" in await dm(day, "bob", "任务", "10:01")  # the word alone still lists


async def test_later_replies_and_members_without_tasks_in_english(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        answer = await group(day, "dave", "/standup Yesterday: review Today: docs Blockers: none", "09:40")
        assert answer.startswith(
            "✅ Got your standup for 11-25\nYesterday: review\nToday: docs\nBlockers: none\n"
        )
        assert "20% → 80%" in await group(day, "bob", "/standup 2.1 80%", "09:41")
        await group(day, "alice", "/progress 2.1 50%", "09:42")
        assert "📈 2.1 后端接口 50% → 80%" in await group(day, "bob", "/standup 2.1 80%", "09:43")
        opened = "⛔ 2.1 后端接口 marked blocked: design"
        assert opened in await dm(day, "bob", "Blocked on 2.1: design", "09:44")
        await group(day, "alice", "/blocker clear 2.1", "09:45")
        assert opened in await dm(day, "bob", "Blocked on 2.1: design", "09:46")
        assert "⛔" not in await dm(day, "bob", "Blocked on 2.1: design", "09:47")
        assert await count(day, Blocker) == 2 and await count(day, Blocker, Blocker.status == "open") == 1
        assert await count(day, StandupReport) == 2 and (await task(day, "2.1")).progress == 80
        summary = [
            text
            for kind, _, text in await day.run("standup-summary", "2026-11-25", "11:00")
            if kind == "chat"
        ]
        assert "✅ Reported 2/4: @dave @bob" in summary[0]
