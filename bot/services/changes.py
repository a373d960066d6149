"""Change requests (需求变更, CR-1, CR-2 …): once a baseline is set, moving a task's or milestone's
dates, adding or deleting a task or changing the charter's scope is the PMs' decision. A member's
change is stored parsed and validated, the PMs get a card, and an approval applies it with the
downstream pushes it causes in the command's transaction, each write audited as the plain edit
would be (so /undo and the history work). A PM's own such edit applies at once and is logged as an
approved change. Services never commit and never read the clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import UserRef
from bot.domain import reschedule, wbs
from bot.domain.reschedule import AtRisk, Linked, Shift, Span
from bot.domain.workdays import WorkCalendar
from bot.errors import UserFacingError
from bot.render import changes as render
from bot.services import audit, baselines, members, notify, plan, signoff, tasks, tracking
from bot.services.audit import Actor
from bot.services.plan import KEEP, Keep
from storage.models import ChangeRequest, Department, Member, Milestone, Project, Task

REASON_LIMIT: Final = plan.TEXT_LIMIT
SCOPE_FIELDS: Final = ("scope_in", "scope_out")
_CR_FIELDS: Final = (
    "number",
    "requester_member_id",
    "kind",
    "target",
    "old",
    "change",
    "reason",
    "status",
    "decided_by_member_id",
    "impact",
    "baseline_number",
)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class Proposed:
    """A parsed, validated change: what to apply (`change`) and what it replaces (`old`)."""

    kind: str
    target: str
    old: dict[str, Any]
    change: dict[str, Any]


@dataclass(frozen=True)
class Impact:
    """What the change does beyond itself: tasks pushed later, milestones left behind."""

    shifts: list[Shift]
    risks: list[AtRisk]

    def to_json(self) -> dict[str, Any]:
        return {
            "moved": [
                {
                    "code": s.code,
                    "old": [_iso(s.old.start), _iso(s.old.due)],
                    "new": [_iso(s.new.start), _iso(s.new.due)],
                }
                for s in self.shifts
            ],
            "milestones": [
                {
                    "number": r.number,
                    "title": r.title,
                    "due": _iso(r.due),
                    "code": r.code,
                    "ends": _iso(r.ends),
                }
                for r in self.risks
            ],
        }


def impact_of_json(data: dict[str, Any] | None) -> Impact:
    data = data or {}
    shifts = [
        Shift(
            m["code"], Span(_day(m["old"][0]), _day(m["old"][1])), Span(_day(m["new"][0]), _day(m["new"][1]))
        )
        for m in data.get("moved", [])
    ]
    risks = [
        AtRisk(
            r["number"], r["title"], date.fromisoformat(r["due"]), r["code"], date.fromisoformat(r["ends"])
        )
        for r in data.get("milestones", [])
    ]
    return Impact(shifts, risks)


# --- proposals: parsed and validated, nothing written ---------------------------------------------------


async def task_edit(
    session: AsyncSession,
    project_id: int,
    task: Task,
    *,
    start: date | Keep | None,
    due: date | Keep | None,
    after: Sequence[str] | None,
) -> Proposed | None:
    """The date part of a task edit (start, due, dependencies); None when it changes none of them."""
    new_start = task.start_date if isinstance(start, Keep) else start
    new_due = task.due_date if isinstance(due, Keep) else due
    plan.check_dates(new_start, new_due)
    old: dict[str, Any] = {}
    change: dict[str, Any] = {}
    if new_start != task.start_date:
        old["start"], change["start"] = _iso(task.start_date), _iso(new_start)
    if new_due != task.due_date:
        old["due"], change["due"] = _iso(task.due_date), _iso(new_due)
    if after is not None:
        await plan.checked_dependencies(session, project_id, task.code, after)
        current = await tasks.dependency_codes(session, task.id)
        if sorted(after, key=wbs.code_key) != current:
            old["after"], change["after"] = current, list(after)
    return Proposed("task.edit", task.code, old, change) if change else None


async def task_add(
    session: AsyncSession,
    project_id: int,
    *,
    code: str,
    title: str,
    owner: UserRef | None,
    department: Department | None,
    start: date | None,
    due: date | None,
    after: Sequence[str],
) -> Proposed:
    await plan.check_new_task(session, project_id, code, title, start, due, after)
    change = {
        "code": code,
        "title": title,
        "owner": [owner.platform, owner.user_id, owner.name] if owner else None,
        "dept": department.id if department else None,
        "start": _iso(start),
        "due": _iso(due),
        "after": list(after),
    }
    return Proposed("task.add", code, {}, change)


async def task_delete(session: AsyncSession, task: Task, *, requested: bool = True) -> Proposed:
    """Deleting `task`. A request deletes one task: a branch is a PM's to delete (they see all of it
    and confirm), so a request for a task with subtasks is refused."""
    if requested:
        children = await session.scalar(
            select(func.count()).select_from(Task).where(Task.parent_id == task.id)
        )
        if children:
            raise UserFacingError("change.delete_has_children", code=task.code, count=children)
    old = {"title": task.title, "start": _iso(task.start_date), "due": _iso(task.due_date)}
    return Proposed("task.delete", task.code, old, {"code": task.code})


def milestone_due(milestone: Milestone, due: date) -> Proposed | None:
    if due == milestone.due_date:
        return None
    return Proposed(
        "milestone.edit",
        f"#{milestone.number}",
        {"due": _iso(milestone.due_date), "title": milestone.title},
        {"number": milestone.number, "due": _iso(due)},
    )


def scope(project: Project, field: str, text: str) -> Proposed | None:
    assert field in SCOPE_FIELDS
    plan.check_length(text, plan.TEXT_LIMIT)
    old = getattr(project, field) or ""
    if text == old:
        return None
    return Proposed("charter.scope", field, {"text": old}, {"field": field, "text": text})


# --- impact -------------------------------------------------------------------------------------------


async def _state(session: AsyncSession, project_id: int) -> tuple[dict[str, Span], dict[str, set[str]]]:
    spans = {t.code: Span(t.start_date, t.due_date) for t in await tasks.ordered(session, project_id)}
    return spans, await tasks.dependencies(session, project_id)


async def _linked(session: AsyncSession, project_id: int) -> list[Linked]:
    codes = await plan.milestone_codes(session, project_id)
    return [
        Linked(m.number, m.title, m.due_date, tuple(codes.get(m.id, [])))
        for m in await plan.milestones(session, project_id)
        if m.status != "done"
    ]


async def impact_of(
    session: AsyncSession,
    project_id: int,
    kind: str,
    target: str,
    change: dict[str, Any],
    calendar: WorkCalendar,
) -> Impact:
    """What applying the change would do to the rest of the plan as it is now."""
    if kind == "task.edit":
        spans, graph = await _state(session, project_id)
        if target not in spans:
            return Impact([], [])
        own = spans[target]
        new = Span(
            _day(change["start"]) if "start" in change else own.start,
            _day(change["due"]) if "due" in change else own.due,
        )
        if "after" in change:
            graph = {**graph, target: set(change["after"])}
        shifts = reschedule.push(spans, graph, {target: new}, calendar)
        after = {**spans, target: new, **{s.code: s.new for s in shifts}}
        moved = {target, *(s.code for s in shifts)}
        return Impact(shifts, reschedule.at_risk(await _linked(session, project_id), after, moved))
    if kind == "milestone.edit":
        spans, _ = await _state(session, project_id)
        linked = [m for m in await _linked(session, project_id) if m.number == change["number"]]
        due = _day(change["due"])
        assert due is not None
        moved_milestone = [Linked(m.number, m.title, due, m.codes) for m in linked]
        return Impact([], reschedule.at_risk(moved_milestone, spans, set(spans)))
    return Impact([], [])


# --- writing ------------------------------------------------------------------------------------------


async def baseline_number(session: AsyncSession, project_id: int) -> int | None:
    """The baseline in force, when one was set: only then do changes need approval."""
    found = await baselines.latest(session, project_id)
    return found[0].number if found else None


async def _apply(
    session: AsyncSession, project: Project, proposed: Proposed, actor: Actor, now: datetime
) -> None:
    change = proposed.change
    if proposed.kind == "task.edit":
        task = await plan.get_task(session, project.id, proposed.target)
        await plan.edit_task(
            session=session,
            project=project,
            task=task,
            start=_day(change["start"]) if "start" in change else KEEP,
            due=_day(change["due"]) if "due" in change else KEEP,
            after=change.get("after"),
            actor=actor,
            now=now,
        )
    elif proposed.kind == "task.add":
        owner = UserRef(*change["owner"]) if change["owner"] else None
        department = await session.get(Department, change["dept"]) if change["dept"] else None
        await plan.add_task(
            session=session,
            project=project,
            code=change["code"],
            title=change["title"],
            owner=owner,
            department=department,
            start=_day(change["start"]),
            due=_day(change["due"]),
            after=change["after"],
            actor=actor,
            now=now,
        )
    elif proposed.kind == "task.delete":
        task = await plan.get_task(session, project.id, proposed.target)
        await plan.delete_task(
            session=session, project=project, task=task, confirm=True, actor=actor, now=now
        )
    elif proposed.kind == "milestone.edit":
        await plan.edit_milestone(
            session=session,
            project=project,
            number=change["number"],
            title=None,
            due=_day(change["due"]),
            codes=None,
            actor=actor,
            now=now,
        )
    else:
        changed = await plan.update_charter(
            session=session,
            project=project,
            field=change["field"],
            value=change["text"],
            actor=actor,
            now=now,
        )
        if changed:
            await signoff.reset(session=session, project=project, actor=actor, now=now)


async def push(
    session: AsyncSession, project: Project, shifts: Sequence[Shift], actor: Actor, now: datetime
) -> None:
    """Move the downstream tasks, each an audited task edit."""
    for shift in shifts:
        task = await plan.get_task(session, project.id, shift.code)
        await plan.edit_task(
            session=session,
            project=project,
            task=task,
            start=shift.new.start,
            due=shift.new.due,
            actor=actor,
            now=now,
        )


@dataclass(frozen=True)
class Decided:
    request: ChangeRequest
    impact: Impact
    told: list[Member]


async def request(
    *,
    session: AsyncSession,
    project: Project,
    requester: Member,
    proposed: Proposed,
    reason: str,
    calendar: WorkCalendar,
    today: date,
    actor: Actor,
    now: datetime,
) -> tuple[ChangeRequest, Impact]:
    """Store the change as an open request and send each PM a card to decide it."""
    number = await baseline_number(session, project.id)
    if number is None:
        raise UserFacingError("change.no_baseline")
    plan.check_length(reason, REASON_LIMIT)
    impact = await impact_of(session, project.id, proposed.kind, proposed.target, proposed.change, calendar)
    cr = await _store(session, project, requester, proposed, reason, number, impact, actor, now)
    for pm in await members.pms(session, project.id):
        if pm.id == requester.id:
            continue
        card = render.decision_card(project, cr, requester, impact, today)
        await notify.tell(session=session, member=pm, reply=card, key=f"change:{cr.id}:card:{pm.id}", now=now)
    return cr, impact


async def _store(
    session: AsyncSession,
    project: Project,
    requester: Member,
    proposed: Proposed,
    reason: str,
    baseline: int,
    impact: Impact,
    actor: Actor,
    now: datetime,
    *,
    approved: bool = False,
) -> ChangeRequest:
    """Number, store and audit the change: open, or (a PM's own) approved by its requester."""
    cr = ChangeRequest(
        project_id=project.id,
        number=await tracking.next_number(session, ChangeRequest, project.id),
        requester_member_id=requester.id,
        kind=proposed.kind,
        target=proposed.target,
        old=proposed.old,
        change=proposed.change,
        reason=reason,
        status="approved" if approved else "open",
        discussing=False,
        decided_by_member_id=requester.id if approved else None,
        decided_at=now if approved else None,
        decision_note="",
        impact=impact.to_json(),
        baseline_number=baseline,
        created_at=now,
    )
    await audit.add(
        cr,
        _CR_FIELDS,
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="change.log" if approved else "change.open",  # a PM's own change, or a request
        entity="change_request",
    )
    return cr


async def record_own(
    *,
    session: AsyncSession,
    project: Project,
    pm: Member,
    proposed: Proposed,
    impact: Impact,
    today: date,
    actor: Actor,
    now: datetime,
) -> ChangeRequest:
    """A PM's own change, already applied: push what it moves and log it as approved."""
    number = await baseline_number(session, project.id)
    assert number is not None
    await push(session, project, impact.shifts, actor, now)
    cr = await _store(session, project, pm, proposed, "", number, impact, actor, now, approved=True)
    await _tell_outcome(session, project, cr, pm, impact, today, now, downstream_only=True)
    return cr


async def by_number(session: AsyncSession, project_id: int, number: int) -> ChangeRequest:
    found = await session.scalar(
        select(ChangeRequest).where(ChangeRequest.project_id == project_id, ChangeRequest.number == number)
    )
    if found is None:
        raise UserFacingError("change.not_found", number=number)
    return found


def _check_open(cr: ChangeRequest) -> None:
    if cr.status != "open":
        raise UserFacingError(f"change.already_{cr.status}", number=cr.number)


def proposed_of(cr: ChangeRequest) -> Proposed:
    return Proposed(cr.kind, cr.target, dict(cr.old), dict(cr.change))


async def approve(
    *,
    session: AsyncSession,
    project: Project,
    cr: ChangeRequest,
    pm: Member,
    calendar: WorkCalendar,
    today: date,
    actor: Actor,
    now: datetime,
) -> Decided:
    """Apply the change and what it pushes downstream (all or nothing: the command's savepoint)."""
    _check_open(cr)
    impact = await impact_of(session, project.id, cr.kind, cr.target, cr.change, calendar)
    await _apply(session, project, proposed_of(cr), actor, now)
    await push(session, project, impact.shifts, actor, now)
    await _decide(session, project, cr, pm, "approved", "", impact, actor, now)
    told = await _tell_outcome(session, project, cr, pm, impact, today, now)
    return Decided(cr, impact, told)


async def reject(
    *,
    session: AsyncSession,
    project: Project,
    cr: ChangeRequest,
    pm: Member,
    note: str,
    today: date,
    actor: Actor,
    now: datetime,
) -> Decided:
    _check_open(cr)
    plan.check_length(note, REASON_LIMIT)
    impact = Impact([], [])
    await _decide(session, project, cr, pm, "rejected", note, impact, actor, now)
    told = await _tell_outcome(session, project, cr, pm, impact, today, now)
    return Decided(cr, impact, told)


async def _decide(
    session: AsyncSession,
    project: Project,
    cr: ChangeRequest,
    pm: Member,
    status: str,
    note: str,
    impact: Impact,
    actor: Actor,
    now: datetime,
) -> None:
    await audit.update(
        cr,
        {
            "status": status,
            "discussing": False,
            "decided_by_member_id": pm.id,
            "decided_at": now,
            "decision_note": note,
            "impact": impact.to_json() if status == "approved" else cr.impact,
        },
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action=f"change.{'approve' if status == 'approved' else 'reject'}",
        entity="change_request",
    )


async def concerned(
    session: AsyncSession,
    project_id: int,
    cr: ChangeRequest,
    impact: Impact,
    *,
    downstream_only: bool = False,
) -> list[Member]:
    """The requester and the owners of the changed task and of every task the change moves (only
    the latter for a PM's own change: the PM made it, and the task's owner sees it as any edit)."""
    codes = [s.code for s in impact.shifts]
    if downstream_only and not codes:
        return []
    if cr.kind.startswith("task.") and not downstream_only:
        codes.insert(0, cr.target)
    owner_ids = list(
        await session.scalars(
            select(Task.owner_member_id).where(
                Task.project_id == project_id, Task.code.in_(codes), Task.owner_member_id.is_not(None)
            )
        )
    )
    if cr.kind == "task.add" and cr.change.get("owner") and not downstream_only:
        platform, user_id, _ = cr.change["owner"]
        added = await members.by_user(session, project_id, platform, user_id)
        owner_ids += [added.id] if added else []
    wanted = [*([] if downstream_only else [cr.requester_member_id]), *owner_ids]
    found = {
        m.id: m for m in await session.scalars(select(Member).where(Member.id.in_([w for w in wanted if w])))
    }
    return list({member_id: found[member_id] for member_id in wanted if member_id in found}.values())


async def _tell_outcome(
    session: AsyncSession,
    project: Project,
    cr: ChangeRequest,
    decider: Member,
    impact: Impact,
    today: date,
    now: datetime,
    *,
    downstream_only: bool = False,
) -> list[Member]:
    told = []
    for member in await concerned(session, project.id, cr, impact, downstream_only=downstream_only):
        if member.id == decider.id:
            continue
        message = render.outcome_message(project, cr, decider, impact, today)
        if await notify.tell(
            session=session,
            member=member,
            reply=message,
            key=f"change:{cr.id}:{cr.status}:to:{member.id}",
            now=now,
        ):
            told.append(member)
    return told


async def discuss(
    *,
    session: AsyncSession,
    project: Project,
    cr: ChangeRequest,
    pm: Member,
    today: date,
    actor: Actor,
    now: datetime,
    event_id: str,
) -> list[Member]:
    """Mark it for discussion (still open) and ask the people concerned in the project's chats."""
    _check_open(cr)
    if not cr.discussing:
        await audit.update(
            cr,
            {"discussing": True},
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="change.discuss",
            entity="change_request",
        )
    people = [m for m in await concerned(session, project.id, cr, impact_of_json(cr.impact)) if m.id != pm.id]
    await notify.post_to_project_chats(
        session=session,
        project_id=project.id,
        build=lambda platform: render.discuss_message(project, cr, pm, people, platform, today),
        key=f"change:{cr.id}:discuss:{event_id}",
        now=now,
    )
    return people


async def listed(session: AsyncSession, project_id: int) -> list[tuple[ChangeRequest, Member | None]]:
    """Open requests first (oldest first), then decided ones (newest first)."""
    rows = await session.execute(
        select(ChangeRequest, Member)
        .outerjoin(Member, Member.id == ChangeRequest.requester_member_id)
        .where(ChangeRequest.project_id == project_id)
        .order_by(
            case((ChangeRequest.status == "open", 0), else_=1),
            case((ChangeRequest.status == "open", ChangeRequest.number), else_=-ChangeRequest.number),
        )
    )
    return [(cr, member) for cr, member in rows]


async def approved_between(
    session: AsyncSession, project_id: int, start: datetime, end: datetime
) -> list[ChangeRequest]:
    """Changes approved (or logged) in [start, end), oldest first: the weekly report's section."""
    return list(
        await session.scalars(
            select(ChangeRequest)
            .where(
                ChangeRequest.project_id == project_id,
                ChangeRequest.status == "approved",
                ChangeRequest.decided_at >= start,
                ChangeRequest.decided_at < end,
            )
            .order_by(ChangeRequest.decided_at, ChangeRequest.number)
        )
    )
