"""RACI by department (`R=运营`), and C and I used, through really signed webhooks on Feishu and
DingTalk, SQLite and PostgreSQL, with the standup prompt and the risk scan run by the real runner.

The plan is tests/services/test_plan_commands.py's: alice is the PM; bob heads 研发, carol 市场, dan
运营; 2.2 上线推广 (gina, 市场, due 2027-01-20) and 2.1.2 接口实现 (erin, 研发) are leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import Department, Member, RaciAssignment, Task
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan, fingerprint, said, tasks_by_code

TZ = ZoneInfo("Asia/Shanghai")
JOBS = (JOBS_BY_NAME["standup-prompt"], JOBS_BY_NAME["risk-scan"])


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: str, time: str = "10:00") -> None:
        self.now = datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TZ)


def private(chat: Chat) -> dict[str, str]:
    """Who got a private message since the last look -> its text (one each)."""
    found: dict[str, str] = {}
    for sent in chat.sent():
        if sent.kind == "user":
            assert sent.target not in found, f"two messages to {sent.target}"
            found[sent.target] = sent.text
    return found


async def say(chat: Chat, user: str, line: str, *expected: str) -> dict[str, str]:
    """Send `line`; the one reply in the chat holds `expected`; returns the private messages."""
    await chat.post(user, line)
    await chat.runtime.settle()
    sent = chat.sent()
    replies = [s.text for s in sent if s.kind != "user"]
    assert len(replies) == 1, replies
    for text in expected:
        assert text in replies[0], (line, replies[0])
    return {s.target: s.text for s in sent if s.kind == "user"}


async def run(chat: Chat, runner: JobRunner, clock: Clock, job: str, day: str, time: str) -> dict[str, str]:
    clock.set(day, time)
    outcomes = await runner.run_job(JOBS_BY_NAME[job], at=clock.now)
    assert [outcome.status for outcome in outcomes] == ["done"]
    await chat.runtime.settle()
    return private(chat)


async def entries(chat: Chat, code: str) -> list[tuple[str, str]]:
    """(role, member user id or department name) of the task's RACI, in order."""
    async with chat.runtime.factory() as session:
        rows = await session.execute(
            select(RaciAssignment.role, Member.platform_user_id, Department.name)
            .join(Task, Task.id == RaciAssignment.task_id)
            .outerjoin(Member, Member.id == RaciAssignment.member_id)
            .outerjoin(Department, Department.id == RaciAssignment.department_id)
            .where(Task.code == code)
            .order_by(RaciAssignment.id)
        )
        return [(role, user or name) for role, user, name in rows]


async def test_a_department_answers_until_a_person_is_named(engine: AsyncEngine, platform: str) -> None:
    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=TZ))
    async with chat_runtime(engine, platform=platform, clock=clock) as chat:
        await build_plan(chat)
        runner = JobRunner(chat.runtime.factory, clock, jobs=JOBS)

        # Unknown departments are refused and change nothing; a near miss is only suggested.
        before = await fingerprint(chat)
        await said(chat, "alice", "/责任 2.2 R=市场部 A=@alice", "你是不是想写「市场」？未做任何修改。")
        await said(
            chat,
            "alice",
            "/责任 2.2 R=运营 A=@alice C=销售,@gina",
            "没有部门「销售」。现有部门：研发 / 市场 / 运营",
        )
        await said(chat, "dan", "/进度 2.2 10%", "抱歉，只有")  # not his yet
        assert await fingerprint(chat) == before

        reply = await said(
            chat,
            "alice",
            "/责任 2.2 R=运营 A=@alice C=研发、@gina I=市场,@alice",
            "R 执行：运营（部门）",
            "A 负责：@alice",
            "C 咨询：研发（部门）、@gina",
            "I 知会：市场（部门）、@alice",
            "在指定到人之前，由 R 部门的负责人接收站会提醒和预警",
        )
        assert "任务负责人" not in reply
        assert (await tasks_by_code(chat))["2.2"].owner_member_id is None  # only a department is R
        assert await entries(chat, "2.2") == [
            ("R", "运营"),
            ("A", "alice"),
            ("C", "研发"),
            ("C", "gina"),
            ("I", "市场"),
            ("I", "alice"),
        ]
        await said(chat, "zed", "/raci 2.2", "R 执行：运营（部门）", "C 咨询：研发（部门）、@gina")
        await said(chat, "zed", "/任务列表", "2.2 上线推广 · 运营（部门）")
        await said(
            chat, "alice", "/责任 2.1.2 R=研发,@erin A=@bob", "R 执行：研发（部门）、@erin"
        )  # and a person

        # The head of the R department may update it; C hears of the blocker he raises, I does not.
        clock.set("2026-11-26")
        assert await say(chat, "dan", "/进度 2.2 10%", "10%") == {}
        told = await say(chat, "dan", "/卡点 2.2 等素材", "等素材")
        assert sorted(told) == ["bob", "gina"]  # 研发's head and gina; not dan himself, not I
        assert told["gina"] == "🔔 新品发布 · C 咨询\n2.2「上线推广」出现卡点：等素材（dan）"
        await say(chat, "erin", "/卡点 2.1.2 等评审", "等评审")

        # The standup prompt and the alerts go to dan for 2.2; to erin, not bob, for 2.1.2.
        prompts = await run(chat, runner, clock, "standup-prompt", "2026-12-01", "09:30")
        assert sorted(prompts) == ["carol", "dan", "erin", "frank"]  # not gina, not bob
        assert "2.2 上线推广" in prompts["dan"] and "2.1.2 接口实现" in prompts["erin"]
        alerts = await run(chat, runner, clock, "risk-scan", "2026-12-01", "11:30")
        assert "2.2" in alerts["dan"] and "2.1.2" in alerts["erin"]
        assert "gina" not in alerts and "bob" not in alerts
        await said(chat, "dan", "/我的任务", "2.2 上线推广")

        # Naming a person (the owner) ends it: the department R stays on record but no longer routes.
        await said(chat, "alice", "/任务 修改 2.2 @gina", "@gina")
        assert ("R", "运营") in await entries(chat, "2.2")
        prompts = await run(chat, runner, clock, "standup-prompt", "2026-12-02", "09:30")
        assert "dan" not in prompts and "2.2 上线推广" in prompts["gina"]
        assert "2.2" not in await said(chat, "dan", "/我的任务")


async def test_i_hears_of_finishes_and_moved_dates_c_of_blockers(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/raci 2.1.1 R=@frank A=@bob C=市场,@bob I=运营,@erin,@frank")

        # A date change: I is told (a department by its head), not whoever made it.
        told = await say(chat, "alice", "/task edit 2.1.1 due=12-22 start=12-17")
        assert sorted(told) == ["dan", "erin", "frank"]
        assert told["dan"] == (
            "🔔 新品发布 · I 知会\n2.1.1「接口定义」日期调整：开始 12-16 → 12-17、截止 12-20 → 12-22（alice）"
        )
        assert sorted(await say(chat, "bob", "/task edit 2.1.1 due=12-23")) == ["dan", "erin", "frank"]
        assert await say(chat, "alice", "/task edit 2.1.1 title=接口设计") == {}  # not a date

        # A blocker: only C (市场, so carol, and bob), never the one who raised it.
        told = await say(chat, "frank", "/blocker 2.1.1 waiting for specs")
        assert sorted(told) == ["bob", "carol"] and "出现卡点：waiting for specs（frank）" in told["carol"]
        assert list(await say(chat, "bob", "/blocker 2.1.1 more", "more")) == ["carol"]

        # Finishing by /done, by a progress of 100% and by a standup: I, not the one who did it.
        await say(chat, "frank", "/blocker clear 2.1.1")
        told = await say(chat, "frank", "/done 2.1.1")
        assert sorted(told) == ["dan", "erin"] and "已完成（frank）" in told["erin"]
        assert await say(chat, "frank", "/progress 2.1.1 90%") == {}  # not a finish
        assert sorted(await say(chat, "frank", "/progress 2.1.1 100%")) == ["dan", "erin"]
        await say(chat, "frank", "/progress 2.1.1 50%")
        await chat.post("frank", "/站会 昨天：2.1.1 100% 今天：测试 卡点：无")
        await chat.runtime.settle()
        assert sorted(private(chat)) == ["dan", "erin"]
