"""Gantt rendering time: `python -m bench.gantt_render [--tasks 200] [--repeat 5]`.

Renders a 20-task plan and a `--tasks` one, all in one phase so the big one is a single picture of
every row (the worst case: a phase page is never cut), with chained dependencies, a baseline on every
other task and milestones. Each is drawn to PNG and SVG `--repeat` times after a warm-up; the script
prints the median times and the ratio of the big plan to the small one.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from bot.domain.gantt import Bar, Chart, Diamond, chart
from bot.domain.workdays import WorkCalendar
from bot.render import gantt

START = date(2026, 12, 1)


def plan(tasks: int) -> Chart:
    bars = [Bar("1", "开发阶段", START, START + timedelta(days=tasks // 2 + 10), 30)]
    for n in range(1, tasks + 1):
        begin = START + timedelta(days=n // 2)
        baseline = (begin, begin + timedelta(days=3)) if n % 2 else None
        bars.append(
            Bar(
                f"1.{n}",
                f"任务 {n} 接口联调",
                begin,
                begin + timedelta(days=5),
                n * 7 % 100,
                baseline=baseline,
            )
        )
    depends = [(f"1.{n}", f"1.{n - 1}") for n in range(2, tasks + 1, 3)]
    marks = [Diamond(f"里程碑 {m}", START + timedelta(days=20 * m), tasks=("1.1",)) for m in range(1, 4)]
    return chart(
        title="基准项目 · 甘特图",
        bars=bars,
        milestones=marks,
        dependencies=depends,
        today=START + timedelta(days=15),
        is_workday=WorkCalendar(),
        phase="1",
    )


def median_seconds(render: Callable[[], object], repeat: int) -> float:
    render()  # warm-up: fonts and caches
    runs = []
    for _ in range(repeat):
        begin = time.perf_counter()
        render()
        runs.append(time.perf_counter() - begin)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    small, big = plan(20), plan(args.tasks)
    for name, render in (("png", gantt.png), ("svg", gantt.svg)):
        base = median_seconds(partial(render, small, "zh"), args.repeat)
        large = median_seconds(partial(render, big, "zh"), args.repeat)
        print(
            f"{name}: {len(small.rows)} rows {base * 1000:.0f} ms,"
            f" {len(big.rows)} rows {large * 1000:.0f} ms, ratio {large / base:.2f}"
        )


if __name__ == "__main__":
    main()
