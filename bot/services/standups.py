"""Daily standups: who owes one, recording a reply (its progress and blockers applied like /progress
and /blocker), and the day's reports for the summary.

A member owes a standup on a workday when they answer for an open leaf task (own it, are R on it,
or head its R department while no person is named) and are not on leave. One StandupReport per
member and business day; a later reply the same day amends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import wbs
from bot.domain.standup import SECTIONS, StandupParse, join_answers
from bot.errors import UserFacingError
from bot.services import audit, leave, raci, resources, tasks, tracking
from bot.services.audit import Actor
from storage.models import Member, OutboxMessage, Project, StandupReport, Task

# Outbox keys of the standup jobs start with their names (see bot/jobs/context.py JobContext.send).
PROMPT_JOBS = ("standup-prompt", "standup-remind")
MAX_NOTE = 200
EXAMPLE_CODE = "2.1"  # in "write it like 2.1 80%" when what was written named no task


# --- who owes a standup ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    """Who owes a standup on one day, in the order they joined the project."""

    members: tuple[Member, ...]  # expected to answer
    away: tuple[Member, ...]  # would be, but are on leave
    tasks: Mapping[int, tuple[Task, ...]]  # member id -> their open leaf tasks, by due date


def _due_key(task: Task) -> tuple[bool, date, tuple[int, ...]]:
    return (task.due_date is None, task.due_date or date.max, wbs.code_key(task.code))


async def open_tasks(session: AsyncSession, project_id: int) -> dict[int, tuple[Task, ...]]:
    """Member id -> the open leaf tasks they answer for (a parent's progress is rolled up): they own
    them or are R on them, or head an R department of a task no person is named for."""
    every = await tasks.ordered(session, project_id)
    parents = {wbs.parent_of(task.code) for task in every}
    leaves = [task for task in every if task.code not in parents and task.status != "done"]
    result: dict[int, list[Task]] = {}
    by_task = await raci.responsible(session, project_id, leaves)
    for task in leaves:
        for member_id in by_task[task.id]:
            result.setdefault(member_id, []).append(task)
    return {member_id: tuple(sorted(found, key=_due_key)) for member_id, found in result.items()}


async def roster(session: AsyncSession, project_id: int, day: date) -> Roster:
    by_member = await open_tasks(session, project_id)
    if not by_member:
        return Roster((), (), {})
    people = await session.scalars(
        select(Member).where(Member.id.in_(by_member)).order_by(Member.created_at, Member.id)
    )
    away = await leave.members_on_leave(session, project_id, day)
    ordered = list(people)
    return Roster(
        members=tuple(m for m in ordered if m.id not in away),
        away=tuple(m for m in ordered if m.id in away),
        tasks=by_member,
    )


async def is_standup_message(session: AsyncSession, platform: str, message_id: str) -> bool:
    """Whether the platform message `message_id` is one the standup jobs sent (a reply to it is a standup)."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.platform_message_id == message_id,
            OutboxMessage.idempotency_key.startswith("standup-"),
        )
        .limit(1)
    )
    return found is not None


async def was_prompted(session: AsyncSession, project_id: int, member: Member, day: date) -> bool:
    """Whether the member got a private standup prompt or reminder for `day`."""
    keys = [f"{job}:{project_id}:user:{member.platform_user_id}:{day.isoformat()}" for job in PROMPT_JOBS]
    found = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key.in_(keys)).limit(1)
    )
    return found is not None


# --- recording a reply --------------------------------------------------------------------------------


async def report_on(
    session: AsyncSession, project_id: int, member_id: int, day: date
) -> StandupReport | None:
    return await session.scalar(
        select(StandupReport).where(
            StandupReport.project_id == project_id,
            StandupReport.member_id == member_id,
            StandupReport.business_date == day,
        )
    )


async def reports_on(session: AsyncSession, project_id: int, day: date) -> list[StandupReport]:
    return list(
        await session.scalars(
            select(StandupReport)
            .where(StandupReport.project_id == project_id, StandupReport.business_date == day)
            .order_by(StandupReport.created_at, StandupReport.id)
        )
    )


@dataclass(frozen=True)
class Refusal:
    """A task the reply named but that was not changed, with the catalog message saying why."""

    code: str
    key: str
    params: dict[str, object]


@dataclass(frozen=True)
class Recorded:
    report: StandupReport
    amended: bool  # an earlier reply of the same day was amended
    day: StandupParse  # the day's standup as it now stands (sections merged)
    changes: tuple[tracking.ProgressChange, ...]  # applied by this reply
    opened: tuple[tuple[Task, str], ...]  # blockers this reply opened: (task, text)
    refused: tuple[Refusal, ...]
    need: resources.Opened | None = None  # the resource request this reply raised (or repeated)


CanUpdate = Callable[[Task], Awaitable[bool]]


def _merge(previous: Mapping[str, Any], new: StandupParse) -> dict[str, Any]:
    """The day's sections after a further reply: a section it labels ("今天：…") replaces the earlier
    answer, a section it only implies is added to it, and "无" as the blockers answer clears them."""
    merged: dict[str, Any] = {}
    for name in SECTIONS:
        before, after = str(previous.get(name, "")), new.section(name)
        if name in new.labels or not before:
            merged[name] = after or before
        else:
            merged[name] = before if after in before else join_answers([before, after])
    if new.no_blocker:
        merged["blockers"], merged["no_blocker"] = "", True
    else:
        said_blockers = bool(new.blockers or new.blocked)
        merged["no_blocker"] = bool(previous.get("no_blocker")) and not said_blockers
    return merged


def _said(text: str) -> str:
    return " ".join(text.split()).casefold()


def _as_parse(parsed: Mapping[str, Any]) -> StandupParse:
    """A stored report's day as a StandupParse (sections, progress and blockers applied)."""
    return StandupParse(
        yesterday=str(parsed.get("yesterday", "")),
        today=str(parsed.get("today", "")),
        blockers=str(parsed.get("blockers", "")),
        needs=str(parsed.get("needs", "")),
        progress=tuple((str(code), int(value)) for code, value in parsed.get("progress", {}).items()),
        blocked=tuple((str(code), str(text)) for code, text in parsed.get("blocked", {}).items()),
        no_blocker=bool(parsed.get("no_blocker")),
    )


async def carried(
    session: AsyncSession, project_id: int, member_id: int, day: date
) -> tuple[date, str] | None:
    """For "same as yesterday": the day and today-plan of the member's latest report before `day`,
    if it had one."""
    previous = await session.scalar(
        select(StandupReport)
        .where(
            StandupReport.project_id == project_id,
            StandupReport.member_id == member_id,
            StandupReport.business_date < day,
        )
        .order_by(StandupReport.business_date.desc())
        .limit(1)
    )
    plan = str(previous.parsed.get("today", "")) if previous is not None else ""
    return (previous.business_date, plan) if previous is not None and plan else None


async def record(
    *,
    session: AsyncSession,
    project: Project,
    member: Member,
    day: date,
    text: str,
    parse: StandupParse,
    can_update: CanUpdate,
    actor: Actor,
    now: datetime,
) -> Recorded:
    """Store the member's standup for `day` (amending an earlier one) and apply what it says:
    progress like /progress (unless the day's earlier reply said the same and the task still has
    it) and a blocker per named task like /blocker (unless the task already has that blocker open,
    or the one today's replies opened is still open). Tasks the member may not update, or that
    cannot take the change, are refused one by one; the rest still applies."""
    report = await report_on(session, project.id, member.id, day)
    previous: Mapping[str, Any] = report.parsed if report is not None else {}
    applied: dict[str, int] = dict(previous.get("progress", {}))
    net: dict[str, list[int]] = {code: list(pair) for code, pair in previous.get("changes", {}).items()}
    blocked: dict[str, str] = dict(previous.get("blocked", {}))
    changes: list[tracking.ProgressChange] = []
    opened: list[tuple[Task, str]] = []
    refused: list[Refusal] = []

    async def allowed(code: str) -> Task | None:
        task = await tasks.by_code(session, project.id, code)
        if task is not None and not await can_update(task):
            refused.append(Refusal(code, "standup.not_yours", {"code": code}))
            return None
        return task

    # Several percents after one code: the task's own is asked for; the text stays in the report.
    refused += [
        Refusal(code, "standup.unclear_percent", {"code": code, "text": said}) for code, said in parse.unclear
    ]
    refused += [
        Refusal(codes[0], "standup.which_task", {"title": title, "codes": " / ".join(codes)})
        for title, codes in parse.which
    ]
    refused += [
        Refusal(code, "standup.no_such_task", {"code": code, "text": said})
        for code, said in parse.no_such_task
    ]
    # What looks like progress but named no task, or a task in words not read: shown back as typed.
    refused += [
        Refusal(code, "standup.unread", {"text": said, "code": code or EXAMPLE_CODE})
        for said, code in parse.unread
    ]
    note = (parse.yesterday or text)[:MAX_NOTE]
    for code, value in parse.progress:
        if (task := await allowed(code)) is None or applied.get(code) == value == task.progress:
            continue
        try:
            async with session.begin_nested():
                change = await tracking.set_progress(
                    session=session,
                    task=task,
                    progress=value,
                    note=note,
                    author=member,
                    actor=actor,
                    now=now,
                    source="standup",
                )
        except UserFacingError as error:
            refused.append(Refusal(code, error.key, dict(error.params)))
            continue
        changes.append(change)
        applied[code] = value
        net[code] = [net.get(code, [change.previous])[0], change.progress]
    for code, what in parse.blocked:
        if (task := await allowed(code)) is None:
            continue
        what = what or parse.blockers or " ".join(text.split())[:MAX_NOTE]
        still_open = [blocker.text for blocker in await tracking.open_blockers(session, [task.id])]
        if still_open and (code in blocked or _said(what) in map(_said, still_open)):
            continue  # never a second copy of an open blocker
        try:
            async with session.begin_nested():
                await tracking.open_blocker(
                    session=session, task=task, text=what, author=member, actor=actor, now=now
                )
        except UserFacingError as error:
            refused.append(Refusal(code, error.key, dict(error.params)))
            continue
        opened.append((task, what))
        blocked[code] = what

    need = await _open_need(session, project, member, day, parse, actor, now, refused)
    parsed = {**_merge(previous, parse), "progress": applied, "changes": net, "blocked": blocked}
    if report is None:
        report = StandupReport(
            project_id=project.id,
            member_id=member.id,
            business_date=day,
            text=text,
            parsed=parsed,
            created_at=now,
            updated_at=now,
        )
        await audit.add(
            report,
            ("business_date", "text", "parsed"),
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="standup.report",
            entity="standup_report",
        )
        amended = False
    else:
        await audit.update(
            report,
            {"text": f"{report.text}\n{text}", "parsed": parsed, "updated_at": now},
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="standup.amend",
            entity="standup_report",
        )
        amended = True
    return Recorded(report, amended, _as_parse(parsed), tuple(changes), tuple(opened), tuple(refused), need)


async def _open_need(
    session: AsyncSession,
    project: Project,
    member: Member,
    day: date,
    parse: StandupParse,
    actor: Actor,
    now: datetime,
    refused: list[Refusal],
) -> resources.Opened | None:
    """The reply's resource request, opened and routed like /need add (once per day and text)."""
    if not parse.needs:
        return None
    task = await tasks.by_code(session, project.id, parse.need_code) if parse.need_code else None
    try:  # refused (too long) before anything is written
        return await resources.open_request(
            session=session,
            project=project,
            requester=member,
            text=parse.needs,
            task=task,
            source="standup",
            day=day,
            actor=actor,
            now=now,
        )
    except UserFacingError as error:
        refused.append(Refusal(parse.need_code or "", error.key, dict(error.params)))
        return None
