"""Baselines: snapshots of the plan's dates (tasks, milestones, the charter's) that slip is measured
against. Setting one again keeps the earlier ones, numbered, with who set it and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.domain import baseline as slip
from bot.domain.baseline import Dated
from bot.services import audit, tasks
from bot.services.audit import Actor
from storage.models import Baseline, BaselineItem, Member, Milestone, Project


async def current_items(session: AsyncSession, project_id: int) -> list[Dated]:
    """Every task's effective dates (a parent spans its children) and every milestone's due date."""
    task_list = await tasks.ordered(session, project_id)
    milestones = await session.scalars(select(Milestone).where(Milestone.project_id == project_id))
    return slip.current_items(task_list, tasks.effective(task_list), milestones)


def dated(item: BaselineItem) -> Dated:
    return Dated(
        "task" if item.kind == "task" else "milestone",
        item.ref_id,
        item.code,
        item.title,
        item.start_date,
        item.due_date,
    )


def items_of(baseline: Baseline) -> list[Dated]:
    return [dated(item) for item in baseline.items]


async def set_baseline(
    *,
    session: AsyncSession,
    project: Project,
    reason: str,
    setter: Member | None,
    actor: Actor,
    now: datetime,
) -> Baseline:
    """Snapshot the plan as baseline N+1."""
    last = await session.scalar(select(func.max(Baseline.number)).where(Baseline.project_id == project.id))
    items = await current_items(session, project.id)
    baseline = Baseline(
        project_id=project.id,
        number=(last or 0) + 1,
        reason=reason,
        set_by_member_id=setter.id if setter is not None else None,
        project_start=project.start_date,
        project_end=project.end_date,
        created_at=now,
        items=[
            BaselineItem(
                kind=item.kind,
                ref_id=item.ref_id,
                code=item.code,
                title=item.title,
                start_date=item.start,
                due_date=item.due,
            )
            for item in items
        ],
    )
    session.add(baseline)
    await session.flush()
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="baseline.set",
        entity="baseline",
        entity_id=baseline.id,
        after={"number": baseline.number, "reason": reason, "items": len(items)},
    )
    return baseline


async def latest(session: AsyncSession, project_id: int) -> tuple[Baseline, Member | None] | None:
    """The baseline in force (the newest) with its items, and who set it."""
    row = (
        await session.execute(
            select(Baseline, Member)
            .outerjoin(Member, Member.id == Baseline.set_by_member_id)
            .where(Baseline.project_id == project_id)
            .order_by(Baseline.number.desc())
            .limit(1)
            .options(selectinload(Baseline.items))
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def history(session: AsyncSession, project_id: int) -> list[tuple[Baseline, Member | None, int]]:
    """Every baseline, newest first, with who set it and how many items it holds."""
    items = (
        select(func.count())
        .where(BaselineItem.baseline_id == Baseline.id)
        .correlate(Baseline)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Baseline, Member, items)
        .outerjoin(Member, Member.id == Baseline.set_by_member_id)
        .where(Baseline.project_id == project_id)
        .order_by(Baseline.number.desc())
    )
    return [(baseline, member, int(count)) for baseline, member, count in rows]
