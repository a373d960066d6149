"""One read model of a project, pure: plain immutable records of everything a view of the whole
project reads (the plan, its people, RACI, milestones, blockers, risks, action items, the baseline
in force and the working calendar), and what is derived from them once (roll-ups, the critical
path, slip against the baseline). Loaded by bot/services/snapshot.py in a fixed number of queries.

Field names follow the stored rows', so a record reads like the row it was made from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from bot.domain import raci as raci_rules
from bot.domain import wbs
from bot.domain.baseline import Dated, Slips, current_items, slips
from bot.domain.critical_path import Planned, Timing, critical_path
from bot.domain.workdays import WorkCalendar


@dataclass(frozen=True)
class DepartmentRec:
    id: int
    name: str
    head_member_id: int | None


@dataclass(frozen=True)
class MemberRec:
    id: int
    platform: str
    platform_user_id: str
    display_name: str
    department_id: int | None
    role: str
    created_at: datetime

    @property
    def name(self) -> str:
        return self.display_name or self.platform_user_id


@dataclass(frozen=True)
class TaskRec:
    """A task as stored (a parent's own dates may be empty; see `ProjectSnapshot.rolled`)."""

    id: int
    code: str
    parent_id: int | None
    title: str
    owner_member_id: int | None
    department_id: int | None
    start_date: date | None
    due_date: date | None
    progress: int
    status: str
    created_at: datetime


@dataclass(frozen=True)
class RaciRec:
    """One RACI entry of a task: a member or a department (`R=市场部`)."""

    task_id: int
    role: str  # R, A, C or I
    member_id: int | None
    department_id: int | None = None


@dataclass(frozen=True)
class MilestoneRec:
    id: int
    number: int
    title: str
    due_date: date
    status: str
    done_at: datetime | None
    task_ids: tuple[int, ...]  # its linked tasks, by task id


@dataclass(frozen=True)
class BlockerRec:
    """An open blocker."""

    id: int
    task_id: int
    text: str
    raised_by_member_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class RiskRec:
    id: int
    number: int
    description: str
    level: str
    owner_member_id: int | None
    mitigation: str
    status: str
    created_at: datetime
    updated_at: datetime
    last_event_at: datetime | None  # the newest entry of its history


@dataclass(frozen=True)
class ActionRec:
    id: int
    number: int
    owner_member_id: int | None
    text: str
    due_date: date | None
    status: str
    source_meeting: str


@dataclass(frozen=True)
class ProgressRec:
    """A progress update within the history window."""

    task_id: int
    previous_progress: int
    progress: int
    created_at: datetime


@dataclass(frozen=True)
class RiskMoveRec:
    """A risk's status change within the history window."""

    risk_id: int
    to_status: str
    created_at: datetime


@dataclass(frozen=True)
class BaselineRec:
    number: int
    items: tuple[Dated, ...]


@dataclass(frozen=True)
class ProjectSnapshot:
    """The project as read at one moment. Lists are in their natural order: tasks in WBS order,
    departments and members by id, milestones, risks and action items by number, RACI entries in
    the order they were given, blockers oldest first."""

    project_id: int
    end: date | None  # the charter's end date
    calendar: WorkCalendar
    departments: tuple[DepartmentRec, ...]
    members: tuple[MemberRec, ...]
    tasks: tuple[TaskRec, ...]
    depends_on: Mapping[int, tuple[int, ...]]  # task id -> the task ids it depends on
    raci: tuple[RaciRec, ...]
    milestones: tuple[MilestoneRec, ...]
    blockers: tuple[BlockerRec, ...]  # open ones
    risks: tuple[RiskRec, ...]
    actions: tuple[ActionRec, ...]
    baseline: BaselineRec | None  # the one in force
    # Only over the history window the loader was asked for (empty otherwise).
    updates: tuple[ProgressRec, ...] = ()
    risk_moves: tuple[RiskMoveRec, ...] = ()
    # Removed from the project (`/member remove`): named in past work only, never prompted or listed.
    removed_members: tuple[MemberRec, ...] = ()

    # --- lookups ---

    @cached_property
    def member_by_id(self) -> dict[int, MemberRec]:
        """Present and removed members: a removed one still names the work they did."""
        return {member.id: member for member in (*self.members, *self.removed_members)}

    @cached_property
    def department_by_id(self) -> dict[int, DepartmentRec]:
        return {department.id: department for department in self.departments}

    @cached_property
    def pms(self) -> tuple[MemberRec, ...]:
        return tuple(member for member in self.members if member.role == "pm")

    def people(self, ids: tuple[int, ...] | list[int]) -> tuple[MemberRec, ...]:
        """The members with these ids, in that order, leaving out ids that are not (or no longer) members."""
        return tuple(self.member_by_id[i] for i in ids if i in self.member_by_id)

    @cached_property
    def heads(self) -> dict[int, int | None]:
        """Department id -> its head's member id."""
        return {department.id: department.head_member_id for department in self.departments}

    def entries(self, task_id: int) -> list[raci_rules.Entry]:
        """A task's RACI entries, in the order given."""
        return self._entries.get(task_id, [])

    @cached_property
    def _entries(self) -> dict[int, list[raci_rules.Entry]]:
        found: dict[int, list[raci_rules.Entry]] = {}
        for entry in self.raci:
            found.setdefault(entry.task_id, []).append(
                raci_rules.Entry(entry.role, entry.member_id, entry.department_id)
            )
        return found

    def answering(self, task: TaskRec) -> tuple[int, ...]:
        """Member ids who answer for a task, a department standing for its head while no person is
        named (see bot.domain.raci.responsible)."""
        return raci_rules.responsible(task.owner_member_id, self.entries(task.id), self.heads)

    def roles(self, task_id: int, role: str) -> list[int]:
        """Member ids holding `role` on a task, in the order given."""
        return self._roles.get((task_id, role), [])

    @cached_property
    def _roles(self) -> dict[tuple[int, str], list[int]]:
        found: dict[tuple[int, str], list[int]] = {}
        for entry in self.raci:
            if entry.member_id is not None:
                found.setdefault((entry.task_id, entry.role), []).append(entry.member_id)
        return found

    def responsible(self, task: TaskRec) -> tuple[MemberRec, ...]:
        """Who is named for a task in lists: its owner, else its person R assignees."""
        if task.owner_member_id in self.member_by_id:
            return (self.member_by_id[task.owner_member_id],)
        return self.people(self.roles(task.id, "R"))

    # --- the plan, derived ---

    @cached_property
    def nodes(self) -> list[wbs.Node]:
        return [wbs.Node(t.code, t.start_date, t.due_date, t.progress, t.status) for t in self.tasks]

    @cached_property
    def rolled(self) -> dict[str, wbs.Rolled]:
        """Each task's effective dates, progress and status (a parent's from its children)."""
        return wbs.rollup(self.nodes)

    @cached_property
    def parents(self) -> set[str | None]:
        """Codes that have children (and None, the root)."""
        return {wbs.parent_of(task.code) for task in self.tasks}

    @cached_property
    def graph(self) -> dict[str, set[str]]:
        """Code -> the codes it depends on (finish-to-start)."""
        code = {task.id: task.code for task in self.tasks}
        return {code[task]: {code[up] for up in ups} for task, ups in self.depends_on.items() if ups}

    @cached_property
    def timings(self) -> dict[str, Timing]:
        """The critical path of the plan as dated."""
        planned = {task.code: Planned(task.start_date, task.due_date) for task in self.tasks}
        return critical_path(planned, self.graph, self.calendar)

    @cached_property
    def dated(self) -> list[Dated]:
        """The plan's dates as a baseline would keep them."""
        return current_items(self.tasks, self.rolled, self.milestones)

    @cached_property
    def slips(self) -> Slips | None:
        """The plan against the baseline in force; None when none was set."""
        if self.baseline is None:
            return None
        return slips(self.baseline.number, self.baseline.items, self.dated, self.calendar)
