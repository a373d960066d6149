"""Participation and timeliness, pure: per member and department, how often they answered the daily
standup and how fast after the prompt, how many of their tasks finished on time and how late the
others were, and their current run of answered standups; plus a mark per member and day for the
heatmap. Computed from a `ProjectSnapshot` read with its progress history over the window (for the
day each task finished) and the standup facts the service loaded.

The rules:
- A member is *asked* on a day when the standup prompt went out that day (a working day of the
  project calendar), they were a member by then, they were not on leave, and they answered for a
  leaf task that existed and was not finished before that day (as the standup decides who owes one,
  with today's RACI). A reply given anyway always counts, as asked and answered.
- Today's standup is still open until `closed_through` has passed it: unanswered, it is not missed yet.
- A task counts in the window when it is a leaf due in it and it finished or is past due; on time
  when it finished on or before its due date; late by the working days from its due date to the day
  it finished, or to today while still open. Finished before the history window: on time.
- Removed members are not listed. A department's figures are its members': replies summed, the
  median over all of their replies, each task they answer for counted once; its streak is the run of
  days on which every member asked answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Literal

from bot.domain.snapshot import MemberRec, ProjectSnapshot, TaskRec
from bot.domain.workdays import IsWorkday, workdays_after

DayMark = Literal["answered", "missed", "leave", "off"]


@dataclass(frozen=True)
class Rates:
    """One member's or one department's figures over a window."""

    asked: int  # standups they were expected to give
    answered: int
    median_reply_minutes: int | None  # after that day's prompt, over answers with a known prompt
    due: int  # leaf tasks due in the window that finished or are past due
    on_time: int  # of those, finished on or before their due date
    late_days_avg: float | None  # mean working days late over the late ones
    streak: int  # answered asked days in a row, ending at the last asked day

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class MemberRates:
    member_id: int
    name: str
    department: str | None
    rates: Rates


@dataclass(frozen=True)
class DepartmentRates:
    department: str  # "" for the members without one
    rates: Rates


@dataclass(frozen=True)
class Participation:
    since: date
    until: date
    days: tuple[date, ...]  # every day of the window, for the heatmap's columns
    members: tuple[MemberRates, ...]  # present members, by department (in the project's order) then name
    departments: tuple[DepartmentRates, ...]  # those with present members, the one without last
    marks: Mapping[tuple[int, date], DayMark]  # (member id, day) -> what that day was for them


@dataclass(frozen=True)
class _Due:
    """A task counted in the window: on time, or late by `late` working days."""

    task_id: int
    on_time: bool
    late: int


def finished_on(snapshot: ProjectSnapshot, local_day: Callable[[datetime], date]) -> dict[int, date]:
    """Task id -> the day a finished task last reached 100 %, from the history the snapshot holds."""
    done = {task.id for task in snapshot.tasks if task.status == "done"}
    found: dict[int, date] = {}
    for update in snapshot.updates:  # oldest first: the last one wins
        if update.task_id in done and update.progress >= 100 > update.previous_progress:
            found[update.task_id] = local_day(update.created_at)
    return found


def participation(
    snapshot: ProjectSnapshot,
    *,
    prompts: Mapping[date, datetime],
    replies: Mapping[tuple[int, date], datetime],
    leaves: Iterable[tuple[int, date, date]],
    local_day: Callable[[datetime], date],
    since: date,
    until: date,
    today: date,
    is_workday: IsWorkday,
    closed_through: date | None = None,
) -> Participation:
    """`prompts`: day -> when the standup prompt went out; `replies`: (member id, day) -> when they
    first answered that day's standup; `leaves`: (member id, first day, last day); `closed_through`:
    the last day whose standup is over (the day before `today` when not given)."""
    closed = closed_through if closed_through is not None else today - timedelta(days=1)
    days = tuple(since + timedelta(days=n) for n in range((until - since).days + 1))
    away: dict[int, list[tuple[date, date]]] = {}
    for member_id, first, last in leaves:
        away.setdefault(member_id, []).append((first, last))
    finished = finished_on(snapshot, local_day)
    leaves_of_plan = [task for task in snapshot.tasks if task.code not in snapshot.parents]
    answering = {task.id: snapshot.answering(task) for task in leaves_of_plan}

    def existed(moment: datetime, day: date) -> bool:
        """Whether something created at `moment` was there for the day's prompt."""
        prompt = prompts.get(day)
        return moment <= prompt if prompt is not None else local_day(moment) <= day

    def open_on(task: TaskRec, day: date) -> bool:
        if not existed(task.created_at, day):
            return False
        if task.status != "done":
            return True
        end = finished.get(task.id)
        return end is not None and end >= day

    def mark(member: MemberRec, tasks: list[TaskRec], day: date) -> DayMark:
        if day > today or not is_workday(day) or not existed(member.created_at, day):
            return "off"
        if (member.id, day) in replies:
            return "answered"
        if any(first <= day <= last for first, last in away.get(member.id, ())):
            return "leave"
        if day > closed or day not in prompts or not any(open_on(task, day) for task in tasks):
            return "off"
        return "missed"

    counted = {task.id: _counted(task, finished, since, until, today, is_workday) for task in leaves_of_plan}
    department_name = {d.id: d.name for d in snapshot.departments}
    marks: dict[tuple[int, date], DayMark] = {}
    per_member: list[tuple[MemberRec, Rates, list[_Due], list[int]]] = []
    for member in snapshot.members:
        tasks = [task for task in leaves_of_plan if member.id in answering[task.id]]
        for day in days:
            marks[(member.id, day)] = mark(member, tasks, day)
        dues = [found for task in tasks if (found := counted[task.id]) is not None]
        minutes = _minutes(member.id, days, marks, prompts, replies)
        rates = _rates([marks[(member.id, day)] for day in days], minutes, dues)
        per_member.append((member, rates, dues, minutes))

    order = {d.id: n for n, d in enumerate(snapshot.departments)}

    def department(member: MemberRec) -> str | None:
        return None if member.department_id is None else department_name.get(member.department_id)

    def rank(member: MemberRec) -> tuple[int, str, int]:
        place = (
            order.get(member.department_id, len(order)) if member.department_id is not None else len(order)
        )
        return place, member.name, member.id

    per_member.sort(key=lambda row: rank(row[0]))
    members = tuple(
        MemberRates(member.id, member.name, department(member), rates) for member, rates, _, _ in per_member
    )
    groups: dict[str, list[tuple[MemberRec, Rates, list[_Due], list[int]]]] = {}
    for row in per_member:
        groups.setdefault(department(row[0]) or "", []).append(row)
    departments = []
    for name, rows in groups.items():
        dues = list({due.task_id: due for _, _, found, _ in rows for due in found}.values())
        minutes = [m for _, _, _, found in rows for m in found]
        asked = sum(rates.asked for _, rates, _, _ in rows)
        answered = sum(rates.answered for _, rates, _, _ in rows)
        # A day is the department's when anyone in it was asked, answered when all of them did.
        together: list[DayMark] = []
        for day in days:
            seen = {marks[(member.id, day)] for member, _, _, _ in rows} & {"answered", "missed"}
            together.append("missed" if "missed" in seen else "answered" if seen else "off")
        rates = _rates(together, minutes, dues)
        departments.append(DepartmentRates(name, Rates(asked, answered, *_tail(rates))))
    return Participation(since, until, days, members, tuple(departments), marks)


def _tail(rates: Rates) -> tuple[int | None, int, int, float | None, int]:
    return rates.median_reply_minutes, rates.due, rates.on_time, rates.late_days_avg, rates.streak


def _counted(
    task: TaskRec, finished: Mapping[int, date], since: date, until: date, today: date, is_workday: IsWorkday
) -> _Due | None:
    """A leaf task's place in the window's timeliness, None when it does not count there."""
    due = task.due_date
    if due is None or not since <= due <= until:
        return None
    if task.status == "done":
        end = finished.get(task.id)
        if end is None or end <= due:  # finished before the history began: before its due date
            return _Due(task.id, True, 0)
        return _Due(task.id, False, workdays_after(due, end, is_workday))
    if due >= today:
        return None  # still has time
    return _Due(task.id, False, workdays_after(due, today, is_workday))


def _minutes(
    member_id: int,
    days: Iterable[date],
    marks: Mapping[tuple[int, date], DayMark],
    prompts: Mapping[date, datetime],
    replies: Mapping[tuple[int, date], datetime],
) -> list[int]:
    """Minutes from each day's prompt to the member's reply, on answered days with a known prompt (a
    reply before the prompt counts as immediate)."""
    return [
        max(0, int((replies[(member_id, day)] - prompts[day]).total_seconds() // 60))
        for day in days
        if marks[(member_id, day)] == "answered" and day in prompts
    ]


def _rates(marks: list[DayMark], minutes: list[int], dues: list[_Due]) -> Rates:
    """Figures from the marks of the window's days (oldest first), the reply delays and the tasks."""
    asked = [m for m in marks if m in ("answered", "missed")]
    streak = 0
    for m in reversed(asked):
        if m != "answered":
            break
        streak += 1
    late = [due.late for due in dues if not due.on_time]
    return Rates(
        asked=len(asked),
        answered=asked.count("answered"),
        median_reply_minutes=round(median(minutes)) if minutes else None,
        due=len(dues),
        on_time=len(dues) - len(late),
        late_days_avg=sum(late) / len(late) if late else None,
        streak=streak,
    )
