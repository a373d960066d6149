"""The weekly report's views: the chat card and the shared tracking table's rows, from the
`WeeklyReport` that `bot.domain.report.build` computed (or `from_content` read back)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from adapters.base import TableValue
from adapters.models import Card, mention_token
from bot.domain.report import SUMMARY_ROW, MovedLine, NeedLine, Person, RiskLine, WeeklyReport
from bot.render import changes as changes_render
from bot.render.baseline import slip_words
from bot.render.health import outlook_facts
from bot.render.i18n import t
from bot.render.participation import report_section

# --- the card ------------------------------------------------------------------------------------------

MAX_ITEMS = 5
MAX_ATTENTION = 3
_MARK: dict[str, str] = {"on_track": "🟢", "at_risk": "🟡", "late": "🔴", "done": "✅"}
_LEVEL_MARK = {"high": "🔴", "medium": "🟠", "low": "🟡"}
_COLOR: dict[str, Literal["green", "orange", "red"]] = {
    "on_track": "green",
    "at_risk": "orange",
    "late": "red",
    "done": "green",
}


def _day(value: date | None, today: date) -> str:
    if value is None:
        return ""
    return value.strftime("%m-%d") if value.year == today.year else value.isoformat()


def _age(locale: str, workdays: int | None, since: date | None, today: date) -> str:
    """An age in workdays; calendar days for a report stored before ages were counted in workdays."""
    if workdays is not None:
        return t(locale, "report.age_workdays", n=workdays)
    return t(locale, "report.age_days", n=(today - since).days if since is not None else 0)


def _who(people: Iterable[Person]) -> str:
    return " ".join(mention_token(person.user_id) for person in people)


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _moved(locale: str, moved: MovedLine, today: date) -> str:
    if moved.added:
        dates = t(locale, "baseline.added", due=_day(moved.now, today))
    elif moved.deleted:
        dates = t(locale, "baseline.deleted", then=_day(moved.then, today))
    else:
        dates = t(
            locale,
            "baseline.due_moved",
            due=_day(moved.now, today),
            then=_day(moved.then, today),
            slip=slip_words(locale, moved.slip),
        )
    key = "baseline.task_moved" if moved.kind == "task" else "baseline.milestone_moved"
    return t(locale, key, code=moved.code, title=_shorten(moved.title, 20), dates=dates)


def card_title(locale: str, name: str, week_start: date) -> str:
    week_end = week_start + timedelta(days=6)
    return t(
        locale, "report.title", name=name, start=_day(week_start, week_end), end=_day(week_end, week_end)
    )


def card_color(state: str) -> Literal["green", "orange", "red", "grey"]:
    return _COLOR.get(state, "grey")


def render_card(report: WeeklyReport, locale: str) -> Card:
    """A phone-sized card, most important first: overall, what needs coordination, the plan's health,
    this week and next, departments, risks, action items, standups, and the one next step."""
    today = report.as_of

    def tr(key: str, **params: object) -> str:
        return t(locale, key, **params)

    def capped(items: Sequence[Any], limit: int, render: Callable[[Any], str]) -> list[str]:
        out = [render(item) for item in items[:limit]]
        if len(items) > limit:
            out.append(tr("overview.more", count=len(items) - limit))
        return out

    def state(value: str) -> str:
        return tr(f"overview.state.{value}")

    lines: list[str] = []
    if report.tasks:
        lines.append(
            tr(
                "report.overall",
                mark=_MARK[report.state],
                actual=report.actual,
                expected=report.expected,
                state=state(report.state),
                facts=outlook_facts(locale, report.outlook),
            )
        )
    else:
        lines.append(tr("report.no_tasks"))

    attention: list[str] = []
    attention += capped(
        report.blockers,
        MAX_ATTENTION,
        lambda b: tr(
            "report.blocker",
            code=b.code,
            title=_shorten(b.title, 20),
            text=_shorten(b.text),
            age=_age(locale, b.age, b.since, today),
            who=_who(b.owners),
        ),
    )
    attention += capped(
        report.late,
        MAX_ATTENTION,
        lambda task: tr(
            "report.late_task",
            code=task.code,
            title=_shorten(task.title, 20),
            age=_age(locale, task.late, task.due, today),
            who=_who(task.owners),
        ),
    )
    attention += capped(
        report.actions_overdue,
        MAX_ATTENTION,
        lambda a: tr(
            "report.late_action",
            number=a.number,
            text=_shorten(a.text),
            age=_age(locale, a.late, a.due, today),
            who=_who([a.owner] if a.owner else []),
        ),
    )
    if attention:
        lines += ["", tr("report.h.attention"), *attention]

    if report.needs_open or report.needs_handled:
        lines += ["", tr("report.h.needs", open=len(report.needs_open), handled=len(report.needs_handled))]

        def need(key: str) -> Callable[[NeedLine], str]:
            return lambda n: tr(
                key,
                number=n.number,
                text=_shorten(n.text),
                who=_who([n.requester] if n.requester else []),
                department=n.department or tr("need.no_department"),
                days=n.days,
            )

        lines += capped(report.needs_open, MAX_ITEMS, need("report.need_open"))
        lines += capped(report.needs_handled, MAX_ATTENTION, need("report.need_handled"))

    if (against := report.baseline) is not None and against.moved:
        lines += [
            "",
            tr("baseline.report_title", number=against.number, slip=slip_words(locale, against.end_slip)),
        ]
        lines += capped(against.moved, MAX_ITEMS, lambda m: _moved(locale, m, today))

    if report.changes:
        lines += ["", tr("report.h.changes", count=len(report.changes))]
        for change in report.changes[:MAX_ITEMS]:
            what = changes_render.describe(
                locale, change.kind, change.target, change.old, change.change, today
            )
            lines.append(tr("report.change", number=change.number, what=what))
            lines += changes_render.impact_lines(locale, change.impact, today)
        if len(report.changes) > MAX_ITEMS:
            lines.append(tr("overview.more", count=len(report.changes) - MAX_ITEMS))

    if report.phases or report.milestones:
        lines += ["", tr("report.h.plan")]
        lines += capped(
            report.phases,
            MAX_ITEMS,
            lambda p: tr(
                "report.phase",
                mark=_MARK[p.state],
                code=p.key,
                title=_shorten(p.title, 20),
                actual=p.actual,
                expected=p.expected,
            ),
        )
        lines += capped(
            report.milestones,
            MAX_ITEMS,
            lambda m: tr(
                "report.milestone" if m.total else "report.milestone_bare",
                mark=_MARK[m.state],
                title=_shorten(m.title, 20),
                due=_day(m.due, today),
                actual=m.actual,
                state=state(m.state),
            ),
        )

    if report.completed or report.advanced:
        lines += ["", tr("report.h.this_week", done=len(report.completed))]
        lines += capped(
            report.completed, MAX_ITEMS, lambda task: tr("report.completed", code=task.code, title=task.title)
        )
        lines += capped(
            report.advanced,
            MAX_ITEMS,
            lambda task: tr(
                "report.advanced", code=task.code, title=task.title, before=task.before, after=task.after
            ),
        )

    if report.next_week:
        lines += ["", tr("report.h.next_week", count=len(report.next_week))]
        lines += capped(
            report.next_week,
            MAX_ITEMS,
            lambda task: tr(
                "report.next_due" if task.due else "report.next_start",
                code=task.code,
                title=task.title,
                date=_day(task.due or task.start, today),
            ),
        )

    if report.departments:
        lines += ["", tr("report.h.departments")]
        lines += [
            tr(
                "report.department",
                mark=_MARK[d.state],
                name=d.title or tr("report.no_department"),
                actual=d.actual,
                expected=d.expected,
                done=d.done,
                total=d.total,
                late=tr("report.department_late", count=d.late) if d.late else "",
            )
            for d in report.departments
        ]

    risk_count = len(report.risks_new) + len(report.risks_mitigated) + len(report.risks_open)
    if risk_count:
        lines += [
            "",
            tr(
                "report.h.risks",
                new=len(report.risks_new),
                mitigated=len(report.risks_mitigated),
                open=len(report.risks_open),
            ),
        ]

        def risk(key: str) -> Callable[[RiskLine], str]:
            return lambda r: tr(
                key,
                mark=_LEVEL_MARK.get(r.level, "•"),
                number=r.number,
                level=tr(f"track.level.{r.level}"),
                description=_shorten(r.description),
                who=_who([r.owner] if r.owner else []),
            )

        lines += capped(report.risks_new, MAX_ATTENTION, risk("report.risk_new"))
        lines += capped(report.risks_mitigated, MAX_ATTENTION, risk("report.risk_mitigated"))
        lines += capped(report.risks_open, MAX_ATTENTION, risk("report.risk_open"))

    if report.actions_open:
        lines += [
            "",
            tr("report.actions", open=report.actions_open, overdue=len(report.actions_overdue)),
        ]

    attendance = report.attendance
    standups = report_section(
        locale,
        reported=attendance.reported,
        expected=attendance.expected,
        missing=tr("report.standup_missing", who=_who(a.person for a in attendance.missing[:MAX_ATTENTION]))
        if attendance.missing
        else "",
        departments=report.participation,
    )
    if standups:
        lines += ["", *standups]

    lines += ["", tr("report.next_step")]
    return Card(
        card_title(locale, report.project_name, report.week_start),
        "\n".join(lines),
        color=card_color(report.state) if report.tasks else "grey",
    )


# --- the shared table ------------------------------------------------------------------------------------


def _midnight(day: date | None, tz: ZoneInfo) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=tz)


def table_rows(report: WeeklyReport, locale: str, tz: ZoneInfo) -> list[tuple[str, dict[str, TableValue]]]:
    """(row key, {column name: value}) for every task and one summary row; column names are the
    project language's (`report.col.*`), progress a fraction (a percent-formatted number field),
    dates midnight in the project's timezone."""

    def column(name: str) -> str:
        return t(locale, f"report.col.{name}")

    week = _midnight(report.week_start, tz)
    rows: list[tuple[str, dict[str, TableValue]]] = []
    for task in report.tasks:
        status = "report.status_late" if task.state == "late" else f"track.task_status.{task.status}"
        rows.append(
            (
                task.code,
                {
                    column("code"): task.code,
                    column("title"): task.title,
                    column("owner"): t(locale, "track.list_sep").join(p.name for p in task.owners),
                    column("department"): task.department,
                    column("progress"): task.progress / 100,
                    column("status"): t(locale, status),
                    column("due"): _midnight(task.due, tz),
                    column("week"): week,
                },
            )
        )
    summary = t(
        locale,
        "report.row_summary",
        name=report.project_name,
        expected=report.expected,
        blockers=len(report.blockers),
        late=len(report.late),
        risks=len(report.risks_new) + len(report.risks_open),
    )
    rows.append(
        (
            SUMMARY_ROW,
            {
                column("code"): t(locale, "report.row_summary_code"),
                column("title"): summary,
                column("owner"): "",
                column("department"): "",
                column("progress"): report.actual / 100,
                column("status"): t(locale, f"overview.state.{report.state}"),
                column("due"): None,
                column("week"): week,
            },
        )
    )
    return rows
