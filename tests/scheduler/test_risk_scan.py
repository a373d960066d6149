"""The daily risk scan against the real tables, at frozen dates on the China calendar: who gets which
digest, escalation by the RACI over workdays, "only when worse", and alerts switched off.

The team (project timezone Asia/Shanghai, locale zh): alice is the PM, bob heads 研发, carol owns
task 1.1 (R) with dave accountable (A). Thu 2026-12-03 is day 0; 12-05/06 is a weekend, so +2
workdays is Mon 12-07 and +4 is Wed 12-09.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.db import session_factory, unit_of_work
from storage.models import (
    ActionItem,
    AlertState,
    Blocker,
    ChatBinding,
    Department,
    JobRun,
    Leave,
    Member,
    Project,
    RaciAssignment,
    Risk,
    RiskEvent,
    StandupReport,
    Task,
    TaskDependency,
)
from tests.harness import Chat, Sent, api_call, chat_runtime

TZ = ZoneInfo("Asia/Shanghai")
SCAN = JOBS_BY_NAME["risk-scan"]
SETUP = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)


def at(day: str, clock: str = "11:30") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00").replace(tzinfo=TZ)


@dataclass
class Team:
    project: int
    ids: dict[str, int]  # member name -> id
    tasks: dict[str, int]  # code -> id


async def seed(engine: AsyncEngine, platform: str, *, people: Iterable[str] = ("erin", "frank")) -> Team:
    """The project, its 研发 department, the team on `platform`, one group chat and task 1.1 due
    Wed 12-02."""
    async with unit_of_work(session_factory(engine)) as session:
        project = Project(
            name="新品发布", timezone="Asia/Shanghai", locale="zh", created_at=SETUP, updated_at=SETUP
        )
        session.add(project)
        await session.flush()
        session.add(
            ChatBinding(
                project_id=project.id, platform=platform, chat_id="team", chat_type="group", created_at=SETUP
            )
        )
        members = {
            name: Member(
                project_id=project.id,
                platform=platform,
                platform_user_id=name,
                display_name=name,
                role="pm" if name == "alice" else "member",
                created_at=SETUP,
            )
            for name in ("alice", "bob", "carol", "dave", *people)
        }
        session.add_all(members.values())
        await session.flush()
        rd = Department(project_id=project.id, name="研发", head_member_id=members["bob"].id)
        session.add(rd)
        await session.flush()
        for name in ("bob", "carol", *people):
            members[name].department_id = rd.id
        phase = Task(project_id=project.id, code="1", title="开发", created_at=SETUP, updated_at=SETUP)
        session.add(phase)
        await session.flush()
        task = add_task(
            session, project.id, phase, "1.1", "后端接口", members["carol"], rd, "2026-11-23", "2026-12-02"
        )
        # Later work nobody owns yet keeps 1.1 off the critical path, so its alerts escalate by the
        # RACI over workdays (a slip on the critical path goes to the PMs at once).
        later = Task(
            project_id=project.id,
            code="1.9",
            title="验收",
            parent_id=phase.id,
            start_date=date(2026, 12, 21),
            due_date=date(2027, 1, 29),
            created_at=SETUP,
            updated_at=SETUP,
        )
        session.add(later)
        await session.flush()
        session.add_all(
            [
                RaciAssignment(task_id=task.id, member_id=members["carol"].id, role="R"),
                RaciAssignment(task_id=task.id, member_id=members["dave"].id, role="A"),
            ]
        )
        tasks = {"1": phase.id, "1.1": task.id, "1.9": later.id}
        return Team(project.id, {name: m.id for name, m in members.items()}, tasks)


def add_task(
    session: AsyncSession,
    project_id: int,
    phase: Task,
    code: str,
    title: str,
    owner: Member,
    department: Department,
    start: str,
    due: str,
    progress: int = 0,
) -> Task:
    task = Task(
        project_id=project_id,
        code=code,
        title=title,
        parent_id=phase.id,
        owner_member_id=owner.id,
        department_id=department.id,
        start_date=date.fromisoformat(start),
        due_date=date.fromisoformat(due),
        progress=progress,
        status="in_progress" if progress else "not_started",
        created_at=SETUP,
        updated_at=SETUP,
    )
    session.add(task)
    return task


class Bench:
    """A job runner and the app (on one platform) sharing one frozen clock; what was sent, by recipient."""

    chat: Chat  # the app's, once it runs
    last: list[Sent]  # what the last scan delivered, as the platform received it

    def __init__(self, engine: AsyncEngine, team: Team) -> None:
        self.factory = session_factory(engine)
        self.team = team
        self.project_id = team.project
        self.now = SETUP
        self.runner = JobRunner(self.factory, self.clock, jobs=(SCAN,))

    def clock(self) -> datetime:
        return self.now

    async def scan(self, day: str) -> dict[str, str]:
        self.now = at(day)
        outcomes = await self.runner.run_job(SCAN, at=self.now, project_id=self.project_id)
        assert [outcome.status for outcome in outcomes] == ["done"]
        return await self.delivered()

    async def delivered(self) -> dict[str, str]:
        """Each recipient ("user:carol", "chat:team", as the platform API calls say) -> the one
        message they got."""
        await self.chat.runtime.settle()
        self.last = self.chat.sent()
        result: dict[str, str] = {}
        for sent in self.last:
            key = f"{sent.kind}:{sent.target}"
            assert key not in result, f"two messages to {key}"
            result[key] = sent.text
        return result

    async def states(self) -> dict[tuple[str, str], AlertState]:
        async with self.factory() as session:
            rows = await session.scalars(select(AlertState).where(AlertState.project_id == self.project_id))
            return {(row.rule, row.subject): row for row in rows}

    async def update_task(self, task_id: int, **values: object) -> None:
        async with unit_of_work(self.factory) as session:
            task = await session.get(Task, task_id)
            assert task is not None
            for name, value in values.items():
                setattr(task, name, value)

    async def alerts(self, enabled: bool) -> None:
        async with unit_of_work(self.factory) as session:
            project = await session.get(Project, self.project_id)
            assert project is not None
            project.alerts_enabled = enabled


@pytest.fixture
async def bench(engine: AsyncEngine, platform: str) -> AsyncIterator[Bench]:
    """The seeded team on `platform`, and the app running on the bench's clock."""
    bench = Bench(engine, await seed(engine, platform))
    async with chat_runtime(engine, platform=platform, clock=bench.clock) as bench.chat:
        yield bench


async def test_an_overdue_task_escalates_by_the_raci_and_is_not_repeated(bench: Bench) -> None:
    team = bench.team
    overdue = f"task:{team.tasks['1.1']}"

    day0 = await bench.scan("2026-12-03")
    assert set(day0) == {"user:carol", "chat:team"}
    assert sorted(api_call(sent) for sent in bench.last) == (
        [
            "/open-apis/im/v1/messages chat_id=team",
            "/open-apis/im/v1/messages open_id=carol",
        ]
        if bench.chat.platform == "feishu"
        else [
            "/v1.0/robot/groupMessages/send openConversationId=team",
            "/v1.0/robot/oToMessages/batchSend userIds=carol",
        ]
    )
    assert "1.1 后端接口 已逾期 1 个工作日（截止 12-02）" in day0["user:carol"]
    assert "/完成 1.1" in day0["user:carol"]
    assert "新增或加重 1 项：任务逾期 1" in day0["chat:team"]
    assert "1.1 后端接口 已逾期 1 个工作日" in day0["chat:team"] and "@" not in day0["chat:team"]

    assert await bench.scan("2026-12-03") == {}  # a forced re-run the same day
    assert await bench.scan("2026-12-04") == {}  # one workday unresolved, no worse

    day2 = await bench.scan("2026-12-07")
    assert set(day2) == {"user:carol", "user:dave", "user:bob", "chat:team"}
    assert "2 个工作日未解决" in day2["user:dave"]
    assert "请跟进 @carol" in day2["user:dave"] and "请跟进 @carol" in day2["user:bob"]
    assert "/完成 1.1" in day2["user:carol"]

    assert await bench.scan("2026-12-08") == {}

    day4 = await bench.scan("2026-12-09")
    assert set(day4) == {"user:carol", "user:dave", "user:bob", "user:alice", "chat:team"}
    assert "已逾期 5 个工作日" in day4["user:alice"] and "4 个工作日未解决" in day4["user:alice"]

    state = (await bench.states())[("task_overdue", overdue)]
    assert (state.first_seen, state.last_sent, state.stage, state.severity, state.resolved_on) == (
        date(2026, 12, 3),
        date(2026, 12, 9),
        2,
        1,
        None,
    )

    # Done: the alert resolves quietly; reopened later, it starts again from the owner.
    await bench.update_task(team.tasks["1.1"], progress=100, status="done")
    assert await bench.scan("2026-12-10") == {}
    assert (await bench.states())[("task_overdue", overdue)].resolved_on == date(2026, 12, 10)
    await bench.update_task(team.tasks["1.1"], progress=90, status="in_progress")
    again = await bench.scan("2026-12-11")
    assert set(again) == {"user:carol", "chat:team"}
    state = (await bench.states())[("task_overdue", overdue)]
    assert (state.first_seen, state.stage, state.resolved_on) == (date(2026, 12, 11), 0, None)


async def test_a_slip_on_the_critical_path_reaches_the_pms_the_same_day(bench: Bench) -> None:
    team = bench.team
    # 1.9 done early (11-20..12-01): 1.1, due 12-02, now ends the plan and is on the critical path.
    await bench.update_task(
        team.tasks["1.9"],
        start_date=date(2026, 11, 20),
        due_date=date(2026, 12, 1),
        progress=100,
        status="done",
    )
    day0 = await bench.scan("2026-12-03")
    assert set(day0) == {"user:carol", "user:dave", "user:bob", "user:alice", "chat:team"}
    assert "1.1 后端接口 已逾期 1 个工作日（截止 12-02） · 🔺关键路径，会推迟项目结束" in day0["user:alice"]
    state = (await bench.states())[("task_overdue", f"task:{team.tasks['1.1']}")]
    assert (state.first_seen, state.stage) == (date(2026, 12, 3), 2)
    assert await bench.scan("2026-12-04") == {}  # told everyone already, and no worse


async def test_nobody_on_leave_is_chased_and_the_finding_waits_for_them(bench: Bench) -> None:
    assert "抱歉" not in await bench.chat.one("carol", "/请假 2026-12-03")
    assert await bench.scan("2026-12-03") == {}  # carol, 1.1's owner, is away: nobody is told yet
    back = await bench.scan("2026-12-04")
    assert set(back) == {"user:carol", "chat:team"}
    assert "1.1 后端接口 已逾期 2 个工作日" in back["user:carol"]


async def test_worse_severity_is_told_again_to_the_current_audience(bench: Bench) -> None:
    team = bench.team
    # 1.1 on track; 11-23..12-18 is 20 workdays: 45 % planned by the end of Thu 12-03, 50 % on Fri.
    await bench.update_task(team.tasks["1.1"], due_date=date(2026, 12, 18), progress=20, status="in_progress")

    first = await bench.scan("2026-12-03")
    assert set(first) == {"user:carol", "chat:team"}
    assert "落后计划 25 个百分点（实际 20%，计划 45%）" in first["user:carol"]
    assert await bench.scan("2026-12-04") == {}  # 30 behind: same severity

    await bench.update_task(team.tasks["1.1"], progress=5)  # 45 behind: a step worse
    worse = await bench.scan("2026-12-04")
    assert set(worse) == {"user:carol", "chat:team"}
    assert "落后计划 45 个百分点" in worse["user:carol"]

    await bench.update_task(team.tasks["1.1"], progress=30)  # better: nothing to say
    assert await bench.scan("2026-12-04") == {}
    state = (await bench.states())[("task_behind", f"task:{team.tasks['1.1']}")]
    assert (state.severity, state.last_sent) == (2, date(2026, 12, 4))


async def test_rest_days_are_skipped_and_a_forced_weekend_run_changes_nothing(bench: Bench) -> None:
    assert await bench.runner.tick(at("2026-12-05", "12:00")) == []  # Saturday: not due
    assert await bench.scan("2026-12-05") == {}  # forced anyway
    assert await bench.states() == {}

    assert await bench.runner.tick(at("2026-12-03", "10:59")) == []  # before the standup cutoff
    outcomes = await bench.runner.tick(at("2026-12-03", "11:00"))
    assert [(o.job, o.business_date, o.status) for o in outcomes] == [
        ("risk-scan", date(2026, 12, 3), "done")
    ]
    bench.now = at("2026-12-03", "11:00")
    assert set(await bench.delivered()) == {"user:carol", "chat:team"}
    outcomes = await bench.runner.tick(at("2026-12-03", "15:00"))
    assert [o.status for o in outcomes] == ["skipped"]  # claimed for the day
    assert await bench.delivered() == {}


async def test_alerts_off_sends_nothing_and_on_again_starts_from_the_owner(bench: Bench) -> None:
    team = bench.team
    assert set(await bench.scan("2026-12-03")) == {"user:carol", "chat:team"}

    await bench.alerts(False)
    assert await bench.scan("2026-12-04") == {}
    assert await bench.scan("2026-12-07") == {}  # would have escalated to dave and bob
    overdue = ("task_overdue", f"task:{team.tasks['1.1']}")
    assert (await bench.states())[overdue].resolved_on == date(2026, 12, 4)

    await bench.alerts(True)
    assert set(await bench.scan("2026-12-08")) == {"user:carol", "chat:team"}
    assert (await bench.states())[overdue].first_seen == date(2026, 12, 8)


async def test_every_rule_from_the_tables_one_digest_per_person(bench: Bench) -> None:
    team = bench.team
    ids = team.ids
    today = date(2026, 12, 3)
    window = [date(2026, 11, d) for d in (23, 24, 25, 26, 27, 30)] + [date(2026, 12, d) for d in (1, 2, 3)]
    async with unit_of_work(bench.factory) as session:
        phase = await session.get(Task, team.tasks["1"])
        rd = await session.scalar(select(Department))
        people = {m.platform_user_id: m for m in await session.scalars(select(Member))}
        assert phase is not None and rd is not None
        # Behind (20 % of 45 % planned), with a blocker raised Tue 12-01 10:00 local: 2 workdays open.
        behind = add_task(
            session, team.project, phase, "1.2", "前端", people["carol"], rd, "2026-11-23", "2026-12-18", 20
        )
        # Starts Mon 12-07 after 1.1, which is overdue: erin is told.
        downstream = add_task(
            session, team.project, phase, "1.3", "联调", people["erin"], rd, "2026-12-07", "2026-12-18"
        )
        # frank's task has a blocker raised Wed 12-02 01:00 local (Tue in UTC): only 1 workday open.
        franks = add_task(
            session, team.project, phase, "1.4", "文档", people["frank"], rd, "2026-11-23", "2026-12-31", 20
        )
        await session.flush()
        session.add(TaskDependency(task_id=downstream.id, depends_on_id=team.tasks["1.1"]))
        session.add_all(
            [
                Blocker(
                    task_id=behind.id,
                    text="测试环境未就绪",
                    created_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
                ),
                Blocker(
                    task_id=franks.id, text="等待评审", created_at=datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
                ),
            ]
        )
        # Standups were asked for every workday. carol answered; erin last on 12-01; frank missed
        # 12-02 and 12-03 but was on leave on 12-02, so only one missed standup counts.
        session.add_all(
            JobRun(
                job="standup-prompt",
                project_id=team.project,
                business_date=day,
                status="done",
                started_at=SETUP,
            )
            for day in window
        )
        reports = [("carol", day) for day in window] + [
            ("erin", date(2026, 12, 1)),
            ("frank", date(2026, 12, 1)),
        ]
        session.add_all(
            StandupReport(
                project_id=team.project,
                member_id=ids[name],
                business_date=day,
                text="ok",
                parsed={},
                created_at=SETUP,
                updated_at=SETUP,
            )
            for name, day in reports
        )
        session.add(
            Leave(
                project_id=team.project,
                member_id=ids["frank"],
                start_date=date(2026, 12, 2),
                end_date=date(2026, 12, 2),
                created_at=SETUP,
            )
        )
        # R1 was last touched 11-25 (its history), R2 on 11-30 (its history, the row is older).
        for number, level, touched in (
            (1, "high", datetime(2026, 11, 25, 3, 0, tzinfo=UTC)),
            (2, "medium", datetime(2026, 11, 30, 3, 0, tzinfo=UTC)),
        ):
            risk = Risk(
                project_id=team.project,
                number=number,
                description=f"风险 {number}",
                level=level,
                owner_member_id=ids["dave"],
                status="open",
                created_at=SETUP,
                updated_at=SETUP,
            )
            session.add(risk)
            await session.flush()
            session.add(RiskEvent(risk_id=risk.id, from_status="new", to_status="open", created_at=touched))
        session.add(
            ActionItem(
                project_id=team.project,
                number=1,
                owner_member_id=ids["erin"],
                text="发会议纪要",
                due_date=date(2026, 12, 1),
                created_at=SETUP,
            )
        )

    sent = await bench.scan(today.isoformat())

    states = await bench.states()
    risk_ids = {r.number: r.id for r in await _risks(bench)}
    action_id = await _action_id(bench)
    assert set(states) == {
        ("task_overdue", f"task:{team.tasks['1.1']}"),
        ("task_behind", f"task:{behind.id}"),
        ("upstream_late", f"task:{downstream.id}"),
        ("blocker_open", f"task:{behind.id}"),
        ("standup_missing", f"member:{ids['erin']}"),
        ("risk_stale", f"risk:{risk_ids[1]}"),
        ("action_overdue", f"action:{action_id}"),
    }
    assert set(sent) == {"user:carol", "user:erin", "user:dave", "chat:team"}
    assert "今日提醒 3 项" in sent["user:carol"]
    assert all(
        text in sent["user:carol"] for text in ("1.1 后端接口 已逾期", "1.2 前端 落后计划", "测试环境未就绪")
    )
    assert "今日提醒 3 项" in sent["user:erin"]
    assert "1.3 联调 计划 12-07 开始，但前置任务 1.1 未完成" in sent["user:erin"]
    assert "@erin 已连续 2 个工作日未交站会" in sent["user:erin"]
    assert "行动项 A1 已逾期 2 个工作日" in sent["user:erin"]
    assert "风险 R1（高）已 8 天没有更新" in sent["user:dave"]
    group = sent["chat:team"]
    assert "新增或加重 7 项" in group and "未交站会 1" in group and "@" not in group
    assert await bench.scan(today.isoformat()) == {}


async def _risks(bench: Bench) -> list[Risk]:
    async with bench.factory() as session:
        return list(await session.scalars(select(Risk)))


async def _action_id(bench: Bench) -> int:
    async with bench.factory() as session:
        item = await session.scalar(select(ActionItem))
        assert item is not None
        return item.id


async def test_an_english_project_is_alerted_in_english(bench: Bench) -> None:
    team = bench.team
    async with unit_of_work(bench.factory) as session:
        project = await session.get(Project, team.project)
        assert project is not None
        project.locale = "en"
    sent = await bench.scan("2026-12-03")
    assert "1 alert today" in sent["user:carol"]
    assert "1.1 后端接口: 1 workday overdue (due 12-02)" in sent["user:carol"]
    assert "/done 1.1" in sent["user:carol"]
    assert "1 new or worse: overdue tasks 1" in sent["chat:team"]


async def test_a_milestone_pushed_past_its_baseline_alerts_once_like_a_late_one(bench: Bench) -> None:
    """Milestone #1 (on 1.1) and #2 (no tasks) promised in baseline 1, then moved later: each is
    told once, to 1.1's owner and to the PMs respectively, again only when it slips a week more,
    and resolves when it is back on its date."""
    team = bench.team
    chat = bench.chat
    # 1.1 on track (11-23..12-18, 60 % done): nothing else to alert about.
    await bench.update_task(team.tasks["1.1"], due_date=date(2026, 12, 18), progress=60, status="in_progress")
    assert "#1" in await chat.one("alice", "/里程碑 添加 上线 截止=2026-12-10 任务=1.1")
    assert "#2" in await chat.one("alice", "/里程碑 添加 验收 截止=2026-12-11")
    assert await bench.scan("2026-12-03") == {}  # no baseline yet: nothing was promised
    assert "基线 1" in await chat.one("alice", "/基线 设定 首版计划")
    assert await bench.scan("2026-12-03") == {}  # on their baseline dates
    await chat.one("alice", "/里程碑 修改 1 截止=2026-12-16")
    await chat.one("alice", "/里程碑 修改 2 截止=2026-12-14")
    chat.sent()

    day0 = await bench.scan("2026-12-04")
    assert set(day0) == {"user:carol", "user:alice", "chat:team"}
    assert "📍 里程碑 #1 上线 已推迟到 12-16，比基线 12-10 晚 4 个工作日" in day0["user:carol"]
    assert "与项目经理商定如何赶回基线日期" in day0["user:carol"]
    assert "里程碑 #2 验收 已推迟到 12-14，比基线 12-11 晚 1 个工作日" in day0["user:alice"]
    assert "里程碑 #1" not in day0["user:alice"]  # the PMs hear of #1 once it escalates
    assert "新增或加重 2 项：里程碑晚于基线 2" in day0["chat:team"]
    assert await bench.scan("2026-12-04") == {}  # told once, not again the same day
    assert await bench.scan("2026-12-07") == {}  # one workday unresolved, no worse

    day2 = await bench.scan("2026-12-08")  # escalated like a task's finding: its A and head
    assert set(day2) == {"user:carol", "user:dave", "user:bob", "user:alice", "chat:team"}
    assert "里程碑 #1 上线" in day2["user:dave"] and "请跟进 @carol" in day2["user:dave"]
    assert "里程碑 #1 上线" in day2["user:bob"] and "里程碑 #1" not in day2["user:alice"]

    # Another working week late: worse, so told again; back on its date: resolved quietly.
    await chat.one("alice", "/里程碑 修改 2 截止=2026-12-21")
    chat.sent()
    worse = await bench.scan("2026-12-09")
    assert set(worse) == {"user:alice", "chat:team"}
    assert "里程碑 #2 验收 已推迟到 12-21，比基线 12-11 晚 6 个工作日" in worse["user:alice"]
    await chat.one("alice", "/里程碑 修改 1 截止=2026-12-10")
    chat.sent()
    await bench.scan("2026-12-10")
    resolved = [
        state.resolved_on
        for (rule, _), state in (await bench.states()).items()
        if rule == "milestone_slipped"
    ]
    assert sorted(resolved, key=str) == [date(2026, 12, 10), None]
