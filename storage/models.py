"""SQLAlchemy 2 models; the only module (with repos) that knows the schema."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out; SQLite otherwise hands back naive datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MAX_INT = 2**31 - 1  # the largest value of an Integer column (PostgreSQL int4), ids included


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    background: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    deliverables: Mapped[str] = mapped_column(Text, default="")
    scope_in: Mapped[str] = mapped_column(Text, default="")
    scope_out: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The rhythm, set with /config; times are HH:MM in the project's timezone.
    standup_time: Mapped[str] = mapped_column(String(5), default="09:30", server_default="09:30")
    standup_cutoff: Mapped[str] = mapped_column(String(5), default="11:00", server_default="11:00")
    standup_mode: Mapped[str] = mapped_column(String(8), default="dm", server_default="dm")
    report_weekday: Mapped[int] = mapped_column(default=4, server_default="4")  # Monday is 0
    report_time: Mapped[str] = mapped_column(String(5), default="17:00", server_default="17:00")
    alerts_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Whether a non-member acting in a bound group joins (`auto`) or is refused (`closed`).
    join_policy: Mapped[str] = mapped_column(String(8), default="auto", server_default="auto")
    bitable_app_token: Mapped[str | None] = mapped_column(String(128))
    bitable_table_id: Mapped[str | None] = mapped_column(String(128))
    # A DingTalk AI table (Notable): base and sheet (id or name), written as the member who bound it
    # (their DingTalk staff id), since the Notable API acts on behalf of a user (`operatorId`).
    aitable_base_id: Mapped[str | None] = mapped_column(String(128))
    aitable_sheet_id: Mapped[str | None] = mapped_column(String(128))
    aitable_operator_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("status IN ('active', 'closed')", name="status"),
        CheckConstraint("standup_mode IN ('dm', 'group')", name="standup_mode"),
        CheckConstraint("report_weekday BETWEEN 0 AND 6", name="report_weekday"),
    )


class ChatBinding(Base):
    __tablename__ = "chat_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    chat_type: Mapped[str] = mapped_column(String(8), default="group")
    name: Mapped[str] = mapped_column(String(200), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("platform", "chat_id"),)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    head_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL", use_alter=True)
    )
    # The charter's resource needs (资源需求) of this department, as typed: people, budget, the rest.
    resource_people: Mapped[str] = mapped_column(String(100), default="", server_default="")
    resource_budget: Mapped[str] = mapped_column(String(100), default="", server_default="")
    resource_other: Mapped[str] = mapped_column(Text, default="", server_default="")

    __table_args__ = (UniqueConstraint("project_id", "name"),)


class CharterConfirmation(Base):
    """A department head's sign-off of the charter; deleted (and audited) when the goal, scope or
    dates change, so that every head confirms what the charter says now."""

    __tablename__ = "charter_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime]

    department: Mapped[Department] = relationship(lazy="selectin")

    __table_args__ = (UniqueConstraint("project_id", "department_id"),)


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime]
    # Removed from the project: the row stays for history, the audit log and /undo, and a person
    # added again gets it back; nothing else counts it as a member.
    removed_at: Mapped[datetime | None]
    # Their dashboard links carry the generation they were made in; `/dashboard revoke` raises it,
    # so every link made before no longer opens.
    dashboard_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("project_id", "platform", "platform_user_id"),
        CheckConstraint("role IN ('pm', 'member')", name="role"),
    )


class Task(Base):
    """A WBS node: phase (`1`), task (`1.1`) or subtask (`1.1.1`)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    # Dates as set by a user; a parent's effective dates span its children where these are empty.
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        CheckConstraint("status IN ('not_started', 'in_progress', 'blocked', 'done')", name="status"),
    )


class TaskDependency(Base):
    """Finish-to-start: `task` may start once `depends_on` is finished."""

    __tablename__ = "task_dependencies"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    depends_on_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RaciAssignment(Base):
    __tablename__ = "raci_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    # A person, or a department (`R=市场部`) whose head answers for it until a person is named.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(1))

    __table_args__ = (
        UniqueConstraint("task_id", "member_id", "role"),
        UniqueConstraint("task_id", "department_id", "role"),
        CheckConstraint("role IN ('R', 'A', 'C', 'I')", name="role"),
        CheckConstraint("(member_id IS NULL) <> (department_id IS NULL)", name="one_target"),
    )


class Milestone(Base):
    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    tasks: Mapped[list[Task]] = relationship(secondary="milestone_tasks", order_by="Task.id")

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        CheckConstraint("status IN ('open', 'done')", name="status"),
    )


class Baseline(Base):
    """A snapshot of the plan's dates that the PMs promised: number 1, 2, … per project, with why."""

    __tablename__ = "baselines"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    project_start: Mapped[date | None] = mapped_column(Date)
    project_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]

    items: Mapped[list[BaselineItem]] = relationship(
        back_populates="baseline", cascade="all, delete-orphan", order_by="BaselineItem.id"
    )

    __table_args__ = (UniqueConstraint("project_id", "number"),)


class BaselineItem(Base):
    """One task's or milestone's dates in a baseline. `ref_id` is no foreign key: the baseline keeps
    what was promised even after the task is deleted (its code and title are copied for that)."""

    __tablename__ = "baseline_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    baseline_id: Mapped[int] = mapped_column(ForeignKey("baselines.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int]
    code: Mapped[str] = mapped_column(String(32))  # a task's code, a milestone's number
    title: Mapped[str] = mapped_column(String(300))
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)

    baseline: Mapped[Baseline] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("baseline_id", "kind", "ref_id"),
        CheckConstraint("kind IN ('task', 'milestone')", name="kind"),
    )


class MilestoneTask(Base):
    __tablename__ = "milestone_tasks"

    milestone_id: Mapped[int] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)


class ProgressUpdate(Base):
    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    previous_progress: Mapped[int]
    progress: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class Blocker(Base):
    __tablename__ = "blockers"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    raised_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    cleared_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("status IN ('open', 'cleared')", name="status"),)


class Risk(Base):
    __tablename__ = "risks"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    description: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(8))
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    mitigation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        CheckConstraint("level IN ('high', 'medium', 'low')", name="level"),
        CheckConstraint("status IN ('new', 'open', 'mitigated', 'closed')", name="status"),
    )


class RiskEvent(Base):
    """The risk's history: every status or level change with the note given."""

    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ActionItem(Base):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    source_meeting: Mapped[str] = mapped_column(String(200), default="")
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        CheckConstraint("status IN ('open', 'done')", name="status"),
    )


class ResourceRequest(Base):
    """What a member asks the project for (`N3`: a test server, a designer's day), from a standup or
    /need: sent to their department head, else the PMs, and listed in the standup summary and the
    weekly report until someone marks it handled. `text` is stored as typed."""

    __tablename__ = "resource_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    requester_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    # The requester's department when they asked; routing and the lists name it.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    routed_to_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    handled_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None]
    handled_note: Mapped[str] = mapped_column(Text, default="")
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        CheckConstraint("source IN ('standup', 'command')", name="source"),
        CheckConstraint("status IN ('open', 'handled')", name="status"),
    )


class ChangeRequest(Base):
    """A change to the baselined plan (CR-1, CR-2 … per project): a task's or milestone's dates, a
    task added or deleted, the charter's scope. Asked by a member and decided by a PM, or a PM's own
    edit logged as approved. `change` holds the parsed edit (what to apply), `old` what it replaces;
    `impact` the downstream tasks it moved and the milestones it puts at risk, fixed at decision."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    requester_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))  # a task code, "#2" or a charter field
    old: Mapped[dict[str, Any]]
    change: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    discussing: Mapped[bool] = mapped_column(default=False)
    decided_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[dict[str, Any] | None]
    baseline_number: Mapped[int]
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        CheckConstraint(
            "kind IN ('task.edit', 'task.add', 'task.delete', 'milestone.edit', 'charter.scope')",
            name="kind",
        ),
        CheckConstraint("status IN ('open', 'approved', 'rejected')", name="status"),
    )


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    actor_platform: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[str] = mapped_column(String(128))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    source_event_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class CalendarOverride(Base):
    """A project's own holiday or make-up workday, in front of the official China calendar."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("project_id", "day"),
        CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),
    )


class Leave(Base):
    """A member away from `start_date` to `end_date` inclusive: not prompted, reminded or counted missing."""

    __tablename__ = "leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates"),)


class StandupReport(Base):
    """One member's standup for one business day; a later reply the same day amends it."""

    __tablename__ = "standup_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    business_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("project_id", "member_id", "business_date"),)


class JobRun(Base):
    """A scheduled job claimed for one project and business day, so it runs once across schedulers."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    business_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("job", "project_id", "business_date"),
        CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
    )


class AlertState(Base):
    """What was last said about one alert subject, for escalation and "repeat only when worse"."""

    __tablename__ = "alert_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # e.g. "task:12", "member:3"
    first_seen: Mapped[date] = mapped_column(Date)
    last_seen: Mapped[date] = mapped_column(Date)
    last_sent: Mapped[date | None] = mapped_column(Date)
    severity: Mapped[int] = mapped_column(default=0)
    stage: Mapped[int] = mapped_column(default=0)  # 0 owner, 1 + A and dept head, 2 + PM
    resolved_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("project_id", "rule", "subject"),)


class ReportSnapshot(Base):
    """A weekly report as posted, kept so that past reports stay readable."""

    __tablename__ = "report_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime]
    content: Mapped[dict[str, Any]]
    markdown: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("project_id", "week_start"),)


class ReportWebhook(Base):
    """A custom group robot (DingTalk) or custom bot (Feishu) webhook that also gets the weekly report:
    a report-only group the app's bot is not in. The URL (its access_token or hook id) and the
    signing secret are credentials: stored encrypted (storage/secretbox.py), never shown in full,
    never audited. `url_digest` (a keyed HMAC of the URL) makes a URL unique per project, since two
    encryptions of one URL differ; `url_shown` is the masked form chat and the audit log show."""

    __tablename__ = "report_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # the outbox platform: "dingtalk-webhook" ...
    url_digest: Mapped[str] = mapped_column(String(64))
    url_sealed: Mapped[str] = mapped_column(Text)
    url_shown: Mapped[str] = mapped_column(String(200))
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("project_id", "url_digest"),)


class TableSyncRecord(Base):
    """A row written to a shared table (Feishu Bitable, DingTalk AI table), so re-runs update it instead
    of adding another."""

    __tablename__ = "table_sync_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    week_start: Mapped[date] = mapped_column(Date)
    row_key: Mapped[str] = mapped_column(String(64))  # a task code, or "summary"
    record_id: Mapped[str] = mapped_column(String(128))
    synced_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("project_id", "platform", "week_start", "row_key"),)


class UserContext(Base):
    """The project a user's 1:1 chat with the bot talks about, when they belong to several."""

    __tablename__ = "user_contexts"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))


class InboundEventRecord(Base):
    """Claimed inbound events: the unique keys make redeliveries no-ops; `status` makes work resumable."""

    __tablename__ = "inbound_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    # When a pending event may be (re)tried: the sweeper picks up pending events past it, so a retry
    # survives a restart and an event acked during a database outage is not left behind.
    next_attempt_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        UniqueConstraint("platform", "message_id"),
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
        Index("ix_inbound_events_status", "status"),
    )


class OutboxMessage(Base):
    """Every outbound message, persisted before sending; the key doubles as the platform's dedupe id."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    reply_to: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Indexed: a reply to one of our messages is matched back to it (standup replies in groups).
    platform_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )


class RequestNonce(Base):
    """A single-use value seen on a request (e.g. a DingTalk callback's timestamp/sign header pair) and
    what claimed it first; kept until `expires_at`, when the value could no longer be accepted anyway."""

    __tablename__ = "request_nonces"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RateCounter(Base):
    """Fixed-window counters shared by every process on one database: a per-user command limit, one
    send budget per platform app."""

    __tablename__ = "rate_counters"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
