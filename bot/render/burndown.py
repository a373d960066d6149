"""The burndown chart: work left (%) per working day as planned (dashed), as it went (solid) and, with
a baseline, as the baseline planned it (grey); today a purple line, like the Gantt's."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.burndown import Burndown
from bot.render.charts import DPI, encode, figure
from bot.render.i18n import t

HEIGHT_INCHES = 4.0
COLORS = {"planned": "#3370FF", "actual": "#E8403B", "baseline": "#8F959E", "today": "#7B2FF7"}


@dataclass(frozen=True)
class Picture:
    data: bytes
    # The plot area in pixels (left, top, right, bottom): the first point at `left`, the last at
    # `right`, 100 % left at `top`, 0 % at `bottom`.
    area: tuple[int, int, int, int]


def png(chart: Burndown, locale: str) -> Picture:
    with figure(HEIGHT_INCHES) as drawn:
        axes = drawn.add_axes((0.1, 0.22, 0.86, 0.62))
        xs = list(range(len(chart.points)))
        axes.set_xlim(0, max(len(xs) - 1, 1))
        axes.set_ylim(0, 100)
        baseline = [(x, p.baseline) for x, p in zip(xs, chart.points, strict=True) if p.baseline is not None]
        if baseline:
            axes.plot(
                *zip(*baseline, strict=True),
                color=COLORS["baseline"],
                lw=1.2,
                label=t(locale, "burndown.baseline"),
            )
        axes.plot(
            xs,
            [p.planned for p in chart.points],
            color=COLORS["planned"],
            lw=1.4,
            ls="--",
            label=t(locale, "burndown.planned"),
        )
        actual = [(x, p.actual) for x, p in zip(xs, chart.points, strict=True) if p.actual is not None]
        if actual:
            axes.plot(
                *zip(*actual, strict=True), color=COLORS["actual"], lw=2.0, label=t(locale, "burndown.actual")
            )
        today = next((x for x, p in zip(xs, chart.points, strict=True) if p.day >= chart.today), None)
        if today is not None:
            axes.axvline(today, color=COLORS["today"], lw=1.0)
        step = max(1, len(xs) // 8)
        axes.set_xticks(xs[::step], [f"{p.day:%m-%d}" for p in chart.points[::step]])
        axes.set_ylabel(t(locale, "burndown.left"))
        axes.legend(loc="upper right", frameon=False, fontsize=7)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        drawn.suptitle(chart.title, x=0.02, ha="left", fontsize=11)
        data = encode(drawn, "png")
        box = axes.get_window_extent()
        height = round(HEIGHT_INCHES * DPI)
        return Picture(data, (round(box.x0), height - round(box.y1), round(box.x1), height - round(box.y0)))
