"""The risk scan's data: the snapshot the alert rules read, and the alert states that remember what
was told to whom, so escalation can count days and a finding is repeated only when it got worse.

Alert states are the bot's own bookkeeping, not a user's change, so they are not audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import alerts
from bot.domain import raci as raci_rules
from bot.domain.workdays import WorkCalendar
from bot.services import leave, members, plan, projects, raci, tasks, tracking
from storage.models import (
    AlertState,
    Blocker,
    ChatBinding,
    JobRun,
    Member,
    Project,
    RiskEvent,
    StandupReport,
    Task,
)

# The job (scheduler/jobs.py) whose finished runs mark the days a standup was asked for.
STANDUP_PROMPT_JOB = "standup-prompt"


@dataclass(frozen=True)
class Loaded:
    snapshot: alerts.Snapshot
    people: dict[int, Member]  # every member of the project, by id
    chats: list[ChatBinding]


async def load(session: AsyncSession, project: Project, today: date, calendar: WorkCalendar) -> Loaded:
    """Everything the alert rules look at for `project` on `today` (a date in its timezone)."""
    tz = ZoneInfo(project.timezone)

    def local(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    people = {member.id: member for member in await plan.project_members(session, project.id)}
    heads = await raci.heads(session, project.id)

    task_list = await tasks.ordered(session, project.id)
    found = await raci.entries(session, [task.id for task in task_list])
    task_facts = tuple(
        alerts.TaskFacts(
            id=task.id,
            code=task.code,
            title=task.title,
            start=task.start_date,
            due=task.due_date,
            progress=task.progress,
            status=task.status,
            created=local(task.created_at),
            responsible=raci_rules.responsible(task.owner_member_id, found.get(task.id, []), heads),
            accountable=raci_rules.people(found.get(task.id, []), "A", heads),
            department_head=heads.get(task.department_id) if task.department_id else None,
        )
        for task in task_list
    )
    depends_on = {
        code: frozenset(ups) for code, ups in (await tasks.dependencies(session, project.id)).items()
    }

    blockers = tuple(
        alerts.BlockerFacts(blocker.task_id, local(blocker.created_at), blocker.text)
        for blocker in await session.scalars(
            select(Blocker)
            .join(Task, Task.id == Blocker.task_id)
            .where(Task.project_id == project.id, Blocker.status == "open")
        )
    )

    window = alerts.recent_workdays(today, calendar)
    oldest = window[-1]
    reported: dict[int, set[date]] = {}
    for member_id, day in await session.execute(
        select(StandupReport.member_id, StandupReport.business_date).where(
            StandupReport.project_id == project.id,
            StandupReport.business_date >= oldest,
            StandupReport.business_date <= today,
        )
    ):
        reported.setdefault(member_id, set()).add(day)
    away: dict[int, set[date]] = {}
    for day in window:
        for member_id in await leave.members_on_leave(session, project.id, day):
            away.setdefault(member_id, set()).add(day)
    standup_days = frozenset(
        await session.scalars(
            select(JobRun.business_date).where(
                JobRun.project_id == project.id,
                JobRun.job == STANDUP_PROMPT_JOB,
                JobRun.status == "done",
                JobRun.business_date >= oldest,
                JobRun.business_date <= today,
            )
        )
    )
    member_facts = tuple(
        alerts.MemberFacts(
            id=member.id,
            joined=local(member.created_at),
            department_head=heads.get(member.department_id) if member.department_id else None,
            reported=frozenset(reported.get(member.id, ())),
            on_leave=frozenset(away.get(member.id, ())),
        )
        for member in people.values()
    )

    risks = await tracking.risk_list(session=session, project_id=project.id, include_closed=False)
    last_event = dict(
        (
            await session.execute(
                select(RiskEvent.risk_id, func.max(RiskEvent.created_at))
                .where(RiskEvent.risk_id.in_([risk.id for risk in risks]))
                .group_by(RiskEvent.risk_id)
            )
        ).all()
    )
    risk_facts = tuple(
        alerts.RiskFacts(
            id=risk.id,
            number=risk.number,
            description=risk.description,
            level=risk.level,
            status=risk.status,
            owner=risk.owner_member_id,
            updated=local(max(risk.updated_at, last_event.get(risk.id) or risk.updated_at)),
        )
        for risk in risks
    )
    action_facts = tuple(
        alerts.ActionFacts(item.id, item.number, item.text, item.due_date, item.status, item.owner_member_id)
        for item in await tracking.action_list(session=session, project_id=project.id, include_done=False)
    )

    snapshot = alerts.Snapshot(
        tasks=task_facts,
        depends_on=depends_on,
        blockers=blockers,
        members=member_facts,
        risks=risk_facts,
        actions=action_facts,
        pms=tuple(pm.id for pm in await members.pms(session, project.id)),
        standup_days=standup_days,
    )
    return Loaded(snapshot, people, await projects.chats(session, project.id))


@dataclass(eq=False)
class Tracked:
    """A finding with its alert state: how long it has been unresolved and whether to tell it now."""

    finding: alerts.Finding
    state: AlertState
    unresolved: int  # workdays since first seen
    stage: int
    tell: bool


async def track(
    session: AsyncSession,
    project_id: int,
    findings: Sequence[alerts.Finding],
    today: date,
    calendar: WorkCalendar,
) -> list[Tracked]:
    """Match today's findings with their alert states (creating them for new findings, starting a
    resolved one afresh when it comes back) and resolve the states nothing was found for today."""
    states = {
        (state.rule, state.subject): state
        for state in await session.scalars(select(AlertState).where(AlertState.project_id == project_id))
    }
    result: list[Tracked] = []
    for finding in findings:
        state = states.pop((finding.rule, finding.subject), None)
        if state is None:
            state = AlertState(
                project_id=project_id,
                rule=finding.rule,
                subject=finding.subject,
                first_seen=today,
                last_seen=today,
                severity=0,
                stage=0,
            )
            session.add(state)
        elif state.resolved_on is not None:
            state.first_seen, state.last_sent, state.severity, state.stage = today, None, 0, 0
            state.resolved_on = None
        state.last_seen = today
        unresolved = alerts.workdays_unresolved(state.first_seen, today, calendar)
        stage = alerts.stage_for(unresolved, critical=finding.critical)
        tell = alerts.worth_telling(
            last_sent=state.last_sent,
            told_severity=state.severity,
            told_stage=state.stage,
            severity=finding.severity,
            stage=stage,
        )
        result.append(Tracked(finding, state, unresolved, stage, tell))
    for state in states.values():
        if state.resolved_on is None:
            state.resolved_on = today
    return result


def mark_told(item: Tracked, today: date) -> None:
    """Remember what was said, so the same finding is told again only when it gets worse."""
    item.state.last_sent = today
    item.state.severity = item.finding.severity
    item.state.stage = item.stage


async def resolve_all(session: AsyncSession, project_id: int, today: date) -> None:
    """End every open alert (alerts switched off): when they are back on, each starts from its owner."""
    await session.execute(
        update(AlertState)
        .where(AlertState.project_id == project_id, AlertState.resolved_on.is_(None))
        .values(resolved_on=today)
    )
