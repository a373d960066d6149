"""Baselines: snapshots of the plan's dates (tasks, milestones, the charter's) that slip is measured
against. Setting one again keeps the earlier ones, numbered, with who set it and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.domain import baseline as slip
from bot.domain.baseline import Dated
from bot.domain.workdays import WorkCalendar
from bot.services import audit, tasks
from bot.services.audit import Actor
from storage.models import Baseline, BaselineItem, Member, Milestone, Project


async def current_items(session: AsyncSession, project_id: int) -> list[Dated]:
    """Every task's effective dates (a parent spans its children) and every milestone's due date."""
    task_list = await tasks.ordered(session, project_id)
    rolled = tasks.effective(task_list)
    items = [
        Dated("task", task.id, task.code, task.title, rolled[task.code].start, rolled[task.code].due)
        for task in task_list
    ]
    milestones = await session.scalars(
        select(Milestone).where(Milestone.project_id == project_id).order_by(Milestone.number)
    )
    items += [
        Dated("milestone", milestone.id, str(milestone.number), milestone.title, None, milestone.due_date)
        for milestone in milestones
    ]
    return items


def items_of(baseline: Baseline) -> list[Dated]:
    return [
        Dated(
            "task" if item.kind == "task" else "milestone",
            item.ref_id,
            item.code,
            item.title,
            item.start_date,
            item.due_date,
        )
        for item in baseline.items
    ]


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


@dataclass(frozen=True)
class Slips:
    """The plan against the baseline in force: what moved, keyed by (kind, id), and the plan end."""

    number: int
    then: dict[tuple[slip.Kind, int], Dated]  # every item of the baseline, by (kind, id)
    moved: list[slip.Moved]
    end_then: date | None
    end_now: date | None
    overall: int  # workdays the plan's end moved

    def due_moved(self, kind: slip.Kind, ref_id: int) -> slip.Moved | None:
        """The item's change when its due date moved (not when it was added or only its start moved)."""
        for change in self.moved:
            if (
                change.item.key == (kind, ref_id)
                and change.then
                and change.now
                and change.then.due != change.now.due
            ):
                return change
        return None

    def slipped_milestones(self) -> list[slip.Moved]:
        """Milestones now due after their baseline date: late against the promise."""
        return [m for m in self.moved if m.item.kind == "milestone" and m.slip > 0]


async def slips(session: AsyncSession, project_id: int, calendar: WorkCalendar) -> Slips | None:
    """The current plan against the latest baseline; None when no baseline was set."""
    found = await latest(session, project_id)
    if found is None:
        return None
    then, now = items_of(found[0]), await current_items(session, project_id)
    return Slips(
        number=found[0].number,
        then={item.key: item for item in then},
        moved=slip.compare(then, now, calendar),
        end_then=slip.plan_end(then),
        end_now=slip.plan_end(now),
        overall=slip.overall_slip(then, now, calendar),
    )
