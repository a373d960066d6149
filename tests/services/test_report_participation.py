"""The weekly report's standups and one line per department (participation and timeliness), through
/report in chat on SQLite and PostgreSQL, in Chinese and English; and the stored report keeps them.

The clock is Wednesday 2026-11-25 10:00 in Shanghai, before the 11:00 cutoff: standups count
through Tuesday."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import report
from bot.domain.participation import DepartmentRates, Rates
from bot.render import report as report_render
from storage.models import Department, Member, ProgressUpdate, Project, Task
from tests.harness import Chat, chat_runtime
from tests.services.test_participation import prompted, standup

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
MON, TUE = date(2026, 11, 23), date(2026, 11, 24)
JOINED = datetime(2026, 11, 1, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


async def seed(chat: Chat, *, english: bool) -> None:
    """研发 (R&D): bob, whose task 1 was due Tuesday and is still open, answered Monday only, 10
    minutes after the prompt. 市场 (Marketing): kim, whose task 2 was due and done Monday, answered
    Monday and Tuesday, 60 and 120 minutes after it."""
    await chat.say("alice", "/project new Launch" if english else "/项目 新建 新品发布")
    async with chat.runtime.factory() as s, s.begin():
        project = await s.scalar(select(Project))
        assert project is not None
        pid = project.id
        research = Department(project_id=pid, name="R&D" if english else "研发")
        market = Department(project_id=pid, name="Marketing" if english else "市场")
        s.add_all([research, market])
        await s.flush()
        bob, kim = (
            Member(
                project_id=pid,
                platform=chat.platform,
                platform_user_id=name,
                department_id=department.id,
                created_at=JOINED,
            )
            for name, department in (("bob", research), ("kim", market))
        )
        s.add_all([bob, kim])
        await s.flush()
        late = Task(
            project_id=pid,
            code="1",
            title="接口",
            owner_member_id=bob.id,
            due_date=TUE,
            progress=40,
            status="in_progress",
            created_at=JOINED,
            updated_at=JOINED,
        )
        on_time = Task(
            project_id=pid,
            code="2",
            title="物料",
            owner_member_id=kim.id,
            due_date=MON,
            progress=100,
            status="done",
            created_at=JOINED,
            updated_at=JOINED,
        )
        s.add_all([late, on_time])
        await s.flush()
        s.add(
            ProgressUpdate(
                task_id=on_time.id,
                previous_progress=50,
                progress=100,
                source="command",
                created_at=at(MON, 15),
            )
        )
        s.add_all(prompted(pid, day, at(day, 9, 30)) for day in (MON, TUE))
        for who, day, replied in (
            (bob, MON, at(MON, 9, 40)),
            (kim, MON, at(MON, 10, 30)),
            (kim, TUE, at(TUE, 11, 30)),
        ):
            s.add(standup(pid, who.id, day, replied))


async def test_the_report_has_a_line_per_department(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await seed(chat, english=False)
        lines = (await chat.one("zoe", "/周报")).splitlines()
    start = lines.index("站会 本周提交 3/4（75%）· 缺报较多：@bob")
    assert lines[start + 1 : start + 3] == [
        "· 研发：站会 1/2（50%） · 回复中位 10 分钟 · 按时完成 0/1（0%） · 平均延误 1 个工作日",
        "· 市场：站会 2/2（100%） · 回复中位 1 小时 30 分钟 · 按时完成 1/1（100%）",
    ]


async def test_the_english_report_has_a_line_per_department(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW, locale="en") as chat:
        await seed(chat, english=True)
        lines = (await chat.one("zoe", "/report")).splitlines()
    start = lines.index("Standups 3/4 this week (75%) · missed most: @bob")
    assert lines[start + 1 : start + 3] == [
        "· R&D: standups 1/2 (50%) · median reply 10 min · on time 0/1 (0%) · late 1 workday on average",
        "· Marketing: standups 2/2 (100%) · median reply 1 h 30 min · on time 1/1 (100%)",
    ]


def test_the_stored_report_keeps_the_department_lines_and_older_ones_still_load() -> None:
    built = report.build(
        report.ReportInput(
            project_id=1,
            project_name="新品发布",
            today=TUE,
            participation=[
                DepartmentRates("研发", Rates(2, 1, 10, 1, 0, 1.5, 0)),
                DepartmentRates("市场", Rates(0, 0, None, 0, 0, None, 0)),  # nothing to say: left out
            ],
        ),
        lambda day: day.weekday() < 5,
    )
    assert built.participation == (DepartmentRates("研发", Rates(2, 1, 10, 1, 0, 1.5, 0)),)
    content = report.to_content(built)
    assert report.from_content(content) == built
    older = {key: value for key, value in content.items() if key != "participation"}
    assert report.from_content(older).participation == ()
    card = report_render.render_card(built, "zh").body
    assert "· 研发：站会 1/2（50%） · 回复中位 10 分钟 · 按时完成 0/1（0%） · 平均延误 1.5 个工作日" in card
