"""A Gantt chart drawn with matplotlib (Agg, no pyplot: each call owns its Figure, so renders may run
in worker threads): PNG for chat, SVG for the API and the dashboard.

Sized for a phone: 1080 px wide, a row per task. Planned bars light, the done share dark; late work
red, critical work outlined orange, phases dark and thin; the baseline a thin grey bar under its
task; milestones as diamonds on rows of their own; finish-to-start arrows; non-working days shaded;
today a purple line. Text is in the bundled CJK font, so Chinese never turns into boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection

from bot.domain.gantt import Bar, Chart
from bot.render.charts import DPI, encode, figure
from bot.render.i18n import t

ROW_INCHES = 0.34
HEADER_INCHES = 0.9
FOOTER_INCHES = 0.5
TITLE_CHARS = 14  # of a task's title in the left column

COLORS = {
    "planned": "#C9D8F5",
    "done_share": "#3370FF",
    "late_planned": "#FBD3D1",
    "late_share": "#E8403B",
    "finished": "#34B35A",
    "phase": "#1F2329",
    "baseline": "#8F959E",
    "critical": "#FF8800",
    "milestone": "#FF8800",
    "milestone_done": "#34B35A",
    "milestone_missed": "#E8403B",
    "arrow": "#646A73",
    "today": "#7B2FF7",
    "off_day": "#EEF0F3",
}


@dataclass(frozen=True)
class Picture:
    data: bytes
    # The plot area in pixels of the image (left, top, right, bottom): day `first` begins at `left`,
    # day `last` ends at `right`; row 0 is the top row.
    area: tuple[int, int, int, int]
    height_rows: int  # rows drawn: tasks, then milestones


def png(chart: Chart, locale: str) -> Picture:
    return _render(chart, locale, "png")


def svg(chart: Chart, locale: str) -> bytes:
    return _render(chart, locale, "svg").data


def _label(bar: Bar) -> str:
    title = bar.title if len(bar.title) <= TITLE_CHARS else bar.title[: TITLE_CHARS - 1] + "…"
    return f"{'  ' * bar.depth}{bar.code} {title}"


def _x(day: date, chart: Chart) -> float:
    """Days from the chart's first day: a day `d` covers [x(d), x(d) + 1)."""
    return float((day - chart.first).days)


def _render(chart: Chart, locale: str, fmt: str) -> Picture:
    rows = len(chart.rows) + len(chart.milestones)
    height = HEADER_INCHES + FOOTER_INCHES + ROW_INCHES * max(rows, 1)
    with figure(height) as drawn:
        top = 1 - HEADER_INCHES / height
        bottom = FOOTER_INCHES / height
        axes = drawn.add_axes((0.30, bottom, 0.67, top - bottom))
        axes.set_xlim(0, chart.days)
        axes.set_ylim(max(rows, 1), 0)
        # One artist per kind of mark, not one per task: a 200-task chart stays well under a second.
        axes.broken_barh(
            [(_x(day, chart), 1) for day in chart.off_days],
            (0, max(rows, 1)),
            color=COLORS["off_day"],
            lw=0,
            zorder=0,
        )
        _draw_bars(axes, chart)
        _draw_arrows(axes, chart)
        _draw_milestones(axes, chart)
        axes.axvline(_x(chart.today, chart) + 0.5, color=COLORS["today"], lw=1.2, zorder=6)
        labels = [_label(bar) for bar in chart.rows] + [f"◆ {mark.title}" for mark in chart.milestones]
        # Row labels as plain texts left of the plot (y ticks cost a Tick object each).
        at_left = axes.get_yaxis_transform()
        for row, label in enumerate(labels):
            axes.text(-0.01, row + 0.5, label, transform=at_left, ha="right", va="center")
        axes.set_yticks([])
        _date_ticks(axes, chart)
        for side in ("top", "right", "left"):
            axes.spines[side].set_visible(False)
        drawn.suptitle(chart.title, x=0.02, ha="left", fontsize=11)
        drawn.text(
            0.02, 0.3 * FOOTER_INCHES / height, t(locale, "gantt.legend"), fontsize=7, color=COLORS["arrow"]
        )
        data = encode(drawn, fmt)
        box = axes.get_window_extent()
        pixel_height = round(height * DPI)
        area = (round(box.x0), pixel_height - round(box.y1), round(box.x1), pixel_height - round(box.y0))
        return Picture(data, area, rows)


def _draw_bars(axes: Axes, chart: Chart) -> None:
    baselines = [(row, bar.baseline) for row, bar in enumerate(chart.rows) if bar.baseline is not None]
    if baselines:
        _boxes(
            axes,
            [
                (_x(start, chart), row + 0.76, _x(due, chart) + 1 - _x(start, chart))
                for row, (start, due) in baselines
            ],
            height=0.12,
            color=COLORS["baseline"],
            zorder=2,
        )
    phases: list[tuple[int, float, float]] = []
    tasks: list[tuple[int, float, float, Bar]] = []
    for row, bar in enumerate(chart.rows):
        if bar.span is None:
            continue
        start, due = bar.span
        left, width = _x(start, chart), _x(due, chart) + 1 - _x(start, chart)
        if bar.depth == 0:
            phases.append((row, left, width))
        else:
            tasks.append((row, left, width, bar))
    if phases:
        _boxes(
            axes,
            [(left, row + 0.35, width) for row, left, width in phases],
            height=0.3,
            color=COLORS["phase"],
            zorder=3,
        )
    if tasks:
        _boxes(
            axes,
            [(left, row + 0.17, width) for row, left, width, _ in tasks],
            height=0.56,
            color=[_colors(bar)[0] for *_, bar in tasks],
            edgecolor=[COLORS["critical"] if bar.critical else "none" for *_, bar in tasks],
            linewidth=[1.6 if bar.critical else 0 for *_, bar in tasks],
            zorder=3,
        )
    shares = [(row, left, width, bar) for row, left, width, bar in tasks if bar.progress and not bar.done]
    if shares:
        _boxes(
            axes,
            [(left, row + 0.17, width * bar.progress / 100) for row, left, width, bar in shares],
            height=0.56,
            color=[_colors(bar)[1] for *_, bar in shares],
            zorder=4,
        )


def _boxes(
    axes: Axes,
    boxes: list[tuple[float, float, float]],  # (left, top, width) in days and rows
    *,
    height: float,
    color: str | list[str],
    zorder: int,
    edgecolor: str | list[str] = "none",
    linewidth: float | list[float] = 0,
) -> None:
    """Rectangles as one collection: no patch per bar, no autoscaling (the limits are set)."""
    shapes = [[(x, y), (x + w, y), (x + w, y + height), (x, y + height)] for x, y, w in boxes]
    collection = PolyCollection(
        shapes, facecolors=color, edgecolors=edgecolor, linewidths=linewidth, zorder=zorder
    )
    axes.add_collection(collection, autolim=False)


def _colors(bar: Bar) -> tuple[str, str]:
    """(planned, done share) of a task's bar."""
    if bar.done:
        return COLORS["finished"], COLORS["finished"]
    if bar.late:
        return COLORS["late_planned"], COLORS["late_share"]
    return COLORS["planned"], COLORS["done_share"]


def _draw_arrows(axes: Axes, chart: Chart) -> None:
    """Elbows from the end of the task waited for to the start of the waiting one, heads at the end."""
    lines, heads, downward = [], [], []
    for arrow in chart.arrows:
        before, after = chart.rows[arrow.source].span, chart.rows[arrow.target].span
        assert before is not None and after is not None
        source_y, down = arrow.source + 0.45, arrow.target > arrow.source
        end_y = arrow.target + (0.17 if down else 0.73)
        x_end, x_start = _x(before[1], chart) + 1, _x(after[0], chart)
        lines.append([(x_end, source_y), (x_start, source_y), (x_start, end_y)])
        heads.append((x_start, end_y))
        downward.append(down)
    if not lines:
        return
    axes.add_collection(LineCollection(lines, colors=COLORS["arrow"], linewidths=0.7, zorder=5))
    for marker, wanted in (("v", True), ("^", False)):
        points = [head for head, down in zip(heads, downward, strict=True) if down == wanted]
        if points:
            xs, ys = [x for x, _ in points], [y for _, y in points]
            axes.scatter(xs, ys, marker=marker, s=12, color=COLORS["arrow"], zorder=5)


def _draw_milestones(axes: Axes, chart: Chart) -> None:
    if not chart.milestones:
        return
    first = len(chart.rows)
    axes.scatter(
        [_x(mark.day, chart) + 0.5 for mark in chart.milestones],
        [first + offset + 0.5 for offset in range(len(chart.milestones))],
        marker="D",
        s=40,
        color=[
            COLORS["milestone_done" if mark.done else "milestone_missed" if mark.missed else "milestone"]
            for mark in chart.milestones
        ],
        zorder=5,
    )


def _date_ticks(axes: Axes, chart: Chart) -> None:
    """A tick on each Monday (fewer for a long plan), labelled MM-DD."""
    mondays = [
        chart.first + timedelta(days=n)
        for n in range(chart.days)
        if (chart.first + timedelta(days=n)).weekday() == 0
    ]
    shown = mondays[:: max(1, len(mondays) // 8)]
    axes.set_xticks([_x(day, chart) for day in shown], [f"{day:%m-%d}" for day in shown])
    axes.xaxis.tick_top()
