"""Participation loaded from the database (bot/services/participation.py) on SQLite and PostgreSQL:
the standup prompts (job runs), replies, leaves and progress history of a seeded project around
National Day 2026 (working days 09-28, 09-29, 09-30, 10-08, 10-09 and the make-up Saturday 10-10),
and the same number of queries for 5 members as for 60."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services import participation
from storage.db import session_factory, unit_of_work
from storage.models import Department, JobRun, Leave, Member, ProgressUpdate, Project, StandupReport, Task
from tests.services.test_snapshot import counting

TZ = ZoneInfo("Asia/Shanghai")
SINCE, UNTIL, TODAY = date(2026, 9, 28), date(2026, 10, 11), date(2026, 10, 12)
ASKED = [
    date(2026, 9, 28),
    date(2026, 9, 29),
    date(2026, 9, 30),
    date(2026, 10, 8),
    date(2026, 10, 9),
    date(2026, 10, 10),
]
LONG_AGO = datetime(2026, 9, 1, tzinfo=UTC)


def at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


async def seed(engine: AsyncEngine) -> int:
    async with unit_of_work(session_factory(engine)) as session:
        project = Project(
            name="国庆", timezone="Asia/Shanghai", locale="zh", created_at=LONG_AGO, updated_at=LONG_AGO
        )
        session.add(project)
        await session.flush()
        pid = project.id
        research, market = Department(project_id=pid, name="研发"), Department(project_id=pid, name="市场")
        session.add_all([research, market])
        await session.flush()

        def person(name: str, department: Department, joined: datetime = LONG_AGO) -> Member:
            return Member(
                project_id=pid,
                platform="feishu",
                platform_user_id=name,
                display_name=name,
                department_id=department.id,
                created_at=joined,
            )

        bob, carol, kim = person("bob", research), person("carol", research), person("kim", market)
        dan = person("dan", market, joined=at(date(2026, 10, 8), 10))  # after that day's prompt
        eve = person("eve", research)
        eve.removed_at = LONG_AGO
        session.add_all([bob, carol, kim, dan, eve])
        phase = Task(project_id=pid, code="1", title="阶段", created_at=LONG_AGO, updated_at=LONG_AGO)
        session.add(phase)
        await session.flush()

        def leaf(code: str, owner: Member, due: date | None, progress: int = 50) -> Task:
            return Task(
                project_id=pid,
                code=code,
                title=f"任务{code}",
                parent_id=phase.id,
                owner_member_id=owner.id,
                due_date=due,
                progress=progress,
                status="done" if progress >= 100 else "in_progress",
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
            )

        late = leaf("1.1", bob, date(2026, 9, 30), 100)
        on_time = leaf("1.2", carol, date(2026, 10, 9), 100)
        session.add_all(
            [late, on_time, leaf("1.3", kim, None), leaf("1.4", dan, None), leaf("1.5", eve, None)]
        )
        await session.flush()
        session.add_all(
            [
                ProgressUpdate(
                    task_id=late.id,
                    previous_progress=50,
                    progress=100,
                    source="command",
                    created_at=at(date(2026, 10, 8), 15),
                ),
                ProgressUpdate(
                    task_id=on_time.id,
                    previous_progress=50,
                    progress=100,
                    source="command",
                    created_at=at(date(2026, 10, 9), 15),
                ),
            ]
        )
        for day in ASKED:
            session.add(
                JobRun(
                    job="standup-prompt", project_id=pid, business_date=day, status="done", started_at=at(day)
                )
            )
        # A reminder is not the prompt; a failed prompt did not go out.
        session.add(
            JobRun(
                job="standup-remind",
                project_id=pid,
                business_date=ASKED[0],
                status="done",
                started_at=at(ASKED[0], 8),
            )
        )

        def replied(who: Member, days: list[date], minutes: int) -> None:
            for day in days:
                moment = at(day) + timedelta(minutes=minutes)
                session.add(
                    StandupReport(
                        project_id=pid,
                        member_id=who.id,
                        business_date=day,
                        text="ok",
                        parsed={},
                        created_at=moment,
                        updated_at=moment + timedelta(hours=3),  # amended later: the first reply counts
                    )
                )

        replied(bob, ASKED, 10)
        replied(carol, ASKED[:1], 30)
        replied(kim, ASKED[1:], 60)
        replied(dan, ASKED[-2:], 5)
        replied(eve, ASKED, 1)
        session.add(
            Leave(
                project_id=pid,
                member_id=carol.id,
                start_date=date(2026, 9, 30),
                end_date=date(2026, 10, 9),
                created_at=LONG_AGO,
            )
        )
        return pid


async def load(engine: AsyncEngine, pid: int, **window: date) -> participation.Participation:
    async with session_factory(engine)() as session:
        project = await session.get(Project, pid)
        assert project is not None
        return await participation.load(
            session, project, since=window.get("since", SINCE), until=window.get("until", UNTIL), today=TODAY
        )


async def test_rates_per_member_and_department(engine: AsyncEngine) -> None:
    result = await load(engine, await seed(engine))
    rates = {m.name: m.rates for m in result.members}
    assert [(m.name, m.department) for m in result.members] == [
        ("bob", "研发"),
        ("carol", "研发"),
        ("dan", "市场"),
        ("kim", "市场"),
    ]
    bob, carol, dan, kim = rates["bob"], rates["carol"], rates["dan"], rates["kim"]
    assert (bob.asked, bob.answered, bob.median_reply_minutes, bob.streak) == (6, 6, 10, 6)
    assert (bob.due, bob.on_time, bob.late_days_avg) == (1, 0, 1.0)  # due 09-30, done 10-08
    assert (carol.asked, carol.answered, carol.streak) == (2, 1, 0)  # on leave 09-30 to 10-09
    assert (carol.due, carol.on_time, carol.late_days_avg) == (1, 1, None)
    assert (dan.asked, dan.answered, dan.median_reply_minutes) == (2, 2, 5)
    assert (kim.asked, kim.answered, kim.median_reply_minutes, kim.streak) == (6, 5, 60, 5)

    departments = {d.department: d.rates for d in result.departments}
    assert list(departments) == ["研发", "市场"]
    research, market = departments["研发"], departments["市场"]
    assert (research.asked, research.answered, research.median_reply_minutes) == (8, 7, 10)
    assert (research.due, research.on_time, research.late_days_avg, research.streak) == (2, 1, 1.0, 4)
    assert (market.asked, market.answered, market.median_reply_minutes, market.streak) == (8, 7, 60, 5)

    ids = {m.name: m.member_id for m in result.members}
    assert result.marks[(ids["carol"], date(2026, 9, 30))] == "leave"
    assert result.marks[(ids["carol"], date(2026, 9, 29))] == "missed"
    assert result.marks[(ids["dan"], date(2026, 10, 8))] == "off"
    assert result.marks[(ids["bob"], date(2026, 10, 1))] == "off"
    assert result.marks[(ids["kim"], date(2026, 10, 10))] == "answered"


async def test_a_narrower_window_counts_only_its_days(engine: AsyncEngine) -> None:
    pid = await seed(engine)
    result = await load(engine, pid, since=date(2026, 10, 8), until=date(2026, 10, 11))
    assert result.days == tuple(date(2026, 10, 8) + timedelta(days=n) for n in range(4))
    bob = next(m.rates for m in result.members if m.name == "bob")
    # 1.1 was due before the window: not counted here, though its finish (10-08) is
    assert (bob.asked, bob.due) == (3, 0)


async def seed_team(engine: AsyncEngine, size: int) -> int:
    """A project of `size` members in two departments, each with an open task, a late finished task
    and a standup answered every working day, and one leave each."""
    async with unit_of_work(session_factory(engine)) as session:
        project = Project(
            name=f"团队{size}",
            timezone="Asia/Shanghai",
            locale="zh",
            created_at=LONG_AGO,
            updated_at=LONG_AGO,
        )
        session.add(project)
        await session.flush()
        pid = project.id
        groups = [Department(project_id=pid, name="甲"), Department(project_id=pid, name="乙")]
        session.add_all(groups)
        await session.flush()
        people = [
            Member(
                project_id=pid,
                platform="feishu",
                platform_user_id=f"u{n}",
                display_name=f"成员{n}",
                department_id=groups[n % 2].id,
                created_at=LONG_AGO,
            )
            for n in range(size)
        ]
        session.add_all(people)
        await session.flush()
        for n, who in enumerate(people):
            for sub, (due, progress) in enumerate(((None, 50), (date(2026, 9, 29), 100)), start=1):
                task = Task(
                    project_id=pid,
                    code=f"{n + 1}.{sub}",
                    title="任务",
                    owner_member_id=who.id,
                    due_date=due,
                    progress=progress,
                    status="done" if progress >= 100 else "in_progress",
                    created_at=LONG_AGO,
                    updated_at=LONG_AGO,
                )
                session.add(task)
                await session.flush()
                if progress >= 100:
                    session.add(
                        ProgressUpdate(
                            task_id=task.id,
                            previous_progress=0,
                            progress=100,
                            source="command",
                            created_at=at(date(2026, 9, 30)),
                        )
                    )
            for day in ASKED:
                session.add(
                    StandupReport(
                        project_id=pid,
                        member_id=who.id,
                        business_date=day,
                        text="ok",
                        parsed={},
                        created_at=at(day, 10),
                        updated_at=at(day, 10),
                    )
                )
            session.add(
                Leave(
                    project_id=pid,
                    member_id=who.id,
                    start_date=date(2026, 10, 12),
                    end_date=date(2026, 10, 13),
                    created_at=LONG_AGO,
                )
            )
        for day in ASKED:
            session.add(
                JobRun(
                    job="standup-prompt", project_id=pid, business_date=day, status="done", started_at=at(day)
                )
            )
        return pid


async def test_the_same_queries_for_5_members_as_for_60(engine: AsyncEngine) -> None:
    small, large = await seed_team(engine, 5), await seed_team(engine, 60)
    counts = []
    for pid, size in ((small, 5), (large, 60)):
        with counting(engine) as statements:
            result = await load(engine, pid)
        counts.append(len(statements))
        assert len(result.members) == size
        assert sum(d.rates.answered for d in result.departments) == 6 * size
        assert sum(d.rates.due for d in result.departments) == size
        assert all(d.rates.late_days_avg == 1.0 for d in result.departments)
    assert counts[0] == counts[1]
