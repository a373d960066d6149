"""Load a project's read model (bot/domain/snapshot.py) in a fixed number of queries, whatever the
size of its plan: one per kind of row, never one per task, milestone or risk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import wbs
from bot.domain.snapshot import (
    ActionRec,
    BaselineRec,
    BlockerRec,
    DepartmentRec,
    MemberRec,
    MilestoneRec,
    ProgressRec,
    ProjectSnapshot,
    RaciRec,
    RiskMoveRec,
    RiskRec,
    TaskRec,
)
from bot.services import baselines
from bot.services import calendar as calendar_service
from storage.models import (
    ActionItem,
    Baseline,
    BaselineItem,
    Blocker,
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


async def load(
    session: AsyncSession, project: Project, *, history: tuple[datetime, datetime] | None = None
) -> ProjectSnapshot:
    """The project as it is now; with `history` (from, until) also its progress updates and risk
    status changes in that window."""
    pid = project.id
    departments = tuple(
        DepartmentRec(d.id, d.name, d.head_member_id)
        for d in await session.scalars(
            select(Department).where(Department.project_id == pid).order_by(Department.id)
        )
    )
    everyone = [
        (
            MemberRec(
                m.id, m.platform, m.platform_user_id, m.display_name, m.department_id, m.role, m.created_at
            ),
            m,
        )
        for m in await session.scalars(select(Member).where(Member.project_id == pid).order_by(Member.id))
    ]
    members = tuple(record for record, m in everyone if m.removed_at is None)
    removed_members = tuple(record for record, m in everyone if m.removed_at is not None)
    tasks = tuple(
        sorted(
            (
                TaskRec(
                    t.id,
                    t.code,
                    t.parent_id,
                    t.title,
                    t.owner_member_id,
                    t.department_id,
                    t.start_date,
                    t.due_date,
                    t.progress,
                    t.status,
                    t.created_at,
                )
                for t in await session.scalars(select(Task).where(Task.project_id == pid))
            ),
            key=lambda task: wbs.code_key(task.code),
        )
    )
    in_project = select(Task.id).where(Task.project_id == pid).scalar_subquery()
    depends_on: dict[int, list[int]] = {}
    for task_id, upstream_id in await session.execute(
        select(TaskDependency.task_id, TaskDependency.depends_on_id).where(
            TaskDependency.task_id.in_(in_project)
        )
    ):
        depends_on.setdefault(task_id, []).append(upstream_id)
    raci = tuple(
        RaciRec(*row)
        for row in await session.execute(
            select(
                RaciAssignment.task_id,
                RaciAssignment.role,
                RaciAssignment.member_id,
                RaciAssignment.department_id,
            )
            .where(RaciAssignment.task_id.in_(in_project))
            .order_by(RaciAssignment.id)
        )
    )
    linked: dict[int, list[int]] = {}
    for milestone_id, task_id in await session.execute(
        select(MilestoneTask.milestone_id, MilestoneTask.task_id)
        .join(Milestone, Milestone.id == MilestoneTask.milestone_id)
        .where(Milestone.project_id == pid)
        .order_by(MilestoneTask.task_id)
    ):
        linked.setdefault(milestone_id, []).append(task_id)
    milestones = tuple(
        MilestoneRec(m.id, m.number, m.title, m.due_date, m.status, m.done_at, tuple(linked.get(m.id, ())))
        for m in await session.scalars(
            select(Milestone).where(Milestone.project_id == pid).order_by(Milestone.number)
        )
    )
    blockers = tuple(
        BlockerRec(b.id, b.task_id, b.text, b.raised_by_member_id, b.created_at)
        for b in await session.scalars(
            select(Blocker)
            .where(Blocker.task_id.in_(in_project), Blocker.status == "open")
            .order_by(Blocker.created_at, Blocker.id)
        )
    )
    last_event = select(func.max(RiskEvent.created_at)).where(RiskEvent.risk_id == Risk.id).scalar_subquery()
    risks = tuple(
        RiskRec(
            r.id,
            r.number,
            r.description,
            r.level,
            r.owner_member_id,
            r.mitigation,
            r.status,
            r.created_at,
            r.updated_at,
            last_at,
        )
        for r, last_at in await session.execute(
            select(Risk, last_event).where(Risk.project_id == pid).order_by(Risk.number)
        )
    )
    actions = tuple(
        ActionRec(a.id, a.number, a.owner_member_id, a.text, a.due_date, a.status, a.source_meeting)
        for a in await session.scalars(
            select(ActionItem).where(ActionItem.project_id == pid).order_by(ActionItem.number)
        )
    )
    updates: tuple[ProgressRec, ...] = ()
    moves: tuple[RiskMoveRec, ...] = ()
    if history is not None:
        since, until = history
        updates = tuple(
            ProgressRec(*row)
            for row in await session.execute(
                select(
                    ProgressUpdate.task_id,
                    ProgressUpdate.previous_progress,
                    ProgressUpdate.progress,
                    ProgressUpdate.created_at,
                )
                .where(
                    ProgressUpdate.task_id.in_(in_project),
                    ProgressUpdate.created_at >= since,
                    ProgressUpdate.created_at < until,
                )
                .order_by(ProgressUpdate.created_at, ProgressUpdate.id)
            )
        )
        moves = tuple(
            RiskMoveRec(*row)
            for row in await session.execute(
                select(RiskEvent.risk_id, RiskEvent.to_status, RiskEvent.created_at)
                .join(Risk, Risk.id == RiskEvent.risk_id)
                .where(Risk.project_id == pid, RiskEvent.created_at >= since, RiskEvent.created_at < until)
                .order_by(RiskEvent.id)
            )
        )
    return ProjectSnapshot(
        project_id=pid,
        end=project.end_date,
        calendar=await calendar_service.for_project(session, pid),
        departments=departments,
        members=members,
        removed_members=removed_members,
        tasks=tasks,
        depends_on={task_id: tuple(ups) for task_id, ups in depends_on.items()},
        raci=raci,
        milestones=milestones,
        blockers=blockers,
        risks=risks,
        actions=actions,
        baseline=await _baseline(session, pid),
        updates=updates,
        risk_moves=moves,
    )


async def _baseline(session: AsyncSession, project_id: int) -> BaselineRec | None:
    """The baseline in force (the newest) with its items, in one query."""
    newest = select(func.max(Baseline.number)).where(Baseline.project_id == project_id).scalar_subquery()
    rows = list(
        await session.execute(
            select(Baseline.number, BaselineItem)
            .outerjoin(BaselineItem, BaselineItem.baseline_id == Baseline.id)
            .where(Baseline.project_id == project_id, Baseline.number == newest)
            .order_by(BaselineItem.id)
        )
    )
    if not rows:
        return None
    items = tuple(baselines.dated(item) for _, item in rows if item is not None)
    return BaselineRec(rows[0][0], items)
