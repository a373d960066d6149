"""The Gantt chart as SVG geometry for the dashboard: every box, line and label in user units, which
the page's template writes out as elements (text escaped there). No matplotlib: the page gets
one `<g class="task">` per row, with its tooltip, that CSS can highlight and a script can read.

The chart is drawn at its natural size (DAY units a day) with a viewBox, so the page scales it to
its width and a phone scrolls it sideways.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.gantt import Bar, Chart

LABEL = 230  # the left column with codes and titles
DAY = 18
ROW = 26
HEAD = 34  # the date ruler
BAR = 14
TITLE_CHARS = 16
INDENT = 10  # a level of the WBS in the left column
STUB = 6  # an arrow's short legs out of a bar and into the next


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class TaskRow:
    code: str
    label: str
    label_x: float  # indented by depth
    label_y: float
    bar: Box | None  # None: the task has no dates
    done: Box | None  # the share done
    baseline: Box | None
    classes: str  # late, critical, done, phase
    tooltip: str
    owner: str  # member id or ""
    department: str  # department id or ""


@dataclass(frozen=True)
class Mark:
    """A milestone: its diamond's points and its label."""

    points: str
    label: str
    label_y: float
    classes: str
    tooltip: str


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    off_days: tuple[Box, ...]
    ticks: tuple[Tick, ...]
    rows: tuple[TaskRow, ...]
    arrows: tuple[str, ...]  # path data, finish to start
    marks: tuple[Mark, ...]
    today_x: float
    grid_bottom: float


@dataclass(frozen=True)
class RowInfo:
    """What the chart does not know about a row: who and which department, and its tooltip."""

    owner: str
    department: str
    tooltip: str


def _x(chart: Chart, day: date) -> float:
    return LABEL + (day - chart.first).days * DAY


def _label(bar: Bar) -> str:
    title = bar.title if len(bar.title) <= TITLE_CHARS else bar.title[: TITLE_CHARS - 1] + "…"
    return f"{bar.code} {title}"


def _classes(bar: Bar) -> str:
    flags = {"phase": bar.depth == 0, "late": bar.late, "critical": bar.critical, "done": bar.done}
    return " ".join(["task", *(name for name, on in flags.items() if on)])


def _row(chart: Chart, row: int, bar: Bar, info: RowInfo) -> TaskRow:
    top = HEAD + row * ROW
    box = done = baseline = None
    if bar.span is not None:
        start, due = bar.span
        x = _x(chart, start)
        width = (due - start).days * DAY + DAY
        height = BAR if bar.depth else BAR / 2
        box = Box(x, top + (ROW - BAR) / 2 - 2, width, height)
        done = Box(x, box.y, width * bar.progress / 100, height)
    if bar.baseline is not None:
        start, due = bar.baseline
        baseline = Box(_x(chart, start), top + ROW - 7, (due - start).days * DAY + DAY, 3)
    return TaskRow(
        code=bar.code,
        label=_label(bar),
        label_x=4 + INDENT * bar.depth,
        label_y=top + ROW / 2 + 4,
        bar=box,
        done=done,
        baseline=baseline,
        classes=_classes(bar),
        tooltip=info.tooltip,
        owner=info.owner,
        department=info.department,
    )


def _arrow(rows: tuple[TaskRow, ...], source: int, target: int) -> str | None:
    """Out of the end of the bar waited for, into the start of the waiting one from the left: along
    the row when there is room, else down between the rows and back."""
    before, after = rows[source].bar, rows[target].bar
    if before is None or after is None:
        return None
    x1, y1 = before.x + before.width, before.y + before.height / 2
    x2, y2 = after.x - 1, after.y + after.height / 2
    if x2 - x1 >= 2 * STUB:
        return f"M{x1:g},{y1:g} H{x2 - STUB:g} V{y2:g} H{x2:g}"
    between = y2 - ROW / 2 if y2 > y1 else y2 + ROW / 2
    return f"M{x1:g},{y1:g} H{x1 + STUB:g} V{between:g} H{x2 - STUB:g} V{y2:g} H{x2:g}"


def _ticks(chart: Chart) -> list[Tick]:
    """A date under each Monday (each day when the chart is short)."""
    step_daily = chart.days <= 14
    ticks = []
    for n in range(chart.days):
        day = chart.first + timedelta(days=n)
        if step_daily or day.weekday() == 0:
            ticks.append(Tick(_x(chart, day) + 2, day.strftime("%m-%d")))
    return ticks


def drawing(chart: Chart, info: Callable[[Bar], RowInfo], mark_tooltip: Callable[[int], str]) -> Drawing:
    """The chart's geometry; `info` says who and which department a row is, and its tooltip;
    `mark_tooltip(i)` the tooltip of milestone i."""
    rows = tuple(_row(chart, row, bar, info(bar)) for row, bar in enumerate(chart.rows))
    arrows = tuple(
        path for arrow in chart.arrows if (path := _arrow(rows, arrow.source, arrow.target)) is not None
    )
    marks = []
    for n, mark in enumerate(chart.milestones):
        top = HEAD + (len(rows) + n) * ROW
        cx, cy, r = _x(chart, mark.day) + DAY / 2, top + ROW / 2, 7
        state = "done" if mark.done else "missed" if mark.missed else "open"
        marks.append(
            Mark(
                points=f"{cx:g},{cy - r:g} {cx + r:g},{cy:g} {cx:g},{cy + r:g} {cx - r:g},{cy:g}",
                label=f"◆ {mark.title}",
                label_y=top + ROW / 2 + 4,
                classes=f"milestone {state}",
                tooltip=mark_tooltip(n),
            )
        )
    bottom = HEAD + (len(rows) + len(marks)) * ROW
    return Drawing(
        width=LABEL + chart.days * DAY,
        height=bottom + 6,
        off_days=tuple(Box(_x(chart, day), HEAD, DAY, bottom - HEAD) for day in chart.off_days),
        ticks=tuple(_ticks(chart)),
        rows=rows,
        arrows=arrows,
        marks=tuple(marks),
        today_x=_x(chart, chart.today) + DAY / 2,
        grid_bottom=bottom,
    )
