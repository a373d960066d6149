"""The weekly report's use cases: load the project into the pure report, keep snapshots, sync the table.

Snapshots are derived records (like outbox rows), not project data, so they are not audited.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import SendError, TableWriter
from bot.domain import report as domain
from bot.domain import wbs
from bot.domain.baseline import Slips
from bot.domain.report import Person, ReportInput, WeeklyReport, week_of
from bot.domain.snapshot import TaskRec
from bot.domain.workdays import WorkCalendar
from bot.render import report as report_render
from bot.services import changes, participation, resources, snapshot
from storage.models import (
    Project,
    ReportSnapshot,
    TableSyncRecord,
)

T = TypeVar("T")

# Waits before the 2nd and 3rd attempt of a table call that failed in a retryable way (a write
# conflict clears in a second or two, says Feishu).
RETRY_DELAYS = (1.0, 3.0)
# How many earlier weeks a run looks back at for a table sync that failed.
RESYNC_WEEKS = 4


# --- building ---------------------------------------------------------------------------------------


async def build(
    session: AsyncSession, project: Project, *, today: date, now: datetime, calendar: WorkCalendar
) -> WeeklyReport:
    """The report of the week containing `today`, as of `now`."""
    data = await load(session, project, today=today, now=now)
    # Pure and proportional to the plan: off the event loop, which serves every chat meanwhile.
    return await asyncio.to_thread(domain.build, data, calendar)


def _baseline_in(against: Slips | None) -> domain.BaselineIn | None:
    if against is None:
        return None
    return domain.BaselineIn(
        number=against.number,
        end_slip=against.overall,
        moved=tuple(
            domain.MovedLine(
                kind=m.item.kind,
                code=m.item.code,
                title=m.item.title,
                then=m.then.due if m.then else None,
                now=m.now.due if m.now else None,
                slip=m.slip,
                added=m.then is None,
                deleted=m.now is None,
            )
            for m in against.moved
        ),
    )


async def load(session: AsyncSession, project: Project, *, today: date, now: datetime) -> ReportInput:
    pid = project.id
    tz = ZoneInfo(project.timezone)
    week_start, week_end = week_of(today)
    # The week in UTC terms: from Monday 00:00 to the next Monday 00:00, project time.
    since = datetime.combine(week_start, time(), tzinfo=tz)
    until = datetime.combine(week_end + timedelta(days=1), time(), tzinfo=tz)
    snap = await snapshot.load(session, project, history=(since, until))
    week = await participation.of_snapshot(
        session, project, snap, since=week_start, until=week_end, today=today, now=now
    )

    def local(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    def person(member_id: int | None) -> Person | None:
        member = snap.member_by_id.get(member_id) if member_id is not None else None
        return None if member is None else Person(member.platform_user_id, member.name)

    departments = {department.id: department.name for department in snap.departments}
    by_code = {task.code: task for task in snap.tasks}
    code_of = {task.id: task.code for task in snap.tasks}

    def department(task: TaskRec) -> str:
        """The task's department, else its nearest ancestor's."""
        code: str | None = task.code
        while code is not None:
            node = by_code.get(code)
            if node is not None and node.department_id in departments:
                return departments[node.department_id]
            code = wbs.parent_of(code)
        return ""

    moves: dict[int, list[str]] = {}
    for move in snap.risk_moves:
        moves.setdefault(move.risk_id, []).append(move.to_status)
    against = snap.slips
    baseline_due = (
        {m.item.ref_id: m.then.due for m in against.moved if m.item.kind == "milestone" and m.then}
        if against
        else {}
    )
    return ReportInput(
        project_id=pid,
        project_name=project.name,
        today=today,
        end=project.end_date,
        tasks=[
            domain.TaskIn(
                code=task.code,
                title=task.title,
                start=task.start_date,
                due=task.due_date,
                progress=task.progress,
                status=task.status,
                owners=tuple(Person(m.platform_user_id, m.name) for m in snap.responsible(task)),
                department=department(task),
            )
            for task in snap.tasks
        ],
        departments=list(departments.values()),
        milestones=[
            domain.MilestoneIn(
                number=m.number,
                title=m.title,
                due=m.due_date,
                status=m.status,
                done_on=local(m.done_at) if m.done_at else None,
                tasks=tuple(code_of[task_id] for task_id in m.task_ids),
                baseline_due=baseline_due.get(m.id),
            )
            for m in snap.milestones
        ],
        updates=[
            domain.UpdateIn(code_of[u.task_id], u.previous_progress, u.progress, local(u.created_at))
            for u in snap.updates
        ],
        risks=[
            domain.RiskIn(
                number=r.number,
                level=r.level,
                description=r.description,
                status=r.status,
                owner=person(r.owner_member_id),
                created_on=local(r.created_at),
                moved_this_week=tuple(moves.get(r.id, ())),
            )
            for r in snap.risks
        ],
        blockers=[domain.BlockerIn(code_of[b.task_id], b.text, local(b.created_at)) for b in snap.blockers],
        actions=[
            domain.ActionIn(a.number, a.text, person(a.owner_member_id), a.due_date, a.status)
            for a in snap.actions
            if a.status == "open"
        ],
        needs=[
            domain.NeedIn(
                number=item.request.number,
                text=item.request.text,
                requester=person(item.request.requester_member_id),
                department=item.department,
                since=item.request.business_date,
                handled_on=local(item.request.handled_at) if item.request.handled_at else None,
            )
            for item in await resources.listed(session, pid, handled_since=since)
        ],
        # Who was expected at the standup, as participation decides it (bot/domain/participation.py).
        attendance=[
            domain.AttendanceIn(
                Person(snap.member_by_id[m.member_id].platform_user_id, m.name),
                m.rates.asked,
                m.rates.answered,
            )
            for m in week.members
            if m.rates.asked
        ],
        participation=week.departments,
        baseline=_baseline_in(against),
        changes=[
            domain.ChangeIn(cr.number, cr.kind, cr.target, cr.old, cr.change, cr.impact or {})
            for cr in await changes.approved_between(session, pid, since, until)
        ],
    )


# --- snapshots ----------------------------------------------------------------------------------------


async def for_week(session: AsyncSession, project_id: int, week_start: date) -> ReportSnapshot | None:
    return await session.scalar(
        select(ReportSnapshot).where(
            ReportSnapshot.project_id == project_id, ReportSnapshot.week_start == week_start
        )
    )


async def latest(
    session: AsyncSession, project_id: int, *, before: date | None = None
) -> ReportSnapshot | None:
    """The newest stored report; with `before`, the newest of a week starting before that day."""
    query = select(ReportSnapshot).where(ReportSnapshot.project_id == project_id)
    if before is not None:
        query = query.where(ReportSnapshot.week_start < before)
    return await session.scalar(query.order_by(ReportSnapshot.week_start.desc()).limit(1))


async def history(session: AsyncSession, project_id: int) -> list[ReportSnapshot]:
    """Every stored report of the project, newest week first."""
    rows = await session.scalars(
        select(ReportSnapshot)
        .where(ReportSnapshot.project_id == project_id)
        .order_by(ReportSnapshot.week_start.desc())
    )
    return list(rows)


async def store(
    session: AsyncSession, *, project: Project, report: WeeklyReport, markdown: str, now: datetime
) -> ReportSnapshot:
    """Keep the report as posted; a re-run in the same week replaces that week's snapshot."""
    snapshot = await for_week(session, project.id, report.week_start)
    if snapshot is None:
        snapshot = ReportSnapshot(project_id=project.id, week_start=report.week_start)
        session.add(snapshot)
    snapshot.generated_at = now
    snapshot.content = domain.to_content(report)
    snapshot.markdown = markdown
    await session.flush()
    return snapshot


def sync_status(snapshot: ReportSnapshot) -> str | None:
    """ "done" or "failed" once the week was written to the shared table; None when never tried."""
    state = snapshot.content.get("table_sync")
    return state.get("status") if isinstance(state, dict) else None


def mark_sync(snapshot: ReportSnapshot, *, now: datetime, error: str | None = None) -> None:
    """Record how the table sync went, in the snapshot's content (shown by the API)."""
    state: dict[str, Any] = {"status": "failed" if error else "done", "at": now.isoformat()}
    if error:
        state["error"] = error
    # A new dict, so the JSON column is seen as changed.
    snapshot.content = {**snapshot.content, "table_sync": state}


async def failed_syncs(session: AsyncSession, project_id: int, *, before: date) -> list[ReportSnapshot]:
    """Recent earlier weeks whose table sync failed, oldest first, to be retried."""
    recent = await session.scalars(
        select(ReportSnapshot)
        .where(ReportSnapshot.project_id == project_id, ReportSnapshot.week_start < before)
        .order_by(ReportSnapshot.week_start.desc())
        .limit(RESYNC_WEEKS)
    )
    return [snapshot for snapshot in reversed(list(recent)) if sync_status(snapshot) == "failed"]


# --- the shared table -------------------------------------------------------------------------------------


def table_target(project: Project, platform: str) -> tuple[str, str, str | None] | None:
    """(base, table, operator) of the project's shared table on `platform`, None when it has none
    there: a Feishu Bitable (written as the app) or a DingTalk AI table (written as the member who
    bound it)."""
    if platform == "feishu" and project.bitable_app_token and project.bitable_table_id:
        return project.bitable_app_token, project.bitable_table_id, None
    if platform == "dingtalk" and project.aitable_base_id and project.aitable_sheet_id:
        return project.aitable_base_id, project.aitable_sheet_id, project.aitable_operator_id
    return None


async def sync_table(
    session: AsyncSession,
    *,
    project: Project,
    writer: TableWriter,
    report: WeeklyReport,
    now: datetime,
) -> None:
    """Write the week's rows (one per task and a summary) to the project's table on the writer's
    platform: rows written before (TableSyncRecord) are updated, the others created, in batches of
    `writer.max_batch`, one call at a time. Raises SendError when a call keeps failing; the batches
    done by then stay recorded."""
    target = table_target(project, writer.platform)
    if target is None:
        raise ValueError(f"the project has no shared table on {writer.platform}")
    base, table, operator = target
    rows = report_render.table_rows(report, project.locale, ZoneInfo(project.timezone))
    known = {
        record.row_key: record
        for record in await session.scalars(
            select(TableSyncRecord).where(
                TableSyncRecord.project_id == project.id,
                TableSyncRecord.platform == writer.platform,
                TableSyncRecord.week_start == report.week_start,
            )
        )
    }
    updates = [(known[key], row) for key, row in rows if key in known]
    creates = [(key, row) for key, row in rows if key not in known]

    for part in _batches(updates, writer.max_batch):
        pairs = [(record.record_id, row) for record, row in part]
        await _attempt(partial(writer.update_rows, base, table, pairs, operator=operator))
        for record, _ in part:
            record.synced_at = now
    for new in _batches(creates, writer.max_batch):
        key = _batch_key(project.id, writer.platform, report.week_start, new)
        fresh = [row for _, row in new]
        ids = await _attempt(
            partial(writer.create_rows, base, table, fresh, idempotency_key=key, operator=operator)
        )
        session.add_all(
            TableSyncRecord(
                project_id=project.id,
                platform=writer.platform,
                week_start=report.week_start,
                row_key=row_key,
                record_id=record_id,
                synced_at=now,
            )
            for (row_key, _), record_id in zip(new, ids, strict=True)
        )
        # Flushed batch by batch: when a later batch fails, these are kept (and updated next time).
        await session.flush()


def _batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _batch_key(project_id: int, platform: str, week_start: date, batch: Sequence[tuple[str, Any]]) -> str:
    """Stable for the same rows with the same values: a retried create reuses the platform's
    idempotency token (Feishu refuses one token for different bodies, so values count too)."""
    payload = json.dumps(list(batch), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return f"report:{project_id}:{platform}:{week_start.isoformat()}:{digest}"


async def _attempt(call: Callable[[], Awaitable[T]]) -> T:
    for delay in RETRY_DELAYS:
        try:
            return await call()
        except SendError as error:
            if not error.retryable:
                raise
        await asyncio.sleep(delay)
    return await call()
