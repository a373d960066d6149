"""Task lookups and the roll-up that keeps parents' stored progress and status in step with children."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import wbs
from storage.models import Task, TaskDependency


async def by_code(session: AsyncSession, project_id: int, code: str) -> Task | None:
    return await session.scalar(select(Task).where(Task.project_id == project_id, Task.code == code))


async def ordered(session: AsyncSession, project_id: int) -> list[Task]:
    """Every task of the project in WBS order (1, 1.1, 1.2, 1.10, 2)."""
    tasks = list(await session.scalars(select(Task).where(Task.project_id == project_id)))
    return sorted(tasks, key=lambda task: wbs.code_key(task.code))


async def dependencies(session: AsyncSession, project_id: int) -> dict[str, set[str]]:
    """Code -> codes it depends on (finish-to-start)."""
    task = Task.__table__.alias("task")
    upstream = Task.__table__.alias("upstream")
    rows = await session.execute(
        select(task.c.code, upstream.c.code)
        .select_from(TaskDependency)
        .join(task, task.c.id == TaskDependency.task_id)
        .join(upstream, upstream.c.id == TaskDependency.depends_on_id)
        .where(task.c.project_id == project_id)
    )
    graph: dict[str, set[str]] = {}
    for code, depends_on in rows:
        graph.setdefault(code, set()).add(depends_on)
    return graph


async def dependency_codes(session: AsyncSession, task_id: int) -> list[str]:
    """The codes one task depends on, in WBS order."""
    result = await session.scalars(
        select(Task.code)
        .join(TaskDependency, TaskDependency.depends_on_id == Task.id)
        .where(TaskDependency.task_id == task_id)
    )
    return sorted(result, key=wbs.code_key)


def effective(tasks: list[Task]) -> dict[str, wbs.Rolled]:
    """Each task's effective dates, progress and status (parents derived from their children)."""
    return wbs.rollup(wbs.Node(t.code, t.start_date, t.due_date, t.progress, t.status) for t in tasks)


async def refresh_rollups(*, session: AsyncSession, project_id: int) -> None:
    """Store parents' derived progress and status; call after any change to tasks or progress."""
    tasks = await ordered(session, project_id)
    rolled = effective(tasks)
    parents = {wbs.parent_of(task.code) for task in tasks}
    for task in tasks:
        if task.code in parents:
            task.progress = rolled[task.code].progress
            task.status = rolled[task.code].status
