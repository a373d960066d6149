"""The calendar check tells a project's PMs once per year, in its default chat, when the official
holidays of this year (or, from December 1, next year) are unknown. The installed chinesecalendar
knows 2026 but not 2027."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import CalendarOverride, Project
from tests.harness import Chat, Sent, chat_runtime

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The outbox only sends what is due by the runtime's clock, so it stands after every run below.
LATER = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)
JOB = JOBS_BY_NAME["calendar-check"]


def at(day: str, hour: int = 8) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


async def project_id(chat: Chat, name: str) -> int:
    async with chat.runtime.factory() as s:
        found = await s.scalar(select(Project.id).where(Project.name == name))
        assert found is not None
        return found


async def run(chat: Chat, pid: int, day: str) -> list[Sent]:
    """Run the check for one project as if on `day`; what the platform API delivered."""
    runner = JobRunner(chat.runtime.factory, lambda: LATER)
    outcomes = await runner.run_job(JOB, at=at(day), project_id=pid)
    assert [outcome.status for outcome in outcomes] == ["done"]
    await chat.runtime.settle()
    return chat.sent()


def told(sent: list[Sent]) -> list[tuple[str, str, str]]:
    """(chat, kind, text) of each message."""
    return [(message.target, message.kind, message.text) for message in sent]


async def test_next_year_missing_is_told_once_from_december(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=LATER) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/项目 负责人 @bob")
        await chat.say("bob", "/项目 绑定 新品发布", chat="managers")  # a second, non-default chat
        pid = await project_id(chat, "新品发布")

        assert await run(chat, pid, "2026-11-25") == []  # 2026 is known, December not yet here
        sent = await run(chat, pid, "2026-12-01")
        # Feishu @s the PMs; DingTalk's group-message API cannot @ anyone (the names still show).
        assert [message.mentions for message in sent] == [("alice", "bob") if platform == "feishu" else ()]
        assert told(sent) == [
            (
                "team",
                "chat",
                "📅 @alice @bob 我的日历里还没有 2027 年的法定节假日，"
                "在此之前按周一到周五上班计算。\n"
                "放假安排公布后，请把假期和调休上班日告诉我：\n"
                "/假期 添加 2027-10-01..2027-10-07 国庆节\n"
                "/调休 添加 <日期> [名称]\n"
                "发送 /假期列表 查看已添加的日子。",
            )
        ]
        assert await run(chat, pid, "2026-12-01") == []  # the same day again
        assert await run(chat, pid, "2026-12-02") == []
        assert await run(chat, pid, "2027-01-04") == []  # now this year's, but already told


async def test_a_year_whose_holidays_the_pms_added_is_not_missing(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=LATER, locale="en") as chat:
        await chat.say("alice", "/project new Alpha")
        await chat.say("carol", "/project new Beta", chat="beta")
        alpha, beta = await project_id(chat, "Alpha"), await project_id(chat, "Beta")
        await chat.say("carol", "/workday add 2027-02-07 Spring Festival make-up", chat="beta")
        await chat.say("alice", "/holiday add 2027-02-08..2027-02-12 Spring Festival")
        async with chat.runtime.factory() as s:
            assert len(list(await s.scalars(select(CalendarOverride)))) == 6

        # Alpha's PMs added 2027's holidays: nothing to tell them.
        assert await run(chat, alpha, "2026-12-15") == []
        # Beta only has a make-up workday: told, in its own chat, once.
        told_beta = told(await run(chat, beta, "2026-12-15"))
        assert [(chat_id, kind) for chat_id, kind, _ in told_beta] == [("beta", "chat")]
        assert told_beta[0][2].startswith(
            "📅 @carol My calendar does not have the official holidays of 2027 yet"
        )
        assert "/holiday add 2027-10-01..2027-10-07 National Day" in told_beta[0][2]
        assert await run(chat, alpha, "2026-12-16") == []
        assert await run(chat, beta, "2026-12-31") == []


async def test_the_daily_tick_runs_the_check(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=LATER) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        runner = JobRunner(chat.runtime.factory, lambda: LATER, jobs=[JOB])
        outcomes = await runner.tick(at("2026-12-01", 0))
        assert [(outcome.job, outcome.status) for outcome in outcomes] == [("calendar-check", "done")]
        await chat.runtime.settle()
        assert len(chat.take()) == 1
        assert [outcome.status for outcome in await runner.tick(at("2026-12-01", 9))] == ["skipped"]
