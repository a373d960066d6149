"""The Gantt chart of a plan as plain data: which rows in which order, over which days, with which
marks. Renderers (PNG, SVG) only draw it.

A plan of at most MAX_ROWS rows is one chart. A longer one pages by phase: the whole plan is then the
phases alone (with the milestones), and each phase is a chart of its own (`/gantt 2`), however long.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.domain.snapshot import ProjectSnapshot
from bot.domain.wbs import code_key

MAX_ROWS = 30  # rows a phone shows legibly in one picture


@dataclass(frozen=True)
class Bar:
    """One task or phase, with its effective dates (a parent's span its children)."""

    code: str
    title: str
    start: date | None
    due: date | None
    progress: int
    baseline: tuple[date, date] | None = None  # (start, due) when a baseline is set and has it
    critical: bool = False
    late: bool = False
    done: bool = False

    @property
    def depth(self) -> int:
        return self.code.count(".")

    @property
    def span(self) -> tuple[date, date] | None:
        """(first day, last day): a task with only a due date is a one-day bar."""
        if self.due is None:
            return None
        return min(self.start or self.due, self.due), self.due


@dataclass(frozen=True)
class Diamond:
    title: str
    day: date
    done: bool = False
    missed: bool = False
    tasks: tuple[str, ...] = ()  # the codes it is linked to


@dataclass(frozen=True)
class Arrow:
    """Finish-to-start: from the row of the task waited for to the row of the one waiting."""

    source: int
    target: int


@dataclass(frozen=True)
class Chart:
    title: str
    rows: tuple[Bar, ...]
    milestones: tuple[Diamond, ...]
    arrows: tuple[Arrow, ...]
    first: date  # the days drawn, both included
    last: date
    today: date
    off_days: tuple[date, ...]  # weekends, holidays and the project's days off within the span
    phase: str | None = None  # the phase this page shows; None for the whole plan
    # The whole plan was too long: its phases stand for it, and these are the phase pages.
    pages: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def pages(bars: Sequence[Bar]) -> list[str]:
    """The phase codes a long plan pages by (empty when it fits in one chart)."""
    if len(bars) <= MAX_ROWS:
        return []
    return sorted({bar.code.split(".")[0] for bar in bars}, key=code_key)


def chart(
    *,
    title: str,
    bars: Iterable[Bar],
    milestones: Iterable[Diamond],
    dependencies: Iterable[tuple[str, str]],  # (task, the task it waits for)
    today: date,
    is_workday: Callable[[date], bool],
    phase: str | None = None,
    whole: bool = False,
) -> Chart:
    """The chart of the whole plan, or of one phase (`phase`, a top-level code that exists);
    `whole`: every row however many (a page that scrolls, not a picture), never cut into pages."""
    ordered = sorted(bars, key=lambda bar: code_key(bar.code))
    paged = tuple(pages(ordered)) if phase is None and not whole else ()
    if phase is not None:
        rows = [bar for bar in ordered if bar.code.split(".")[0] == phase]
    elif paged:
        rows = [bar for bar in ordered if bar.depth == 0]
    else:
        rows = ordered
    shown = {bar.code for bar in rows}
    marks = [m for m in milestones if _belongs(m, shown, phase)]
    index = {bar.code: row for row, bar in enumerate(rows)}
    arrows = sorted(
        {
            Arrow(index[before], index[after])
            for after, before in dependencies
            if after in index and before in index and rows[index[after]].span and rows[index[before]].span
        },
        key=lambda arrow: (arrow.target, arrow.source),
    )
    days = [day for bar in rows if bar.span for day in bar.span]
    days += [day for bar in rows if bar.baseline for day in bar.baseline]
    days += [mark.day for mark in marks]
    first, last = min([*days, today]), max([*days, today])
    # A day either side, so bars and diamonds at the edges are not cut.
    first, last = first - timedelta(days=1), last + timedelta(days=1)
    drawn = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    off = tuple(day for day in drawn if not is_workday(day))
    return Chart(
        title=title,
        rows=tuple(rows),
        milestones=tuple(sorted(marks, key=lambda m: (m.day, m.title))),
        arrows=tuple(arrows),
        first=first,
        last=last,
        today=today,
        off_days=off,
        phase=phase,
        pages=paged,
    )


def narrowed(chart: Chart, codes: Collection[str]) -> Chart:
    """The chart with only the rows of `codes` (a filter), the arrows between them and the milestones
    linked to them, over the same days: narrowing never moves a bar."""
    keep = [row for row, bar in enumerate(chart.rows) if bar.code in codes]
    index = {old: new for new, old in enumerate(keep)}
    return replace(
        chart,
        rows=tuple(chart.rows[row] for row in keep),
        arrows=tuple(
            Arrow(index[arrow.source], index[arrow.target])
            for arrow in chart.arrows
            if arrow.source in index and arrow.target in index
        ),
        milestones=tuple(mark for mark in chart.milestones if any(code in codes for code in mark.tasks)),
    )


def _belongs(mark: Diamond, shown: set[str], phase: str | None) -> bool:
    """The whole plan shows every milestone; a phase those linked to its tasks."""
    return phase is None or any(code in shown for code in mark.tasks)


def of_plan(
    snapshot: ProjectSnapshot, *, title: str, today: date, phase: str | None = None, whole: bool = False
) -> Chart:
    """The chart of a project as read: effective dates and % (a parent spans its children), the
    baseline in force, the critical path, late work and milestones missed or pushed past their
    baseline date."""
    rolled, timings, slips = snapshot.rolled, snapshot.timings, snapshot.slips
    bars = []
    for task in snapshot.tasks:
        effective = rolled[task.code]
        then = slips.then.get(("task", task.id)) if slips else None
        timing = timings.get(task.code)
        bars.append(
            Bar(
                task.code,
                task.title,
                effective.start,
                effective.due,
                effective.progress,
                baseline=(min(then.start or then.due, then.due), then.due) if then and then.due else None,
                critical=timing is not None and timing.critical,
                late=effective.due is not None and effective.due < today and effective.status != "done",
                done=effective.status == "done",
            )
        )
    codes = {task.id: task.code for task in snapshot.tasks}
    pushed = {moved.item.ref_id for moved in slips.slipped_milestones()} if slips else set()
    marks = [
        Diamond(
            milestone.title,
            milestone.due_date,
            done=milestone.status == "done",
            missed=milestone.status != "done" and (milestone.due_date < today or milestone.id in pushed),
            tasks=tuple(codes[i] for i in milestone.task_ids if i in codes),
        )
        for milestone in snapshot.milestones
    ]
    dependencies = [(codes[task], codes[up]) for task, ups in snapshot.depends_on.items() for up in ups]
    return chart(
        title=title,
        bars=bars,
        milestones=marks,
        dependencies=dependencies,
        today=today,
        is_workday=snapshot.calendar,
        phase=phase,
        whole=whole,
    )
