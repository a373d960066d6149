"""The burndown, pure and drawn: work left per working day as planned, as it went from the progress
history (weighed like the roll-ups, so the last point is /status's %), and as the baseline planned it."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from bot.domain import wbs
from bot.domain.burndown import Update, burndown, progress_on
from bot.domain.workdays import WorkCalendar
from bot.render import burndown as drawing

# Two equal leaves of 5 working days each: Mon 12-07..Fri 12-11 and Mon 12-14..Fri 12-18.
NODES = [
    wbs.Node("1", None, None, 0, "in_progress"),
    wbs.Node("1.1", date(2026, 12, 7), date(2026, 12, 11), 100, "done"),
    wbs.Node("1.2", date(2026, 12, 14), date(2026, 12, 18), 40, "in_progress"),
]
UPDATES = [
    Update("1.1", date(2026, 12, 8), 0, 40),
    Update("1.1", date(2026, 12, 10), 40, 100),
    Update("1.2", date(2026, 12, 15), 0, 40),
]
TODAY = date(2026, 12, 16)


def chart(baseline: list[wbs.Node] | None = None) -> drawing.Burndown:
    return burndown(
        title="新品发布 燃尽图",
        nodes=NODES,
        updates=UPDATES,
        baseline=baseline,
        first=date(2026, 12, 7),
        last=date(2026, 12, 18),
        today=TODAY,
        is_workday=WorkCalendar(),
    )


def test_a_leaf_progress_on_each_day() -> None:
    at = progress_on(UPDATES[:2], 100)
    assert [at(date(2026, 12, d)) for d in (7, 8, 9, 10, 11)] == [0, 40, 40, 100, 100]
    assert progress_on([], 30)(date(2026, 1, 1)) == 30


def test_planned_actual_and_baseline_work_left() -> None:
    points = chart().points
    # Working days only: the weekend of 12-12/13 is not a point.
    assert [p.day.day for p in points] == [7, 8, 9, 10, 11, 14, 15, 16, 17, 18]
    assert [p.planned for p in points] == [90, 80, 70, 60, 50, 40, 30, 20, 10, 0]
    # 1.1 at 40 % on the 8th is 20 % of the whole; 1.2 at 40 % on the 15th another 20 %.
    assert [p.actual for p in points] == [100, 80, 80, 50, 50, 50, 30, 30, None, None]
    assert points[7].actual == 100 - wbs.combine([wbs.rollup(NODES)["1"]])[0]  # /status's % today
    assert all(p.baseline is None for p in points)
    # A baseline that planned 1.2 a week later: its line stays at 50 % through the second week.
    later = [NODES[0], NODES[1], wbs.Node("1.2", date(2026, 12, 21), date(2026, 12, 25), 0, "not_started")]
    assert [p.baseline for p in chart(later).points][-5:] == [50, 50, 50, 50, 50]


class Drawn:
    """A burndown drawn and decoded, with its points mapped to pixels of the plot area."""

    def __init__(self, result: drawing.Burndown) -> None:
        self.picture = drawing.png(result, "zh")
        self.image = Image.open(io.BytesIO(self.picture.data)).convert("RGB")
        self.points = len(result.points)

    def at(self, index: float, left_share: float) -> tuple[int, int]:
        """The pixel of point `index` (fractions fall between points) at `left_share` % of work left."""
        left, top, right, bottom = self.picture.area
        x = left + (right - left) * index / (self.points - 1)
        y = top + (bottom - top) * (100 - left_share) / 100
        return round(x), round(y)

    def near(self, xy: tuple[int, int], color: str) -> bool:
        """Whether `color` is drawn within 2 pixels of `xy`."""
        want = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
        x, y = xy
        return any(
            all(abs(a - b) <= 30 for a, b in zip(self.image.getpixel((x + dx, y + dy)), want, strict=True))  # type: ignore[arg-type]
            for dx in range(-2, 3)
            for dy in range(-2, 3)
        )

    def along(self, start: tuple[float, float], end: tuple[float, float], color: str) -> int:
        """How many of 9 points spaced between `start` and `end` (index, % left) have `color` near."""
        (i0, p0), (i1, p1) = start, end
        steps = [(i0 + (i1 - i0) * k / 10, p0 + (p1 - p0) * k / 10) for k in range(1, 10)]
        return sum(self.near(self.at(index, share), color) for index, share in steps)


def test_the_picture_draws_the_lines_where_the_numbers_are() -> None:
    drawn = Drawn(chart())
    assert drawn.image.width == 1080
    actual = drawing.COLORS["actual"]
    assert drawn.near(drawn.at(2, 80), actual)  # the flat stretch after the 8th
    assert drawn.near(drawn.at(6, 30), actual)
    assert not drawn.near(drawn.at(8, 30), actual)  # no actual line after today
    # The planned line (dashed) runs from 20 % left on the 16th to 10 % on the 17th.
    assert drawn.along((7, 20), (8, 10), drawing.COLORS["planned"]) >= 4


def test_the_baseline_line_is_drawn_where_the_baseline_plan_says() -> None:
    # The baseline planned 1.2 a week later: 50 % left through the second week, where neither the
    # plan (40 % to 0) nor the actual line (30 %, none after today, the 16th) is.
    later = [NODES[0], NODES[1], wbs.Node("1.2", date(2026, 12, 21), date(2026, 12, 25), 0, "not_started")]
    grey = drawing.COLORS["baseline"]
    with_baseline, without = Drawn(chart(later)), Drawn(chart())
    assert with_baseline.along((7.2, 50), (8.8, 50), grey) >= 8
    assert with_baseline.along((5.2, 50), (6.8, 50), grey) >= 8  # under no other line either
    # Flat at 50 %: nothing grey 15 points above or below it.
    assert with_baseline.along((7.2, 65), (8.8, 65), grey) == 0
    assert with_baseline.along((7.2, 35), (8.8, 35), grey) == 0
    # Without a baseline, no grey line at all where it would be.
    assert without.along((7.2, 50), (8.8, 50), grey) == 0
    assert without.along((5.2, 50), (6.8, 50), grey) == 0
