"""The dashboard page in HTML: what bot/services/dashboard.py gathered, filtered and laid out for the
Jinja2 templates in bot/render/templates (autoescaped: typed text is shown as typed, never as markup).

Labels come from the catalogue in the project's language; text people typed (titles, notes, names)
goes to the template as it is, never through `t`, whose chat escaping would change its look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.domain import gantt
from bot.domain.snapshot import MemberRec, ProjectSnapshot, TaskRec
from bot.render import gantt_svg
from bot.render.i18n import t
from bot.services import plan
from bot.services.dashboard import Board


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("bot.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Filters:
    """Department and owner ids from the query (`?dept=3&owner=7`); None: all."""

    department: int | None = None
    owner: int | None = None

    @classmethod
    def parse(cls, dept: str | None, owner: str | None, snapshot: ProjectSnapshot) -> Filters:
        """Only ids the project has count; anything else shows everything (the form shows "all")."""

        def known(value: str | None, ids: set[int]) -> int | None:
            if value is None or not value.isascii() or not value.isdigit() or len(value) > 10:
                return None
            return int(value) if int(value) in ids else None

        return cls(
            known(dept, {d.id for d in snapshot.departments}),
            known(owner, {m.id for m in snapshot.members}),
        )

    @property
    def active(self) -> bool:
        return self.department is not None or self.owner is not None


def _name(member: MemberRec | None) -> str:
    return member.name if member is not None else ""


class _Page:
    """Builds the template's values for one board, locale and filter."""

    def __init__(self, board: Board, filters: Filters) -> None:
        self.board = board
        self.snap = board.snapshot
        self.filters = filters
        self.locale = board.project.locale
        self.tz = ZoneInfo(board.project.timezone)
        self.today = board.now.astimezone(self.tz).date()

    def t(self, key: str, **params: object) -> str:
        return t(self.locale, key, **params)

    def day(self, value: date | None) -> str:
        return value.isoformat() if value else "–"

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    # --- filters --------------------------------------------------------------------------------

    def department_of(self, task: TaskRec) -> int | None:
        """The task's department, else its nearest ancestor's."""
        by_id = {t.id: t for t in self.snap.tasks}
        node: TaskRec | None = task
        while node is not None:
            if node.department_id is not None:
                return node.department_id
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
        return None

    def owners_of(self, task: TaskRec) -> list[MemberRec]:
        return list(self.snap.responsible(task))

    def shown(self, task: TaskRec) -> bool:
        if self.filters.department is not None and self.department_of(task) != self.filters.department:
            return False
        return self.filters.owner is None or self.filters.owner in {m.id for m in self.owners_of(task)}

    # --- sections -------------------------------------------------------------------------------

    def gantt(self) -> gantt_svg.Drawing | None:
        title = self.board.project.name
        chart = gantt.of_plan(self.snap, title=title, today=self.today, whole=True)
        if self.filters.active:
            chart = gantt.narrowed(chart, {task.code for task in self.snap.tasks if self.shown(task)})
        if not chart.rows and not chart.milestones:
            return None
        tasks = {task.code: task for task in self.snap.tasks}

        def info(bar: gantt.Bar) -> gantt_svg.RowInfo:
            task = tasks[bar.code]
            owners = self.owners_of(task)
            department = self.department_of(task)
            parts = [f"{bar.code} {bar.title}", ", ".join(m.name for m in owners) or "–"]
            parts.append(f"{self.day(bar.start)} – {self.day(bar.due)}")
            parts.append(f"{bar.progress}%")
            if bar.baseline is not None:
                start, due = bar.baseline
                parts.append(self.t("dashboard.gantt.baseline", start=start.isoformat(), due=due.isoformat()))
            return gantt_svg.RowInfo(
                owner=",".join(str(m.id) for m in owners),
                department=str(department) if department is not None else "",
                tooltip=" · ".join(parts),
            )

        def mark_tip(n: int) -> str:
            mark = chart.milestones[n]
            return f"◆ {mark.title} · {mark.day.isoformat()}"

        return gantt_svg.drawing(chart, info, mark_tip)

    def charter(self) -> dict[str, Any]:
        project = self.board.project
        fields = [
            (self.t(f"charter.label.{field}"), getattr(project, field)) for field in plan.CHARTER_TEXT_FIELDS
        ]
        fields.append(
            (self.t("charter.label.dates"), f"{self.day(project.start_date)} – {self.day(project.end_date)}")
        )
        sign_offs = [
            {
                "department": entry.department.name,
                "confirmed": entry.confirmation is not None,
                "by": (entry.confirmed_by.display_name or entry.confirmed_by.platform_user_id)
                if entry.confirmed_by
                else "",
                "at": self.when(entry.confirmation.confirmed_at) if entry.confirmation else "",
                "head": (entry.head.display_name or entry.head.platform_user_id) if entry.head else "",
            }
            for entry in self.board.sign_offs
        ]
        return {"fields": fields, "sign_offs": sign_offs}

    def render(self, template: str, **extra: Any) -> str:
        snap = self.snap
        return (
            _environment()
            .get_template(template)
            .render(
                t=self.t,
                lang="zh-CN" if self.locale == "zh" else "en",
                project=self.board.project,
                viewer=_name(snap.member_by_id.get(self.board.viewer.id)),
                today=self.today.isoformat(),
                filters=self.filters,
                departments=snap.departments,
                members=snap.members,
                charter=self.charter(),
                gantt=self.gantt(),
                **extra,
            )
        )


def page(board: Board, filters: Filters, *, nonce: str) -> str:
    """The whole page; `nonce` lets its own inline style and script run under the CSP."""
    return _Page(board, filters).render("dashboard.html", nonce=nonce)


def refused(locale: str, *, nonce: str) -> str:
    """The answer to a link that does not open, saying how to get a new one and not why."""
    return (
        _environment()
        .get_template("refused.html")
        .render(t=lambda key, **params: t(locale, key, **params), lang=locale, nonce=nonce)
    )
