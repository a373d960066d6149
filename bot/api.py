"""The read-only JSON API (the health checks are in bot/health.py)."""

# No `from __future__ import annotations` here: FastAPI must evaluate the annotations that name
# dependencies local to build_router (Session, the bearer scheme).
import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands.parsing import YEARS_AWAY, ArgError, check_near
from bot.domain.baseline import Kind, slip_workdays
from bot.domain.participation import DayMark, Participation, Rates
from bot.domain.report import week_of
from bot.domain.snapshot import ProjectSnapshot
from bot.domain.wbs import code_key
from bot.render.i18n import LOCALES, Locale
from bot.render.xlsx import MEDIA_TYPE, write_export
from bot.services import participation, pictures, plan_import, snapshot
from bot.services import reports as report_service
from bot.settings import Settings
from storage.models import (
    MAX_INT,
    AuditEntry,
    ChatBinding,
    Project,
    ReportSnapshot,
)

DISABLED = "JSON API disabled: set CROSSTRACK_API_TOKEN"
RACI_ROLES = ("R", "A", "C", "I")
PARTICIPATION_WEEKS = 4  # the default window, ending today
MAX_PARTICIPATION_DAYS = 366

# -- response models (they are also the OpenAPI schema at /docs) ------------------------------------


class ErrorOut(BaseModel):
    error: str


class ProjectSummaryOut(BaseModel):
    id: int
    name: str
    status: str
    start: date | None
    end: date | None


class CharterOut(BaseModel):
    background: str
    goal: str
    deliverables: str
    scope_in: str
    scope_out: str
    start: date | None
    end: date | None
    timezone: str
    locale: str
    status: str


class ChatOut(BaseModel):
    platform: str
    chat_id: str
    name: str
    is_default: bool


class DepartmentOut(BaseModel):
    id: int
    name: str
    head: str | None


class MemberOut(BaseModel):
    id: int
    platform: str
    user_id: str
    name: str
    department: str | None
    role: str


class TaskOut(BaseModel):
    code: str
    title: str
    level: int  # 1 phase, 2 task, 3 subtask
    parent: str | None
    owner: str | None
    department: str | None
    start: date | None
    due: date | None
    progress: int
    status: str
    depends_on: list[str]
    # Against the baseline in force (all None without one, or for a task added since).
    baseline_start: date | None = None
    baseline_due: date | None = None
    slip_workdays: int | None = None  # + later than promised, - earlier
    # The critical path (None for a task without a due date): workdays it may slip without moving
    # the plan's end, and whether it has none.
    total_float: int | None = None
    critical: bool = False


class MilestoneOut(BaseModel):
    number: int
    title: str
    due: date
    status: str
    tasks: list[str]
    baseline_due: date | None = None
    slip_workdays: int | None = None


class RaciOut(BaseModel):
    R: list[str]
    A: list[str]
    C: list[str]
    I: list[str]  # noqa: E741 - the RACI letter


class RiskOut(BaseModel):
    number: int
    description: str
    level: str
    owner: str | None
    mitigation: str
    status: str
    created_at: datetime
    updated_at: datetime


class ActionOut(BaseModel):
    number: int
    owner: str | None
    text: str
    due: date | None
    status: str
    source_meeting: str


class ProjectOut(BaseModel):
    id: int
    name: str
    charter: CharterOut
    chats: list[ChatOut]
    departments: list[DepartmentOut]
    members: list[MemberOut]
    tasks: list[TaskOut]
    milestones: list[MilestoneOut]
    raci: dict[str, RaciOut]
    risks: list[RiskOut]
    actions: list[ActionOut]


class ActorOut(BaseModel):
    platform: str
    user_id: str
    name: str


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: ActorOut
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ReportSummaryOut(BaseModel):
    week_start: date
    week_end: date
    generated_at: datetime
    actual: int | None  # overall %, and the plan's
    expected: int | None
    state: str | None  # on_track, at_risk, late or done
    table_sync: str | None  # done or failed; null when the project has no shared table


class ReportOut(ReportSummaryOut):
    markdown: str  # the card as posted; mentions as <at:USER_ID>
    content: dict[str, Any]  # every section, and each task's row


class RatesOut(BaseModel):
    asked: int  # standups they were expected to give (prompted, not on leave, with open work)
    answered: int
    response_rate: float | None  # answered / asked; null when never asked
    median_reply_minutes: int | None  # after that day's prompt
    due: int  # leaf tasks due in the window that finished or are past due
    on_time: int  # finished on or before their due date
    on_time_rate: float | None
    late_days_avg: float | None  # mean workdays late over the late ones (open ones counted to today)
    streak: int  # answered standups in a row, up to the last one asked


class MemberParticipationOut(BaseModel):
    id: int
    name: str
    department: str | None
    rates: RatesOut
    marks: list[DayMark]  # one per day of `days`: answered, missed, leave or off


class DepartmentParticipationOut(BaseModel):
    name: str  # "" for the members without a department
    rates: RatesOut  # its members' together; streak: days in a row on which all those asked answered


class ParticipationOut(BaseModel):
    since: date
    until: date
    days: list[date]
    members: list[MemberParticipationOut]
    departments: list[DepartmentParticipationOut]


def _rates_out(rates: Rates) -> RatesOut:
    return RatesOut(
        asked=rates.asked,
        answered=rates.answered,
        response_rate=rates.response_rate,
        median_reply_minutes=rates.median_reply_minutes,
        due=rates.due,
        on_time=rates.on_time,
        on_time_rate=rates.on_time_rate,
        late_days_avg=rates.late_days_avg,
        streak=rates.streak,
    )


def _participation_out(found: Participation) -> ParticipationOut:
    return ParticipationOut(
        since=found.since,
        until=found.until,
        days=list(found.days),
        members=[
            MemberParticipationOut(
                id=m.member_id,
                name=m.name,
                department=m.department,
                rates=_rates_out(m.rates),
                marks=[found.marks[(m.member_id, day)] for day in found.days],
            )
            for m in found.members
        ],
        departments=[
            DepartmentParticipationOut(name=d.department, rates=_rates_out(d.rates))
            for d in found.departments
        ],
    )


def _report_summary(snapshot: ReportSnapshot) -> ReportSummaryOut:
    content = snapshot.content
    return ReportSummaryOut(
        week_start=snapshot.week_start,
        week_end=week_of(snapshot.week_start)[1],
        generated_at=snapshot.generated_at,
        actual=content.get("actual"),
        expected=content.get("expected"),
        state=content.get("state"),
        table_sync=report_service.sync_status(snapshot),
    )


# -- errors as {"error": ...} --------------------------------------------------------------------


PICTURE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# A phase code as `/gantt 2` takes it: short, so a query cannot ask for anything large.
PhaseQuery = Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")]


class ApiError(Exception):
    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers


class _ApiRoute(APIRoute):
    """Answers ApiError as {"error": ...}; a route class, because a router cannot own exception
    handlers and HTTPException would answer {"detail": ...}."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return JSONResponse(
                    {"error": error.message}, status_code=error.status_code, headers=error.headers
                )

        return handle


# -- reading a project -------------------------------------------------------------------------


async def _project_out(session: AsyncSession, project: Project, snap: ProjectSnapshot) -> ProjectOut:
    pid = project.id
    chats = await session.scalars(
        select(ChatBinding).where(ChatBinding.project_id == pid).order_by(ChatBinding.id)
    )
    departments, members, rolled = snap.department_by_id, snap.member_by_id, snap.rolled
    codes = {task.id: task.code for task in snap.tasks}

    def department_name(department_id: int | None) -> str | None:
        return departments[department_id].name if department_id in departments else None

    def member_name(member_id: int | None) -> str | None:
        member = members.get(member_id) if member_id is not None else None
        return None if member is None else member.name

    raci: dict[int, dict[str, list[str]]] = {}
    for entry in snap.raci:
        roles = raci.setdefault(entry.task_id, {role: [] for role in RACI_ROLES})
        # A department entry (`R=市场部`) by the department's name.
        name = member_name(entry.member_id) or department_name(entry.department_id)
        roles[entry.role].append(name or "")

    against, calendar = snap.slips, snap.calendar
    # Pure and proportional to the plan: off the event loop, which serves every chat meanwhile.
    timings = await asyncio.to_thread(lambda: snap.timings)

    def promised(kind: Kind, ref_id: int, due: date | None) -> dict[str, Any]:
        then = against.then.get((kind, ref_id)) if against else None
        if then is None:
            return {}
        workdays = slip_workdays(then.due, due, calendar) if then.due and due else None
        return {"baseline_due": then.due, "slip_workdays": workdays} | (
            {"baseline_start": then.start} if kind == "task" else {}
        )

    def timing(code: str) -> dict[str, Any]:
        found = timings.get(code)
        return {} if found is None else {"total_float": found.total_float, "critical": found.critical}

    return ProjectOut(
        id=pid,
        name=project.name,
        charter=CharterOut(
            background=project.background,
            goal=project.goal,
            deliverables=project.deliverables,
            scope_in=project.scope_in,
            scope_out=project.scope_out,
            start=project.start_date,
            end=project.end_date,
            timezone=project.timezone,
            locale=project.locale,
            status=project.status,
        ),
        chats=[
            ChatOut(platform=c.platform, chat_id=c.chat_id, name=c.name, is_default=c.is_default)
            for c in chats
        ],
        departments=[
            DepartmentOut(id=d.id, name=d.name, head=member_name(d.head_member_id)) for d in snap.departments
        ],
        members=[
            MemberOut(
                id=m.id,
                platform=m.platform,
                user_id=m.platform_user_id,
                name=m.display_name,
                department=department_name(m.department_id),
                role=m.role,
            )
            for m in snap.members
        ],
        tasks=[
            TaskOut(
                code=task.code,
                title=task.title,
                level=len(code_key(task.code)),
                parent=codes.get(task.parent_id) if task.parent_id is not None else None,
                owner=member_name(task.owner_member_id),
                department=department_name(task.department_id),
                # Effective values: a parent spans its children and rolls up their progress.
                start=rolled[task.code].start,
                due=rolled[task.code].due,
                progress=rolled[task.code].progress,
                status=rolled[task.code].status,
                depends_on=sorted((codes[i] for i in snap.depends_on.get(task.id, ())), key=code_key),
                **promised("task", task.id, rolled[task.code].due),
                **timing(task.code),
            )
            for task in snap.tasks
        ],
        milestones=[
            MilestoneOut(
                number=m.number,
                title=m.title,
                due=m.due_date,
                status=m.status,
                tasks=sorted((codes[i] for i in m.task_ids), key=code_key),
                **promised("milestone", m.id, m.due_date),
            )
            for m in snap.milestones
        ],
        raci={task.code: RaciOut(**raci[task.id]) for task in snap.tasks if task.id in raci},
        risks=[
            RiskOut(
                number=r.number,
                description=r.description,
                level=r.level,
                owner=member_name(r.owner_member_id),
                mitigation=r.mitigation,
                status=r.status,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in snap.risks
        ],
        actions=[
            ActionOut(
                number=a.number,
                owner=member_name(a.owner_member_id),
                text=a.text,
                due=a.due_date,
                status=a.status,
                source_meeting=a.source_meeting,
            )
            for a in snap.actions
        ],
    )


async def export_workbook(session: AsyncSession, project: Project) -> bytes:
    """The project as an xlsx workbook (bot/render/xlsx.py), in the project's language."""
    snap = await snapshot.load(session, project)
    out = await _project_out(session, project, snap)
    plan = plan_import.current_plan(snap)
    reports = [_report_summary(s) for s in await report_service.history(session, project.id)]
    locale: Locale = next((loc for loc in LOCALES if loc == project.locale), "zh")
    # openpyxl is synchronous and a big plan takes a while: off the event loop.
    return await asyncio.to_thread(write_export, out, plan, reports, locale)


# -- routes ------------------------------------------------------------------------------------


# Ids beyond the Integer column would make PostgreSQL fail the query: refuse them as invalid (422).
ProjectId = Annotated[int, Path(ge=1, le=MAX_INT)]


def build_router(
    settings: Settings, factory: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter()

    bearer = HTTPBearer(auto_error=False, description="The value of CROSSTRACK_API_TOKEN.")

    async def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if not settings.api_token:
            raise ApiError(503, DISABLED)
        given = credentials.credentials if credentials else ""
        # Bytes, because compare_digest refuses non-ASCII str.
        if not secrets.compare_digest(given.encode(), settings.api_token.get_secret_value().encode()):
            raise ApiError(401, "invalid or missing bearer token", {"WWW-Authenticate": "Bearer"})

    async def open_session() -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            yield session

    Session = Annotated[AsyncSession, Depends(open_session)]

    async def get_project(session: AsyncSession, project_id: int) -> Project:
        project = await session.get(Project, project_id)
        if project is None:
            raise ApiError(404, f"project {project_id} not found")
        return project

    api = APIRouter(
        prefix="/api",
        tags=["api"],
        route_class=_ApiRoute,
        dependencies=[Depends(require_token)],
        responses={
            401: {"model": ErrorOut, "description": "Missing or wrong bearer token"},
            503: {"model": ErrorOut, "description": DISABLED},
        },
    )
    not_found: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such project"}}

    @api.get("/projects")
    async def list_projects(session: Session) -> list[ProjectSummaryOut]:
        projects = await session.scalars(select(Project).order_by(Project.id))
        return [
            ProjectSummaryOut(id=p.id, name=p.name, status=p.status, start=p.start_date, end=p.end_date)
            for p in projects
        ]

    @api.get("/projects/{project_id}", responses=not_found)
    async def project_detail(session: Session, project_id: ProjectId) -> ProjectOut:
        project = await get_project(session, project_id)
        return await _project_out(session, project, await snapshot.load(session, project))

    @api.get("/projects/{project_id}/audit", responses=not_found)
    async def project_audit(
        session: Session,
        project_id: ProjectId,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[
            int | None, Query(ge=1, le=MAX_INT, description="Only entries older than this id.")
        ] = None,
    ) -> list[AuditEntryOut]:
        """The project's audit log, newest first; page with `before_id` = the last id seen."""
        await get_project(session, project_id)
        query = select(AuditEntry).where(AuditEntry.project_id == project_id)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        entries = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
        return [
            AuditEntryOut(
                id=e.id,
                at=e.created_at,
                actor=ActorOut(platform=e.actor_platform, user_id=e.actor_user_id, name=e.actor_name),
                action=e.action,
                entity=e.entity,
                entity_id=e.entity_id,
                before=e.before,
                after=e.after,
            )
            for e in entries
        ]

    @api.get("/projects/{project_id}/reports", responses=not_found)
    async def project_reports(session: Session, project_id: ProjectId) -> list[ReportSummaryOut]:
        """The stored weekly reports, newest week first."""
        await get_project(session, project_id)
        return [_report_summary(s) for s in await report_service.history(session, project_id)]

    @api.get(
        "/projects/{project_id}/reports/{week}",
        responses={
            404: {"model": ErrorOut, "description": "No such project, or no report that week"},
            422: {"model": ErrorOut, "description": f"A date more than {YEARS_AWAY} years from today"},
        },
    )
    async def project_report(session: Session, project_id: ProjectId, week: date) -> ReportOut:
        """The weekly report as posted for the week containing `week` (its Monday, or any day of it)."""
        try:
            check_near(week, today=clock().date(), value=week.isoformat())
        except ArgError:
            raise ApiError(422, f"{week.isoformat()} is more than {YEARS_AWAY} years from today") from None
        await get_project(session, project_id)
        week_start = week_of(week)[0]
        snapshot = await report_service.for_week(session, project_id, week_start)
        if snapshot is None:
            raise ApiError(404, f"no report for the week of {week_start.isoformat()}")
        return ReportOut(
            **_report_summary(snapshot).model_dump(), markdown=snapshot.markdown, content=snapshot.content
        )

    @api.get(
        "/projects/{project_id}/participation",
        responses={
            **not_found,
            422: {
                "model": ErrorOut,
                "description": "since after until, too long a window, or a far date",
            },
        },
    )
    async def project_participation(
        session: Session,
        project_id: ProjectId,
        since: Annotated[date | None, Query(description="First day; default: 4 weeks to `until`.")] = None,
        until: Annotated[date | None, Query(description="Last day; default: today.")] = None,
    ) -> ParticipationOut:
        """Standup participation and task timeliness per member and department over a window of at
        most 366 days, with each member's day-by-day marks for a heatmap."""
        project = await get_project(session, project_id)
        now = clock()
        today = now.astimezone(ZoneInfo(project.timezone)).date()
        last = until or today
        first = since or last - timedelta(days=7 * PARTICIPATION_WEEKS - 1)
        for day in (first, last):
            try:
                check_near(day, today=today, value=day.isoformat())
            except ArgError:
                raise ApiError(422, f"{day.isoformat()} is more than {YEARS_AWAY} years from today") from None
        if first > last:
            raise ApiError(422, f"since {first.isoformat()} is after until {last.isoformat()}")
        if (last - first).days + 1 > MAX_PARTICIPATION_DAYS:
            raise ApiError(422, f"at most {MAX_PARTICIPATION_DAYS} days at a time")
        found = await participation.load(session, project, since=first, until=last, today=today, now=now)
        return _participation_out(found)

    @api.get(
        "/projects/{project_id}/export.xlsx",
        responses={**not_found, 200: {"content": {MEDIA_TYPE: {}}, "description": "The workbook"}},
        response_class=Response,
    )
    async def project_export(session: Session, project_id: ProjectId) -> Response:
        """The charter, RACI, plan, risks, action items and weekly history as an Excel workbook (the
        plan sheet is the one `crosstrack import` reads back)."""
        project = await get_project(session, project_id)
        return Response(
            await export_workbook(session, project),
            media_type=MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="project-{project_id}.xlsx"'},
        )

    async def gantt_picture(session: AsyncSession, project_id: int, phase: str | None, fmt: str) -> Response:
        project = await get_project(session, project_id)
        today = clock().astimezone(ZoneInfo(project.timezone)).date()
        drawn = await pictures.gantt(session, project, today=today, phase=phase, fmt=fmt)
        if phase is not None and phase not in drawn.phases:
            raise ApiError(404, f"project {project_id} has no phase {phase}")
        if drawn.png is None:
            raise ApiError(404, f"project {project_id} has no dated task to draw")
        return Response(drawn.png, media_type=PICTURE_TYPES[fmt])

    pictured = {**not_found, 200: {"content": {PICTURE_TYPES["png"]: {}}, "description": "The chart"}}

    @api.get("/projects/{project_id}/gantt.png", responses=pictured, response_class=Response)
    async def project_gantt_png(
        session: Session, project_id: ProjectId, phase: PhaseQuery = None
    ) -> Response:
        """The Gantt chart as chat shows it (`phase`: one phase's page, as `/gantt 2`)."""
        return await gantt_picture(session, project_id, phase, "png")

    @api.get(
        "/projects/{project_id}/gantt.svg",
        responses={**not_found, 200: {"content": {PICTURE_TYPES["svg"]: {}}, "description": "The chart"}},
        response_class=Response,
    )
    async def project_gantt_svg(
        session: Session, project_id: ProjectId, phase: PhaseQuery = None
    ) -> Response:
        """The Gantt chart as SVG (scales to any screen)."""
        return await gantt_picture(session, project_id, phase, "svg")

    router.include_router(api)
    return router
