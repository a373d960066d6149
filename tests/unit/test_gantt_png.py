"""The Gantt PNG, decoded: its size, and bars, the today line and milestones where the plan puts them
(pixel regions mapped from dates and rows, not exact pixels); Chinese drawn with real glyphs."""

from __future__ import annotations

import io
import warnings
from datetime import date

import pytest
from matplotlib.ft2font import FT2Font
from PIL import Image

from bot.domain.gantt import Bar, Chart, Diamond, chart
from bot.domain.workdays import WorkCalendar
from bot.render import charts, gantt

TODAY = date(2026, 12, 9)
BARS = [
    Bar("1", "需求与设计", date(2026, 12, 1), date(2026, 12, 18), 50),
    Bar("1.1", "用户调研", date(2026, 12, 1), date(2026, 12, 4), 100, done=True),
    Bar("1.2", "产品设计", date(2026, 12, 7), date(2026, 12, 18), 50, critical=True),
    Bar("1.3", "竞品分析", date(2026, 12, 1), date(2026, 12, 8), 20, late=True),
    Bar(
        "1.4",
        "文案",
        date(2026, 12, 21),
        date(2026, 12, 31),
        0,
        baseline=(date(2026, 12, 14), date(2026, 12, 24)),
    ),
]
MILESTONE = Diamond("设计评审通过", date(2027, 1, 5), tasks=("1.2",))


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def near(pixel: tuple[int, ...], color: str, tolerance: int = 16) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], rgb(color), strict=True))


class Drawn:
    def __init__(self, result: Chart) -> None:
        self.chart = result
        self.picture = gantt.png(result, "zh")
        self.image = Image.open(io.BytesIO(self.picture.data)).convert("RGB")

    def x(self, day: date, fraction: float = 0.5) -> int:
        left, _, right, _ = self.picture.area
        days = (day - self.chart.first).days + fraction
        return round(left + (right - left) * days / self.chart.days)

    def y(self, row: int, fraction: float = 0.45) -> int:
        _, top, _, bottom = self.picture.area
        return round(top + (bottom - top) * (row + fraction) / self.picture.height_rows)

    def at(self, day: date, row: int, fraction: float = 0.45) -> tuple[int, ...]:
        return self.image.getpixel((self.x(day), self.y(row, fraction)))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def drawn() -> Drawn:
    return Drawn(
        chart(
            title="新品发布 甘特图",
            bars=BARS,
            milestones=[MILESTONE],
            dependencies=[("1.2", "1.1")],
            today=TODAY,
            is_workday=WorkCalendar(),
        )
    )


def test_png_is_phone_width_and_one_row_per_task(drawn: Drawn) -> None:
    assert drawn.image.width == charts.WIDTH_PX
    assert drawn.picture.height_rows == 6
    expected = (gantt.HEADER_INCHES + gantt.FOOTER_INCHES + 6 * gantt.ROW_INCHES) * charts.DPI
    assert abs(drawn.image.height - expected) <= 2


def test_bars_sit_on_their_dates_and_rows(drawn: Drawn) -> None:
    colors = gantt.COLORS
    assert near(drawn.at(date(2026, 12, 10), 0, 0.5), colors["phase"])
    assert near(drawn.at(date(2026, 12, 2), 1), colors["finished"])
    # 1.2: 50 % done over 12 days: the first days dark, the last light.
    assert near(drawn.at(date(2026, 12, 8), 2), colors["done_share"])
    assert near(drawn.at(date(2026, 12, 17), 2), colors["planned"])
    assert near(drawn.at(date(2026, 12, 2), 3), colors["late_share"])
    assert near(drawn.at(date(2026, 12, 7), 3), colors["late_planned"])
    # Before 1.4 starts its row is empty; its baseline runs under it from 12-14.
    assert near(drawn.at(date(2026, 12, 16), 4), "#FFFFFF", 10)
    assert near(drawn.at(date(2026, 12, 16), 4, 0.82), colors["baseline"])
    assert near(drawn.at(date(2026, 12, 28), 4), colors["planned"])
    # Edges: a bar covers its first and last day and nothing either side.
    assert near(drawn.at(date(2026, 12, 21), 4, 0.3), colors["planned"])
    assert not near(drawn.at(date(2026, 12, 20), 4, 0.3), colors["planned"])
    assert near(drawn.at(date(2026, 12, 31), 4, 0.3), colors["planned"])
    assert not near(drawn.at(date(2027, 1, 1), 4, 0.3), colors["planned"])


def test_critical_work_is_outlined(drawn: Drawn) -> None:
    top_edge = drawn.y(2, 0.45 - 0.28)
    column = [
        drawn.image.getpixel((drawn.x(date(2026, 12, 15)), y)) for y in range(top_edge - 3, top_edge + 4)
    ]
    assert any(near(pixel, gantt.COLORS["critical"]) for pixel in column)  # type: ignore[arg-type]
    top_edge = drawn.y(3, 0.45 - 0.28)
    column = [
        drawn.image.getpixel((drawn.x(date(2026, 12, 5)), y)) for y in range(top_edge - 3, top_edge + 4)
    ]
    assert not any(near(pixel, gantt.COLORS["critical"]) for pixel in column)  # type: ignore[arg-type]


def test_today_line_and_milestone(drawn: Drawn) -> None:
    _, top, _, bottom = drawn.picture.area
    line = [drawn.image.getpixel((drawn.x(TODAY), y)) for y in range(top + 2, bottom - 2)]
    assert sum(near(pixel, gantt.COLORS["today"]) for pixel in line) > 0.6 * len(line)  # type: ignore[arg-type]
    beside = [drawn.image.getpixel((drawn.x(TODAY) + 12, y)) for y in range(top + 2, bottom - 2)]
    assert not any(near(pixel, gantt.COLORS["today"]) for pixel in beside)  # type: ignore[arg-type]
    assert near(drawn.at(MILESTONE.day, 5, 0.5), gantt.COLORS["milestone"])
    assert not near(drawn.at(date(2026, 12, 20), 5, 0.5), gantt.COLORS["milestone"])


def test_weekends_are_shaded(drawn: Drawn) -> None:
    saturday, monday = date(2026, 12, 12), date(2026, 12, 14)
    # Row 5 (the milestone's) is empty on both days: only the shading differs.
    assert near(drawn.at(saturday, 5, 0.9), gantt.COLORS["off_day"], 6)
    assert near(drawn.at(monday, 5, 0.9), "#FFFFFF", 6)


def test_chinese_is_drawn_with_real_glyphs() -> None:
    font = FT2Font(str(charts.FONT_FILE))
    title = "新品发布甘特图：需求与设计、产品设计，赟喆"
    assert all(font.get_char_index(ord(char)) for char in title)
    result = chart(
        title=title, bars=BARS[:2], milestones=[], dependencies=[], today=TODAY, is_workday=WorkCalendar()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for a box
        gantt.png(result, "zh")


def test_a_missing_glyph_would_be_caught() -> None:
    # U+20000 (CJK Extension B) is outside the bundled font: the check above would fail on it.
    result = chart(
        title="𠀀", bars=BARS[:1], milestones=[], dependencies=[], today=TODAY, is_workday=WorkCalendar()
    )
    with pytest.warns(UserWarning, match="missing from font"):
        gantt.png(result, "zh")
