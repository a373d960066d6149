"""The project's read model (bot/services/snapshot.py) is read in a fixed number of queries, whatever
the size of the plan: counted with a `before_cursor_execute` listener on a plan of 5 tasks and one of
60 (with more dependencies, RACI entries, milestones, blockers, risks, action items, a bigger
baseline and more progress history), for the loader itself and end to end for /status, /tasks,
/overdue and the weekly report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import views
from bot.services import snapshot
from storage.db import session_factory, unit_of_work
from storage.models import (
    ActionItem,
    Baseline,
    BaselineItem,
    Blocker,
    CalendarOverride,
    ChatBinding,
    Department,
    Member,
    Milestone,
    MilestoneTask,
    ProgressUpdate,
    Project,
    RaciAssignment,
    Risk,
    RiskEvent,
    Task,
    TaskDependency,
)
from tests.harness import chat_runtime

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 11-25, 10:00 in Shanghai
START = date(2026, 11, 2)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements run on `engine` inside the block, as a list filled as they run; not the
    outbox worker's nor the inbound sweeper's, which poll on their own schedule (a poll landing
    inside one command would count against it), nor the event's own bookkeeping in inbound_events,
    which is the same for every command."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statement = args[2]
        if not any(table in statement for table in ("outbox", "inbound_events")) and not statement.startswith(
            "BEGIN"
        ):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def seed(engine: AsyncEngine, chat: str, phases: int) -> int:
    """A project bound to group `chat` on Feishu: `phases` phases of 4 tasks each (a chain of
    dependencies inside a phase and from phase to phase), each task with an owner, R and A, each
    phase with a milestone over its tasks, a blocker, a risk with history, an action item and a
    progress update; a baseline over all of it. Returns the project id."""
    async with unit_of_work(session_factory(engine)) as session:
        project = Project(
            name=f"项目 {chat}", timezone="Asia/Shanghai", locale="zh", created_at=NOW, updated_at=NOW
        )
        session.add(project)
        await session.flush()
        pid = project.id
        session.add(
            ChatBinding(project_id=pid, platform="feishu", chat_id=chat, is_default=True, created_at=NOW)
        )
        session.add(CalendarOverride(project_id=pid, day=date(2026, 11, 27), kind="holiday", created_at=NOW))
        department = Department(project_id=pid, name="研发")
        session.add(department)
        await session.flush()
        people = [
            Member(
                project_id=pid,
                platform="feishu",
                platform_user_id=name,
                display_name=name,
                role="pm" if name == "alice" else "member",
                department_id=department.id,
                created_at=NOW,
            )
            for name in ("alice", "bob", "carol")
        ]
        session.add_all(people)
        await session.flush()
        department.head_member_id = people[1].id
        previous: Task | None = None
        items: list[BaselineItem] = []
        for number in range(1, phases + 1):
            phase = Task(
                project_id=pid, code=str(number), title=f"阶段{number}", created_at=NOW, updated_at=NOW
            )
            session.add(phase)
            await session.flush()
            leaves = []
            for sub in range(1, 5):
                begin = START + timedelta(days=7 * (number - 1) + 2 * (sub - 1))
                task = Task(
                    project_id=pid,
                    code=f"{number}.{sub}",
                    title=f"任务{number}.{sub}",
                    parent_id=phase.id,
                    owner_member_id=people[2].id if sub % 2 else None,
                    department_id=department.id,
                    start_date=begin,
                    due_date=begin + timedelta(days=3),
                    progress=30 * (sub % 3),
                    status="in_progress" if sub % 3 else "not_started",
                    created_at=NOW,
                    updated_at=NOW,
                )
                session.add(task)
                await session.flush()
                session.add_all(
                    [
                        RaciAssignment(task_id=task.id, member_id=people[2].id, role="R"),
                        RaciAssignment(task_id=task.id, member_id=people[1].id, role="A"),
                    ]
                )
                if previous is not None:
                    session.add(TaskDependency(task_id=task.id, depends_on_id=previous.id))
                previous = task
                leaves.append(task)
                items.append(
                    BaselineItem(
                        kind="task",
                        ref_id=task.id,
                        code=task.code,
                        title=task.title,
                        start_date=task.start_date,
                        due_date=task.due_date,
                    )
                )
            milestone = Milestone(
                project_id=pid,
                number=number,
                title=f"里程碑{number}",
                due_date=START + timedelta(days=7 * number),
                created_at=NOW,
            )
            session.add(milestone)
            await session.flush()
            session.add_all(MilestoneTask(milestone_id=milestone.id, task_id=task.id) for task in leaves)
            items.append(
                BaselineItem(
                    kind="milestone",
                    ref_id=milestone.id,
                    code=str(number),
                    title=milestone.title,
                    due_date=milestone.due_date - timedelta(days=1),  # moved a day since
                )
            )
            session.add(Blocker(task_id=leaves[0].id, text="等接口", created_at=NOW - timedelta(days=2)))
            session.add(
                ProgressUpdate(
                    task_id=leaves[0].id,
                    previous_progress=0,
                    progress=30,
                    source="command",
                    created_at=NOW - timedelta(days=1),
                )
            )
            risk = Risk(
                project_id=pid,
                number=number,
                description=f"风险{number}",
                level=("high", "medium", "low")[number % 3],
                owner_member_id=people[1].id,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(risk)
            await session.flush()
            session.add(RiskEvent(risk_id=risk.id, to_status="open", created_at=NOW))
            session.add(
                ActionItem(
                    project_id=pid,
                    number=number,
                    owner_member_id=people[2].id,
                    text=f"行动{number}",
                    due_date=START + timedelta(days=number),
                    created_at=NOW,
                )
            )
        session.add(Baseline(project_id=pid, number=1, reason="首版", created_at=NOW, items=items))
        return pid


async def _load_counts(engine: AsyncEngine, pid: int) -> tuple[int, int, views.Overview]:
    """Statements run by loading the project (with a week of history), and the plan's size."""
    async with session_factory(engine)() as session:
        project = await session.get(Project, pid)
        assert project is not None
        with counting(engine) as statements:
            snap = await snapshot.load(session, project, history=(NOW - timedelta(days=7), NOW))
        return len(statements), len(snap.tasks), views.overview(snap, NOW.date())


async def test_the_snapshot_and_status_take_the_same_queries_for_a_bigger_plan(engine: AsyncEngine) -> None:
    small, large = await seed(engine, "small", 1), await seed(engine, "large", 12)

    small_count, small_tasks, small_view = await _load_counts(engine, small)
    large_count, large_tasks, large_view = await _load_counts(engine, large)
    assert (small_tasks, large_tasks) == (5, 60)
    assert small_count == large_count
    # The loaded rows are all there: each phase's blocker and risk; every milestone counted as
    # missed (moved a day past its baseline, or past due).
    assert (small_view.open_blockers, large_view.open_blockers) == (1, 12)
    assert sum(large_view.open_risks.values()) == 12
    assert large_view.outlook.missed == 12

    async with chat_runtime(engine, platform="feishu", now=NOW) as chat:
        for room in ("small", "large"):  # first contact does one-time bookkeeping: not counted
            await chat.say("alice", "/状态", chat=room)
        counts: dict[str, list[int]] = {}
        replies: dict[str, str] = {}
        for room in ("small", "large"):
            for line in ("/状态", "/任务列表", "/逾期", "/周报"):
                with counting(chat.runtime.engine) as statements:  # the app's own engine
                    [reply] = await chat.say("alice", line, chat=room)
                counts.setdefault(line, []).append(len(statements))
                replies[f"{room} {line}"] = reply
    assert "11 个任务逾期 · 12 个里程碑逾期" in replies["large /状态"]
    assert "⛔ 未解除卡点 12 个" in replies["large /状态"] and "高 4 · 中 4 · 低 4" in replies["large /状态"]
    assert "逾期 5 项" in replies["small /逾期"]
    assert "第 1/2 页" in replies["large /任务列表"] and "1.4" in replies["small /任务列表"]
    for line, (small_statements, large_statements) in counts.items():
        assert small_statements == large_statements, (line, counts)
