"""The dashboard page in HTML: what bot/services/dashboard.py gathered, filtered and laid out for the
Jinja2 templates in bot/render/templates (autoescaped: typed text is shown as typed, never as markup).

Labels come from the catalogue in the project's language; text people typed (titles, notes, names)
goes to the template as it is, never through `t`, whose chat escaping would change its look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, cached_property
from typing import Any, get_args
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.domain import gantt
from bot.domain.participation import DayMark, Rates
from bot.domain.snapshot import MemberRec, ProjectSnapshot, TaskRec
from bot.render import gantt_svg
from bot.render.changes import describe_request
from bot.render.i18n import t
from bot.render.participation import percent, reply_time
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


_LANG = {"zh": "zh-CN", "en": "en"}  # the page's `lang`, by locale


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

    @cached_property
    def _departments(self) -> dict[int, int | None]:
        """Task id -> its department, else its nearest ancestor's (parents come first in WBS order)."""
        found: dict[int, int | None] = {}
        for task in self.snap.tasks:
            inherited = found.get(task.parent_id) if task.parent_id is not None else None
            found[task.id] = task.department_id if task.department_id is not None else inherited
        return found

    def department_of(self, task: TaskRec) -> int | None:
        return self._departments[task.id]

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

    def tasks(self) -> dict[str, Any]:
        """The task table with its RACI matrix: a column for each person or department the
        project's RACI names (departments first), a row for each task shown."""
        snap = self.snap
        shown = [task for task in snap.tasks if self.shown(task)]
        named = {(e.department_id, e.member_id) for e in snap.raci}
        columns = [("d", d.id, d.name) for d in snap.departments if (d.id, None) in named]
        columns += [
            ("m", m.id, m.name) for m in (*snap.members, *snap.removed_members) if (None, m.id) in named
        ]
        roles: dict[tuple[int, str, int], list[str]] = {}
        for entry in snap.raci:
            key = (entry.task_id, "d", entry.department_id) if entry.department_id else None
            if entry.member_id is not None:
                key = (entry.task_id, "m", entry.member_id)
            if key is not None:
                roles.setdefault(key, []).append(entry.role)
        departments = snap.department_by_id
        rows = []
        for task in shown:
            rolled = snap.rolled[task.code]
            department = self.department_of(task)
            rows.append(
                {
                    "code": task.code,
                    "depth": task.code.count("."),
                    "title": task.title,
                    "owners": ", ".join(m.name for m in self.owners_of(task)),
                    "department": departments[department].name if department in departments else "",
                    "start": self.day(rolled.start),
                    "due": self.day(rolled.due),
                    "progress": rolled.progress,
                    "status": self.t(f"track.task_status.{rolled.status}"),
                    "late": rolled.due is not None and rolled.due < self.today and rolled.status != "done",
                    "cells": ["/".join(roles.get((task.id, kind, ref), [])) for kind, ref, _ in columns],
                }
            )
        return {"columns": [name for _, _, name in columns], "rows": rows}

    def risks(self) -> list[dict[str, Any]]:
        snap = self.snap
        people = snap.member_by_id
        shown = []
        for risk in snap.risks:
            owner = people.get(risk.owner_member_id) if risk.owner_member_id is not None else None
            if self.filters.owner is not None and risk.owner_member_id != self.filters.owner:
                continue
            if self.filters.department is not None and (
                owner is None or owner.department_id != self.filters.department
            ):
                continue
            history = [
                {
                    "at": self.when(event.created_at),
                    "move": " → ".join(
                        self.t(f"track.risk_status.{status}")
                        for status in (event.from_status, event.to_status)
                        if status
                    ),
                    "note": event.note,
                    "by": _name(people.get(event.author_member_id)) if event.author_member_id else "",
                }
                for event in self.board.risk_history.get(risk.id, [])
            ]
            shown.append(
                {
                    "number": risk.number,
                    "level": risk.level,
                    "level_text": self.t(f"track.level.{risk.level}"),
                    "description": risk.description,
                    "owner": _name(owner),
                    "status": self.t(f"track.risk_status.{risk.status}"),
                    "closed": risk.status in ("mitigated", "closed"),
                    "mitigation": risk.mitigation,
                    "created": self.when(risk.created_at),
                    "history": history,
                }
            )
        return shown

    def milestones(self) -> list[dict[str, Any]]:
        snap = self.snap
        codes = {task.id: task.code for task in snap.tasks}
        then = snap.slips.then if snap.slips else {}
        rows = []
        for milestone in snap.milestones:
            baseline = then.get(("milestone", milestone.id))
            done = milestone.status == "done"
            rows.append(
                {
                    "number": milestone.number,
                    "title": milestone.title,
                    "due": self.day(milestone.due_date),
                    "baseline": self.day(baseline.due) if baseline else "–",
                    "moved": baseline is not None
                    and baseline.due is not None
                    and baseline.due != milestone.due_date,
                    "late": not done and milestone.due_date < self.today,
                    "status": self.t("dashboard.milestone.done" if done else "dashboard.milestone.open"),
                    "done_at": self.when(milestone.done_at) if milestone.done_at else "",
                    "tasks": ", ".join(codes[i] for i in milestone.task_ids if i in codes),
                }
            )
        return rows

    def changes(self) -> list[dict[str, Any]]:
        people = self.snap.member_by_id
        rows = []
        for cr in self.board.changes:
            status = "discussing" if cr.status == "open" and cr.discussing else cr.status
            rows.append(
                {
                    "number": cr.number,
                    "what": describe_request(self.locale, cr, self.today),
                    "reason": cr.reason,
                    "status": self.t(f"change.status.{status}"),
                    "status_class": {"approved": "ok", "rejected": "bad"}.get(cr.status, "warn"),
                    "by": _name(people.get(cr.requester_member_id)) if cr.requester_member_id else "",
                    "at": self.when(cr.created_at),
                    "decided_by": _name(people.get(cr.decided_by_member_id))
                    if cr.decided_by_member_id
                    else "",
                    "decided_at": self.when(cr.decided_at) if cr.decided_at else "",
                    "note": cr.decision_note,
                }
            )
        return rows

    def reports(self) -> list[dict[str, Any]]:
        shown = []
        for entry in self.board.reports:
            report = entry.report
            end = report.week_end if report else entry.week_start + timedelta(days=6)
            shown.append(
                {
                    "week": f"{self.day(entry.week_start)} – {self.day(end)}",
                    "report": report,
                    "state": self.t(f"overview.state.{report.state}") if report else "",
                    "markdown": entry.markdown,
                }
            )
        return shown

    def participation(self) -> dict[str, Any]:
        """The heatmap: a row per member, a cell per day, coloured by what the day was for them."""
        seen = self.board.participation
        days = [
            {
                "label": day.strftime("%m-%d") if day.day == 1 or n == 0 else str(day.day),
                "iso": day.isoformat(),
            }
            for n, day in enumerate(seen.days)
        ]
        rows = []
        for member in seen.members:
            cells = []
            for day in seen.days:
                mark = seen.marks[(member.member_id, day)]
                label = self.t(f"dashboard.heat.{mark}")
                cells.append({"mark": mark, "title": f"{member.name} · {day.isoformat()} · {label}"})
            name, department = member.name, member.department or ""
            rows.append(
                {"name": name, "department": department, "cells": cells, **self._figures(member.rates)}
            )
        departments = [
            {"name": d.department or self.t("report.no_department"), **self._figures(d.rates)}
            for d in seen.departments
        ]
        return {"days": days, "rows": rows, "marks": get_args(DayMark), "departments": departments}

    def _figures(self, rates: Rates) -> dict[str, str]:
        """A member's or a department's figures as the heatmap's columns show them."""
        minutes = rates.median_reply_minutes
        return {
            "rate": _share(rates.answered, rates.asked),
            "streak": str(rates.streak) if rates.asked else "–",
            "reply": "–" if minutes is None else reply_time(self.locale, minutes),
            "on_time": _share(rates.on_time, rates.due),
            "late": "–" if rates.late_days_avg is None else f"{rates.late_days_avg:.1f}",
        }

    def audit(self) -> list[dict[str, str]]:
        return [
            {
                "at": self.when(entry.created_at),
                "who": entry.actor_name or entry.actor_user_id,
                "action": entry.action,
                "what": f"{entry.entity} {entry.entity_id}".strip(),
            }
            for entry in self.board.audit
        ]

    def render(self, template: str, **extra: Any) -> str:
        snap = self.snap
        return (
            _environment()
            .get_template(template)
            .render(
                t=self.t,
                lang=_LANG.get(self.locale, self.locale),
                project=self.board.project,
                viewer=_name(snap.member_by_id.get(self.board.viewer.id)),
                today=self.today.isoformat(),
                filters=self.filters,
                departments=snap.departments,
                members=snap.members,
                charter=self.charter(),
                gantt=self.gantt(),
                tasks=self.tasks(),
                risks=self.risks(),
                milestones=self.milestones(),
                changes=self.changes(),
                reports=self.reports(),
                audit=self.audit(),
                participation=self.participation(),
                audit_total=self.board.audit_total,
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
        .render(t=lambda key, **params: t(locale, key, **params), lang=_LANG.get(locale, locale), nonce=nonce)
    )


def _share(part: int, whole: int) -> str:
    """`3/4 (75%)`, or a dash when there was nothing to count."""
    return f"{part}/{whole} ({percent(part, whole)}%)" if whole else "–"
