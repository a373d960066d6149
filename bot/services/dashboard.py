"""The web dashboard's links and data: a member's personal link (issued, opened, revoked) and
everything the read-only page shows, gathered in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import dashboard_link
from bot.domain.participation import Participation
from bot.domain.report import WeeklyReport, from_content
from bot.domain.snapshot import ProjectSnapshot
from bot.services import audit, participation, signoff
from bot.services import snapshot as snapshot_service
from bot.services.audit import Actor
from bot.settings import Settings
from storage.models import AuditEntry, ChangeRequest, Member, Project, ReportSnapshot, Risk, RiskEvent

AUDIT_SHOWN = 100  # the newest entries of the audit trail on the page
HEATMAP_DAYS = 28  # the standup heatmap's window, ending today
REPORTS_SHOWN = 12  # weekly reports, newest first


@dataclass(frozen=True)
class Links:
    """What issuing and opening links needs from the settings; None while the dashboard is off."""

    base_url: str
    key: bytes
    days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Links | None:
        if settings.public_url is None or settings.dashboard_secret is None:
            return None
        key = settings.dashboard_secret.get_secret_value().encode()
        return cls(settings.public_url, key, settings.dashboard_link_days)

    def issue(self, member: Member, now: datetime) -> tuple[str, datetime]:
        """The member's link, valid from `now` for the configured number of days, and its expiry."""
        expires = now.replace(microsecond=0) + timedelta(days=self.days)
        link = dashboard_link.Link(member.project_id, member.id, expires, member.dashboard_generation)
        return f"{self.base_url}/d/{dashboard_link.sign(self.key, link)}", expires


async def open_link(
    session: AsyncSession, links: Links, token: str, now: datetime
) -> tuple[Project, Member] | None:
    """The project and member a link is good for: signed with our key, not expired, its member still
    in the project and its generation not revoked. None otherwise, whatever the reason."""
    link = dashboard_link.verify(links.key, token, now)
    if link is None:
        return None
    member = await session.get(Member, link.member_id)
    if (
        member is None
        or member.project_id != link.project_id
        or member.removed_at is not None
        or member.dashboard_generation != link.generation
    ):
        return None
    project = await session.get(Project, link.project_id)
    return (project, member) if project is not None else None


async def revoke(*, session: AsyncSession, member: Member, actor: Actor, now: datetime) -> None:
    """Every link of `member` issued so far stops opening."""
    await audit.update(
        member,
        {"dashboard_generation": member.dashboard_generation + 1},
        session=session,
        actor=actor,
        now=now,
        project_id=member.project_id,
        action="dashboard.revoke",
        entity="member",
    )


@dataclass(frozen=True)
class Report:
    week_start: date
    report: WeeklyReport | None  # None: stored in a form this version cannot read
    markdown: str  # the report as posted, shown when `report` is None


def _report(row: ReportSnapshot) -> Report:
    try:
        report: WeeklyReport | None = from_content(row.content)
    except (TypeError, KeyError, ValueError, AssertionError):
        report = None
    return Report(row.week_start, report, row.markdown)


@dataclass(frozen=True)
class Board:
    """Everything the page shows, as read at `now`."""

    project: Project
    viewer: Member
    now: datetime
    snapshot: ProjectSnapshot
    sign_offs: list[signoff.SignOff]
    risk_history: dict[int, list[RiskEvent]]  # risk id -> its events, oldest first
    changes: list[ChangeRequest]  # by number
    reports: list[Report]  # newest first
    audit: list[AuditEntry]  # newest first, at most AUDIT_SHOWN
    audit_total: int
    participation: Participation  # the last HEATMAP_DAYS days


async def gather(session: AsyncSession, project: Project, viewer: Member, now: datetime) -> Board:
    pid = project.id
    tz = ZoneInfo(project.timezone)
    today = now.astimezone(tz).date()
    since = today - timedelta(days=HEATMAP_DAYS - 1)
    # One read of the project serves the page and the heatmap (whose rates need the progress
    # history of its window, for the day each task finished).
    history = (
        datetime.combine(since, time(), tzinfo=tz),
        datetime.combine(today + timedelta(days=1), time(), tzinfo=tz),
    )
    snap = await snapshot_service.load(session, project, history=history)
    risk_history: dict[int, list[RiskEvent]] = {}
    for event in await session.scalars(
        select(RiskEvent)
        .join(Risk, Risk.id == RiskEvent.risk_id)
        .where(Risk.project_id == pid)
        .order_by(RiskEvent.created_at, RiskEvent.id)
    ):
        risk_history.setdefault(event.risk_id, []).append(event)
    changes = list(
        await session.scalars(
            select(ChangeRequest).where(ChangeRequest.project_id == pid).order_by(ChangeRequest.number)
        )
    )
    reports = [
        _report(row)
        for row in await session.scalars(
            select(ReportSnapshot)
            .where(ReportSnapshot.project_id == pid)
            .order_by(ReportSnapshot.week_start.desc())
            .limit(REPORTS_SHOWN)
        )
    ]
    entries = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.project_id == pid)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(AUDIT_SHOWN)
        )
    )
    total = await session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.project_id == pid)
    )
    return Board(
        project=project,
        viewer=viewer,
        now=now,
        snapshot=snap,
        sign_offs=await signoff.sign_offs(session, pid),
        risk_history=risk_history,
        changes=changes,
        reports=reports,
        audit=entries,
        audit_total=total or 0,
        participation=await participation.of_snapshot(
            session, project, snap, since=since, until=today, today=today, now=now
        ),
    )
