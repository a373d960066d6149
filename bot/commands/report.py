"""/report: the weekly report on demand, and past reports.

On demand the report is built for the current week and only replied: it neither replaces the
week's stored snapshot (that is the report as posted at the project's report time) nor touches
the shared table.
"""

from __future__ import annotations

from datetime import date

from adapters.models import Card, Reply, Text
from bot.commands.context import CommandContext
from bot.commands.parsing import normalize, parse_date
from bot.commands.registry import Router
from bot.domain.report import week_of
from bot.errors import UsageError
from bot.render.report import card_color, card_title, render_card
from bot.services import calendar as calendar_service
from bot.services import reports
from storage.models import Project, ReportSnapshot

router = Router("report", title="help.section.report")


def _snapshot_card(ctx: CommandContext, project: Project, snapshot: ReportSnapshot) -> Card:
    name = snapshot.content.get("project_name") or project.name
    state = str(snapshot.content.get("state", ""))
    return Card(card_title(ctx.locale, name, snapshot.week_start), snapshot.markdown, color=card_color(state))


@router.command("report", "周报", usage="usage.report", summary="summary.report", who="who.anyone")
async def report(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    text = normalize(args)
    if not text:
        calendar = await calendar_service.for_project(ctx.session, project.id)
        weekly = await reports.build(ctx.session, project, today=ctx.today, now=ctx.now, calendar=calendar)
        return [render_card(weekly, ctx.locale)]
    week_start, _ = week_of(parse_date(text, today=ctx.today))
    snapshot = await reports.for_week(ctx.session, project.id, week_start)
    if snapshot is None:
        return [Text(ctx.t("report.none_for_week", start=week_start.isoformat()))]
    return [_snapshot_card(ctx, project, snapshot)]


@router.command(
    "report latest",
    "周报 最近",
    "周报 上次",
    "周报 最新",
    usage="usage.report",
    summary="summary.report",
    who="who.anyone",
    listed=False,
)
async def report_latest(ctx: CommandContext, args: str) -> list[Reply]:
    """The latest report posted (an alias per word, so that "/周报最新" works as typed)."""
    return await _latest(ctx, args, before=None)


@router.command(
    "report last",
    "周报 上周",
    usage="usage.report",
    summary="summary.report",
    who="who.anyone",
    listed=False,
)
async def report_last(ctx: CommandContext, args: str) -> list[Reply]:
    """The latest report of an earlier week: "last week" never means this week's report."""
    return await _latest(ctx, args, before=week_of(ctx.today)[0])


async def _latest(ctx: CommandContext, args: str, *, before: date | None) -> list[Reply]:
    project = ctx.require_project()
    if normalize(args):
        raise UsageError()
    snapshot = await reports.latest(ctx.session, project.id, before=before)
    if snapshot is None:
        weekday = ctx.t(f"report.weekday.{project.report_weekday}")
        return [Text(ctx.t("report.none_yet", weekday=weekday, time=project.report_time))]
    return [_snapshot_card(ctx, project, snapshot)]
