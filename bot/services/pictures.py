"""The project's pictures: the Gantt chart and the burndown, drawn off the event loop and cached.

Drawing runs in one worker thread (matplotlib is not made for concurrent use, and one picture at a
time keeps the CPU for the bot), and a picture is cached under the chart it draws: the same plan on
the same day is drawn once however many chats ask, and any change to the plan is a new chart.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import burndown as burndown_domain
from bot.domain import gantt as gantt_domain
from bot.domain.gantt import Chart
from bot.render import burndown as burndown_render
from bot.render import gantt as gantt_render
from bot.render.i18n import t
from bot.services import snapshot
from storage.models import Project

CACHED = 64  # pictures kept
_drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="charts")
_cache: OrderedDict[object, bytes] = OrderedDict()


async def _drawn(key: object, draw: Callable[[], bytes]) -> bytes:
    if (data := _cache.get(key)) is not None:
        _cache.move_to_end(key)
        return data
    data = await asyncio.get_running_loop().run_in_executor(_drawer, draw)
    _cache[key] = data
    while len(_cache) > CACHED:
        _cache.popitem(last=False)
    return data


@dataclass(frozen=True)
class Drawn:
    png: bytes | None  # None: nothing dated to draw
    pages: list[str]  # the phases a long plan pages by (empty when it fits in one picture)
    phases: list[str]  # every phase code, to say what `/gantt <phase>` may name


async def gantt(
    session: AsyncSession, project: Project, *, today: date, phase: str | None = None, fmt: str = "png"
) -> Drawn:
    snap = await snapshot.load(session, project)
    phases = [task.code for task in snap.tasks if task.parent_id is None]
    title = t(project.locale, "gantt.title", project=project.name, day=f"{today:%m-%d}")
    if phase is not None:
        title = t(project.locale, "gantt.title_phase", title=title, phase=phase)
    chart: Chart = await asyncio.to_thread(gantt_domain.of_plan, snap, title=title, today=today, phase=phase)
    pages = list(chart.pages)
    if not any(bar.span for bar in chart.rows):
        return Drawn(None, pages, phases)
    locale = project.locale

    def draw() -> bytes:
        return gantt_render.png(chart, locale).data if fmt == "png" else gantt_render.svg(chart, locale)

    return Drawn(await _drawn(("gantt", fmt, locale, chart), draw), pages, phases)


async def burndown(session: AsyncSession, project: Project, *, today: date) -> bytes | None:
    """The burndown PNG, or None when the plan has no dates yet."""
    tz = ZoneInfo(project.timezone)
    # The whole history: dates are at most 10 years from today (the parser's bound).
    until = datetime.combine(today + timedelta(days=1), time.min, tz)
    snap = await snapshot.load(session, project, history=(until - timedelta(days=3660), until))
    days = burndown_domain.span(snap, project.start_date, project.end_date)
    if days is None:
        return None
    first, last = days
    title = t(project.locale, "burndown.title", project=project.name, day=f"{today:%m-%d}")
    chart = await asyncio.to_thread(
        burndown_domain.of_plan,
        snap,
        title=title,
        first=first,
        last=last,
        today=today,
        local_day=lambda moment: moment.astimezone(tz).date(),
    )
    locale = project.locale
    return await _drawn(("burndown", locale, chart), lambda: burndown_render.png(chart, locale).data)
