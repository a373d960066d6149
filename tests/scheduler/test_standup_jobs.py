"""The standup jobs at frozen times (workday, weekend, official holiday, make-up Saturday, project
holiday and workday, leave), through the real runner, runtime, outbox and SQL: exactly which
messages go out, to whom, with what content; a second run sends nothing new.

The plan (Asia/Shanghai; 2026-11-25 is a Wednesday; alice is the PM and has no task):

    1 需求   1.1 需求调研 100% (dave)   1.2 需求评审 40% due 11-20 (bob)
    2 开发 (owner frank: a parent, rolled up)
             2.1 后端接口 20% due 12-04 (bob)   2.2 前端页面 0% (R carol)   2.3 测试 10% due 12-10 (erin)

so bob, carol and erin owe a standup; dave's only task is done and frank's is a parent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import Blocker, CalendarOverride, Leave, Member, Project, RaciAssignment, Task
from tests.harness import Chat, Sent, api_call, chat_runtime

TZ = ZoneInfo("Asia/Shanghai")
STANDUP_JOBS = tuple(JOBS_BY_NAME[name] for name in ("standup-prompt", "standup-remind", "standup-summary"))


def local(day: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TZ).astimezone(UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Standup:
    chat: Chat
    clock: Clock
    runner: JobRunner
    project_id: int
    last: list[Sent] = field(default_factory=list)  # what the last run or tick delivered

    async def run(self, job: str, day: str, time: str) -> list[tuple[str, str, str]]:
        """Run one job as of that local time; (kind, id, text) of what it sent, read from the platform
        API calls: ("user", user id) a 1:1 message, ("chat", chat id) a post to a chat."""
        self.clock.now = local(day, time)
        outcomes = await self.runner.run_job(JOBS_BY_NAME[job], at=self.clock.now, project_id=self.project_id)
        assert [outcome.status for outcome in outcomes] == ["done"]
        return await self.delivered()

    async def delivered(self) -> list[tuple[str, str, str]]:
        await self.chat.runtime.settle()
        self.last = self.chat.sent()
        found = [(sent.kind, sent.target, sent.text) for sent in self.last]
        # The outbox sends to different chats concurrently: only the order within one chat holds.
        return sorted(found, key=lambda message: message[:2])

    async def say(self, user: str, line: str, *, day: str, time: str, **kwargs: str) -> str:
        self.clock.now = local(day, time)
        return await self.chat.one(user, line, **kwargs)

    async def update(self, **fields: object) -> None:
        async with self.chat.runtime.factory() as s, s.begin():
            project = await s.get(Project, self.project_id)
            assert project is not None
            for name, value in fields.items():
                setattr(project, name, value)

    async def add(self, *rows: object) -> None:
        async with self.chat.runtime.factory() as s, s.begin():
            s.add_all(rows)

    async def member(self, name: str) -> Member:
        async with self.chat.runtime.factory() as s:
            found = await s.scalar(select(Member).where(Member.platform_user_id == name))
            assert found is not None
            return found


async def _seed(chat: Chat, *, english: bool) -> int:
    await chat.say("alice", "/project new Launch" if english else "/项目 新建 新品发布")
    created = datetime(2026, 11, 2, tzinfo=UTC)
    async with chat.runtime.factory() as s, s.begin():
        project = await s.scalar(select(Project))
        assert project is not None
        people = {
            name: Member(
                project_id=project.id,
                platform=chat.platform,
                platform_user_id=name,
                display_name=name,
                created_at=created,
            )
            for name in ("bob", "carol", "dave", "erin", "frank")
        }
        s.add_all(people.values())
        await s.flush()

        def task(
            code: str, title: str, progress: int, owner: str | None = None, due: str | None = None
        ) -> Task:
            status = "done" if progress == 100 else "in_progress" if progress else "not_started"
            return Task(
                project_id=project.id,
                code=code,
                title=title,
                progress=progress,
                status=status,
                owner_member_id=people[owner].id if owner else None,
                due_date=date.fromisoformat(due) if due else None,
                created_at=created,
                updated_at=created,
            )

        rows = [
            task("1", "需求", 70),
            task("1.1", "需求调研", 100, "dave"),
            task("1.2", "需求评审", 40, "bob", "2026-11-20"),
            task("2", "开发", 10, "frank"),
            task("2.1", "后端接口", 20, "bob", "2026-12-04"),
            task("2.2", "前端页面", 0),
            task("2.3", "测试", 10, "erin", "2026-12-10"),
        ]
        s.add_all(rows)
        await s.flush()
        s.add_all(
            [
                RaciAssignment(task_id=rows[5].id, member_id=people["carol"].id, role="R"),
                RaciAssignment(task_id=rows[5].id, member_id=people["frank"].id, role="A"),
            ]
        )
        return project.id


@asynccontextmanager
async def standup_day(engine: AsyncEngine, platform: str, *, english: bool = False) -> AsyncIterator[Standup]:
    """The seeded project on `platform`, with a clock the test moves."""
    clock = Clock(local("2026-11-25", "09:00"))
    async with chat_runtime(engine, platform=platform, clock=clock) as chat:
        project_id = await _seed(chat, english=english)
        yield Standup(chat, clock, JobRunner(chat.runtime.factory, clock, jobs=STANDUP_JOBS), project_id)


def _to(messages: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(kind, target) for kind, target, _ in messages]


def _text(messages: list[tuple[str, str, str]], target: str) -> str:
    [text] = [text for _, to, text in messages if to == target]
    return text


# --- prompt -----------------------------------------------------------------------------------------


async def test_prompt_goes_privately_to_each_person_with_open_tasks(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        sent = await day.run("standup-prompt", "2026-11-25", "09:30")
        assert _to(sent) == [("user", "bob"), ("user", "carol"), ("user", "erin")]
        # Each by the platform's 1:1 API: Feishu's message to an open_id, DingTalk's batchSend.
        to_bob = "userIds=bob" if platform == "dingtalk" else "open_id=bob"
        assert sorted(api_call(sent) for sent in day.last)[0].endswith(to_bob)
        if platform == "dingtalk":
            assert all(api_call(s).startswith("/v1.0/robot/oToMessages/batchSend ") for s in day.last)
        else:
            assert all(api_call(s).startswith("/open-apis/im/v1/messages open_id=") for s in day.last)
        bob = _text(sent, "bob")
        assert bob.startswith("【☀️ 站会 · 11-25】\n你有 2 个未完成的任务：\n")
        # Late first (by due date), then the rest; code, title, % and due date each.
        assert "🔴 1.2 需求评审 · 40% · 逾期 5 天（11-20）\n• 2.1 后端接口 · 20% · 截止 12-04" in bob
        assert "请在 11:00 前直接回复" in bob and "昨天做了什么" in bob and "今天计划做什么" in bob
        assert "有什么卡点" in bob
        assert "• 2.2 前端页面 · 0% · 无截止日期" in _text(sent, "carol")
        assert "2.3 测试 · 10% · 截止 12-10" in _text(sent, "erin")
        for name in ("carol", "erin"):
            assert "需求评审" not in _text(sent, name) and "后端接口" not in _text(sent, name)

        assert await day.run("standup-prompt", "2026-11-25", "09:45") == []  # a re-run sends nothing new


async def test_prompt_in_english_for_an_english_project(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        sent = await day.run("standup-prompt", "2026-11-25", "09:30")
        bob = _text(sent, "bob")
        assert bob.startswith("【☀️ Standup · 11-25】\nYou have 2 open tasks:\n")
        assert "🔴 1.2 需求评审 · 40% · 5 days late (11-20)" in bob
        assert "What did you do yesterday?" in bob and "Any blockers?" in bob


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-11-28", False),  # Saturday
        ("2026-11-29", False),  # Sunday
        ("2026-10-01", False),  # National Day
        ("2026-10-10", True),  # the make-up Saturday after National Day
        ("2026-11-26", False),  # Thursday, but the project's own holiday
        ("2026-12-06", True),  # Sunday, but the project's own make-up workday
    ],
)
async def test_prompt_only_on_workdays_even_when_forced(
    engine: AsyncEngine, platform: str, day: str, expected: bool
) -> None:
    async with standup_day(engine, platform) as standup:
        await standup.add(
            CalendarOverride(
                project_id=standup.project_id,
                day=date(2026, 11, 26),
                kind="holiday",
                name="团建",
                created_at=standup.clock.now,
            ),
            CalendarOverride(
                project_id=standup.project_id,
                day=date(2026, 12, 6),
                kind="workday",
                name="补班",
                created_at=standup.clock.now,
            ),
        )
        for job in ("standup-prompt", "standup-remind", "standup-summary"):
            sent = await standup.run(job, day, "11:00")
            if job == "standup-prompt":
                assert _to(sent) == (
                    [("user", "bob"), ("user", "carol"), ("user", "erin")] if expected else []
                )
            elif not expected:
                assert sent == []


async def test_people_on_leave_are_not_prompted_reminded_or_missing(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        erin = await day.member("erin")
        await day.add(
            Leave(
                project_id=day.project_id,
                member_id=erin.id,
                start_date=date(2026, 11, 24),
                end_date=date(2026, 11, 25),
                created_at=day.clock.now,
            )
        )
        assert _to(await day.run("standup-prompt", "2026-11-25", "09:30")) == [
            ("user", "bob"),
            ("user", "carol"),
        ]
        assert _to(await day.run("standup-remind", "2026-11-25", "10:30")) == [
            ("user", "bob"),
            ("user", "carol"),
        ]
        summary = _text(await day.run("standup-summary", "2026-11-25", "11:00"), "team")
        assert "❓ 未汇报 2 人：@bob @carol" in summary
        assert "🏖 请假：@erin" in summary
        # Back the next day.
        assert ("user", "erin") in _to(await day.run("standup-prompt", "2026-11-26", "09:30"))


# --- remind and summary ----------------------------------------------------------------------------


async def test_one_reminder_only_to_those_who_have_not_answered(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await day.run("standup-prompt", "2026-11-25", "09:30")
        answer = await day.say(
            "bob",
            "昨天 2.1 80%，今天联调，卡点无",
            day="2026-11-25",
            time="09:50",
            chat="dm-bob",
            chat_type="p2p",
        )
        assert "2.1 后端接口 20% → 80%" in answer

        sent = await day.run("standup-remind", "2026-11-25", "10:15")
        assert _to(sent) == [("user", "carol"), ("user", "erin")]
        carol = _text(sent, "carol")
        assert carol.startswith("【⏰ 站会提醒 · 11-25】\n还没收到你今天的站会，11:00 汇总。")
        assert "2.2 前端页面" in carol
        # Once only, even after more people answered or did not.
        assert await day.run("standup-remind", "2026-11-25", "10:40") == []


async def test_summary_names_who_reported_what_changed_and_who_is_missing(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await day.run("standup-prompt", "2026-11-25", "09:30")
        await day.say(
            "bob",
            "1.2 完成，2.1 80%\n今天联调\n卡点：2.1 等设计稿",
            day="2026-11-25",
            time="09:50",
            chat="dm-bob",
            chat_type="p2p",
        )
        await day.say(
            "erin", "写用例\n继续测试\n无", day="2026-11-25", time="10:05", chat="dm-erin", chat_type="p2p"
        )

        sent = await day.run("standup-summary", "2026-11-25", "11:00")
        assert _to(sent) == [("chat", "team")]
        assert [api_call(s) for s in day.last] == [
            "/v1.0/robot/groupMessages/send openConversationId=team"
            if platform == "dingtalk"
            else "/open-apis/im/v1/messages chat_id=team"
        ]
        assert _text(sent, "team") == "\n".join(
            [
                "【📋 站会小结 · 11-25】",
                "✅ 已汇报 2/3：@bob @erin",
                "📈 进度更新：",
                "• 1.2 需求评审 40% → 100%",
                "• 2.1 后端接口 20% → 80%",
                "⛔ 新卡点：",
                "• 2.1 后端接口：等设计稿（@bob）",
                "❓ 未汇报 1 人：@carol",
                "请私聊我补上今天的站会。",
            ]
        )
        assert await day.run("standup-summary", "2026-11-25", "11:30") == []


async def test_summary_when_everyone_reported(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        for name in ("bob", "carol", "erin"):
            await day.say(name, "/站会 写文档，今天评审，卡点无", day="2026-11-25", time="09:40")
        summary = _text(await day.run("standup-summary", "2026-11-25", "11:00"), "team")
        assert summary == "【📋 站会小结 · 11-25】\n✅ 已汇报 3/3：@bob @carol @erin\n👍 全员已汇报"


async def test_nothing_is_sent_when_nobody_owes_a_standup(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        async with day.chat.runtime.factory() as s, s.begin():
            for task in await s.scalars(select(Task).where(Task.code.in_(("1.2", "2.1", "2.2", "2.3")))):
                task.progress, task.status = 100, "done"
        for job, time in (
            ("standup-prompt", "09:30"),
            ("standup-remind", "10:30"),
            ("standup-summary", "11:00"),
        ):
            assert await day.run(job, "2026-11-25", time) == []


# --- group mode ------------------------------------------------------------------------------------------


async def test_group_mode_prompts_and_reminds_in_the_bound_chat(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await day.update(standup_mode="group")
        sent = await day.run("standup-prompt", "2026-11-25", "09:30")
        assert _to(sent) == [("chat", "team")]
        card = _text(sent, "team")
        assert card.startswith("【☀️ 站会 · 11-25】\n@bob：\n🔴 1.2 需求评审")
        assert "@carol：\n• 2.2 前端页面 · 0%" in card and "@erin：\n• 2.3 测试" in card
        assert "请在 11:00 前私聊我，或在群里 @我 发「/站会 2.1 80%" in card

        await day.say("carol", "/站会 2.2 30%", day="2026-11-25", time="09:40")
        sent = await day.run("standup-remind", "2026-11-25", "10:30")
        assert sent == [
            (
                "chat",
                "team",
                "【⏰ 站会提醒 · 11-25】\n@bob @erin 还没回复今天的站会，11:00 汇总。"
                "请私聊我，或 @我 发 /站会。",
            )
        ]
        # Feishu notifies them; DingTalk's group-message API has no way to @ anyone.
        assert day.last[0].mentions == (("bob", "erin") if platform == "feishu" else ())
        assert await day.run("standup-remind", "2026-11-25", "10:45") == []


# --- the day through the scheduler's tick -------------------------------------------------------------------


async def test_a_day_of_ticks_prompts_reminds_and_summarises_once_each(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:

        async def tick(time: str) -> list[tuple[str, str]]:
            day.clock.now = local("2026-11-25", time)
            await day.runner.tick()
            return _to(await day.delivered())

        assert await tick("09:29") == []
        assert await tick("09:30") == [("user", "bob"), ("user", "carol"), ("user", "erin")]
        assert await tick("09:31") == []
        await day.say("carol", "2.2 10%", day="2026-11-25", time="09:40", chat="dm-carol", chat_type="p2p")
        assert await tick("10:14") == []
        assert await tick("10:15") == [("user", "bob"), ("user", "erin")]
        assert await tick("10:59") == []
        assert await tick("11:00") == [("chat", "team")]
        assert await tick("17:00") == []


async def test_summary_lists_only_the_blockers_raised_that_day(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        # Yesterday: 2.1 and 2.2 blocked, still open today.
        await day.say("bob", "/卡点 2.1 等设计稿", day="2026-11-24", time="15:00")
        await day.say("carol", "/卡点 2.2 等接口", day="2026-11-24", time="15:10")
        await day.run("standup-prompt", "2026-11-25", "09:30")
        # Today bob says 2.1 is still stuck; erin raises a new one with the command, not in a reply.
        await day.say(
            "bob",
            "2.1 80%\n今天联调\n卡点：2.1 还在等设计稿",
            day="2026-11-25",
            time="09:50",
            chat="dm-bob",
            chat_type="p2p",
        )
        await day.say("erin", "/卡点 2.3 测试服务器没到", day="2026-11-25", time="10:00")
        await day.say("erin", "/站会 写用例，继续测试，卡点见上", day="2026-11-25", time="10:01")
        async with day.chat.runtime.factory() as s:
            opened = list(await s.scalars(select(Blocker.id).where(Blocker.status == "open")))
        summary = _text(await day.run("standup-summary", "2026-11-25", "11:00"), "team")
        lines = summary.splitlines()
        start = lines.index("⛔ 新卡点：")
        assert lines[start + 1] == "• 2.3 测试：测试服务器没到（@erin）"
        assert not lines[start + 2].startswith("• 2.1") and "等设计稿" not in summary
        assert "⛔ 另有 2 个任务仍卡在之前的卡点上（/状态 查看）" in lines
        # The summary only reads: the blockers stay as they were.
        async with day.chat.runtime.factory() as s:
            assert list(await s.scalars(select(Blocker.id).where(Blocker.status == "open"))) == opened


async def test_summary_counts_older_blockers_in_english(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        await day.say("bob", "/blocker 2.1 waiting for designs", day="2026-11-24", time="15:00")
        await day.say("erin", "/standup wrote cases, testing, no blockers", day="2026-11-25", time="09:40")
        summary = _text(await day.run("standup-summary", "2026-11-25", "11:00"), "team")
        assert "New blockers" not in summary
        assert "⛔ 1 task still blocked from before (see /status)" in summary.splitlines()
