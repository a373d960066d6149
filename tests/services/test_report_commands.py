"""/report (/周报) end to end on SQLite and PostgreSQL: this week's report on demand, stored ones by week.

The harness clock is Wednesday 2026-11-25 10:00 in Shanghai; the week is 11-23 .. 11-29.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Blocker, JobRun, Member, Project, ReportSnapshot, Task
from tests.harness import Chat, chat_runtime

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
D = date.fromisoformat


async def new_project(chat: Chat, *, english: bool = False) -> int:
    await chat.say("alice", "/project new Launch" if english else "/项目 新建 新品发布")
    async with chat.runtime.factory() as s, s.begin():
        project = await s.scalar(select(Project))
        assert project is not None
        joined = datetime(2026, 11, 1, tzinfo=UTC)
        bob = Member(project_id=project.id, platform=chat.platform, platform_user_id="bob", created_at=joined)
        s.add(bob)
        await s.flush()
        s.add(
            Task(
                project_id=project.id,
                code="1",
                title="接口",
                owner_member_id=bob.id,
                start_date=D("2026-11-16"),
                due_date=D("2026-11-24"),
                progress=40,
                status="in_progress",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        return project.id


async def store(chat: Chat, project_id: int, week_start: str, body: str, state: str = "on_track") -> None:
    async with chat.runtime.factory() as s, s.begin():
        s.add(
            ReportSnapshot(
                project_id=project_id,
                week_start=D(week_start),
                generated_at=NOW,
                content={"project_name": "新品发布", "state": state},
                markdown=body,
            )
        )


async def snapshot_count(chat: Chat) -> int:
    async with chat.runtime.factory() as s:
        return int(await s.scalar(select(func.count()).select_from(ReportSnapshot)) or 0)


async def test_on_demand_report_is_this_weeks_and_is_not_stored(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        project_id = await new_project(chat)
        async with chat.runtime.factory() as s, s.begin():  # the standup prompt went out Mon and Tue
            s.add_all(
                JobRun(
                    job="standup-prompt",
                    project_id=project_id,
                    business_date=D(day),
                    status="done",
                    started_at=NOW,
                )
                for day in ("2026-11-23", "2026-11-24")
            )
        reply = await chat.one("zoe", "/周报")  # anyone may ask, member or not

        lines = reply.splitlines()
        assert lines[0] == "【📅 周报 · 新品发布 · 11-23～11-29】"
        assert (
            lines[1]
            == "🔴 总体 40%（计划 100%）· 延误 · 落后计划 60 个百分点 · 1 个任务逾期 · 已过项目结束日期"
        )
        assert "🔴 1 接口 逾期 1 个工作日 @bob" in lines
        # Before today's cutoff (11:00) standups count up to yesterday: bob's Mon and Tue (alice owns
        # no task, so owes none).
        assert "站会 本周提交 0/2（0%）· 缺报较多：@bob" in reply
        assert await snapshot_count(chat) == 0
        assert await chat.one("zoe", "/周报") == reply


async def test_stored_reports_by_latest_and_by_week(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        pid = await new_project(chat)
        assert await chat.one("bob", "/周报 上周") == (
            "还没有已发布的周报。周报在每周五 17:00 自动发布；现在看本周进展：/周报"
        )
        await store(chat, pid, "2026-11-09", "第一期 @<at:bob>", state="late")
        await store(chat, pid, "2026-11-16", "第二期")

        latest = "【📅 周报 · 新品发布 · 11-16～11-22】\n第二期"
        for line in ("/周报 上周", "/周报 最近", "/report last", "/周报上周"):
            assert await chat.one("bob", line) == latest, line
        assert (
            await chat.one("bob", "/周报 2026-11-12") == "【📅 周报 · 新品发布 · 11-09～11-15】\n第一期 @@bob"
        )
        assert await chat.one("bob", "/周报 11-16") == latest
        assert (
            await chat.one("bob", "/周报 2026-11-02") == "没有 2026-11-02 那一周的周报。最近一期：/周报 上周"
        )
        assert await snapshot_count(chat) == 2


async def test_a_stored_card_keeps_the_colour_of_its_week(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        pid = await new_project(chat)
        await store(chat, pid, "2026-11-09", "late week", state="late")
        await chat.post("bob", "/周报 2026-11-09")
        await chat.runtime.settle()
        (sent,) = chat.sent()
        assert sent.card and sent.text == "【📅 周报 · 新品发布 · 11-09～11-15】\nlate week"
        # Feishu shows the colour in the card's header; DingTalk's markdown has none to show.
        assert sent.color == ("red" if platform == "feishu" else None)


async def test_a_bad_week_gets_the_usage_line(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await new_project(chat)
        reply = await chat.one("bob", "/周报 某天")
        assert "某天" in reply
        assert reply.endswith("用法：/周报 [上周|日期]，如 /周报、/周报 上周、/周报 2026-11-16")


async def test_in_english(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await new_project(chat, english=True)
        reply = await chat.one("bob", "/report")
        assert reply.splitlines()[0] == "【📅 Weekly report · Launch · 11-23 – 11-29】"
        assert await chat.one("bob", "/report last") == (
            "No weekly report has been posted yet. It posts every Friday at 17:00; this week so far: /report"
        )


async def test_last_week_is_never_this_weeks_report(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        pid = await new_project(chat)
        await store(chat, pid, "2026-11-16", "上一期")
        await store(chat, pid, "2026-11-23", "本周这期")  # e.g. posted early by run-job

        for line in ("/周报 上周", "/周报上周", "/report last"):
            assert await chat.one("bob", line) == "【📅 周报 · 新品发布 · 11-16～11-22】\n上一期", line
        for line in ("/周报 最新", "/周报 最近", "/report latest"):
            assert await chat.one("bob", line) == "【📅 周报 · 新品发布 · 11-23～11-29】\n本周这期", line


async def test_ages_are_workdays_of_the_project_calendar(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        project_id = await new_project(chat)
        async with chat.runtime.factory() as s, s.begin():
            task = await s.scalar(select(Task).where(Task.project_id == project_id))
            bob = await s.scalar(select(Member).where(Member.platform_user_id == "bob"))
            assert task is not None and bob is not None
            # Raised last Thursday 11-19, 10:00 in Shanghai.
            raised = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)
            s.add(
                Blocker(
                    task_id=task.id,
                    text="等环境",
                    status="open",
                    raised_by_member_id=bob.id,
                    created_at=raised,
                )
            )
        await chat.say("alice", "/假期 添加 11-23 团建")
        await chat.say("alice", "/行动 添加 @bob 11-20 补文档")
        reply = await chat.one("zoe", "/周报")
        # Workdays after the day, up to today, less the weekend and the project's day off (Mon 11-23):
        # blocker 11-20, 24, 25; action 11-24, 25; the task (due 11-24) 11-25.
        assert "⛔ 1 接口：等环境（已 3 个工作日）@bob" in reply
        assert "📌 A1 补文档 逾期 2 个工作日 @bob" in reply
        assert "🔴 1 接口 逾期 1 个工作日 @bob" in reply
        await chat.say("alice", "/设置 语言 en")
        reply = await chat.one("zoe", "/report")
        assert "(3 workdays)" in reply and "A1 补文档 2 workdays overdue" in reply
        assert "1 接口 1 workday late" in reply


async def test_ahead_of_plan_says_ahead_and_counts_overdue_apart(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        project_id = await new_project(chat)
        async with chat.runtime.factory() as s, s.begin():
            s.add(
                Task(
                    project_id=project_id,
                    code="2",
                    title="页面",
                    start_date=D("2026-11-23"),
                    due_date=D("2026-12-18"),
                    progress=80,
                    status="in_progress",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        # 1: 9 days at 40 % (plan 100 %), 2: 26 days at 80 % (plan 3 of 20 workdays, 15 %):
        # 2440 // 35 = 69 % against 1290 // 35 = 36 %.
        reply = await chat.one("zoe", "/周报")
        assert reply.splitlines()[1] == "🟡 总体 69%（计划 36%）· 有风险 · 超前 33 个百分点 · 1 个任务逾期"
        assert "落后" not in reply
        await chat.say("alice", "/设置 语言 en")
        reply = await chat.one("zoe", "/report")
        assert reply.splitlines()[1] == (
            "🟡 Overall 69% (plan 36%) · at risk · ahead of plan by 33 points · 1 task overdue"
        )
