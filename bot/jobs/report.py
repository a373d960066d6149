"""The weekly report: posted to every bound chat and report webhook with the Gantt chart and the
burndown, kept as a snapshot, synced to the shared tables (a Feishu Bitable, a DingTalk AI table: each
one the project has set and whose platform is enabled).

A picture that cannot be drawn (nothing dated yet, or drawing failed) is left out and logged: the
report goes without it, and its text never mentions the pictures.

A table that cannot be written must not cost the report: the failure is logged, recorded in the
snapshot (`content["table_sync"]`) and told to the PMs, the job still commits, and the next run
(next week's, or an operator's `run-job`) writes the failed weeks again from their snapshots.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from adapters.base import SendError, TableWriter
from adapters.models import Image, Text
from bot.domain.report import WeeklyReport, from_content
from bot.jobs import report_webhooks
from bot.jobs.context import JobContext, Recipient
from bot.render.report import render_card
from bot.services import members, pictures, projects, reports
from storage.models import ReportSnapshot

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 200


async def weekly(ctx: JobContext) -> None:
    project = ctx.project
    report = await reports.build(
        ctx.session, project, today=ctx.business_date, now=ctx.now, calendar=ctx.calendar
    )
    card = render_card(report, project.locale)
    snapshot = await reports.store(
        ctx.session, project=project, report=report, markdown=card.body, now=ctx.now
    )
    card = replace(card, images=await _pictures(ctx))
    for chat in await projects.chats(ctx.session, project.id):
        await ctx.send(Recipient(chat.platform, chat.chat_id), card)
    await report_webhooks.post(ctx, card)
    await _sync(ctx, snapshot, report)


async def _pictures(ctx: JobContext) -> tuple[Image, ...]:
    """The Gantt chart and the burndown as of the report's day (drawn off the event loop by the
    pictures service), each one that can be drawn."""
    project, today = ctx.project, ctx.business_date

    async def gantt() -> bytes | None:
        return (await pictures.gantt(ctx.session, project, today=today)).png

    async def burndown() -> bytes | None:
        return await pictures.burndown(ctx.session, project, today=today)

    drawn: list[Image] = []
    for name, draw, alt in (("Gantt chart", gantt, "gantt.alt"), ("burndown", burndown, "burndown.alt")):
        try:
            png = await draw()
        except Exception:  # a picture is a bonus: whatever broke its drawing must not cost the report
            log.exception("weekly report of project %s: the %s could not be drawn", project.id, name)
            continue
        if png is None:
            log.info("weekly report of project %s: no %s, nothing is dated", project.id, name)
        else:
            drawn.append(Image(png, ctx.t(alt, project=project.name)))
    return tuple(drawn)


async def _sync(ctx: JobContext, snapshot: ReportSnapshot, report: WeeklyReport) -> None:
    project = ctx.project
    writers = [
        writer
        for _, writer in sorted(ctx.tables.items())
        if isinstance(writer, TableWriter) and reports.table_target(project, writer.platform)
    ]
    if not writers:
        return
    pending = [(snapshot, report)]
    for old in await reports.failed_syncs(ctx.session, project.id, before=report.week_start):
        try:
            pending.append((old, from_content(old.content)))
        except (KeyError, TypeError, ValueError):  # stored by an older version in another shape
            log.warning("report snapshot %s cannot be read back; not re-synced", old.id)
    # This week first: it matters most, and if the table refuses it the older ones would fail too.
    for week, content in pending:
        errors: dict[str, str] = {}
        for writer in writers:  # one table failing does not keep the week from the other
            try:
                await reports.sync_table(
                    ctx.session, project=project, writer=writer, report=content, now=ctx.now
                )
            except SendError as error:
                log.warning("weekly report of project %s: table sync failed: %s", project.id, error)
                errors[writer.platform] = str(error)
        if errors:
            failure = "; ".join(errors.values())[:MAX_ERROR_CHARS]
            reports.mark_sync(week, now=ctx.now, error=failure)
            await _tell_pms(ctx, content, failure, tables=list(errors))
            return
        reports.mark_sync(week, now=ctx.now)


async def _tell_pms(ctx: JobContext, report: WeeklyReport, error: str, *, tables: list[str]) -> None:
    text = ctx.t(
        "report.sync_failed",
        name=report.project_name,
        start=report.week_start.isoformat(),
        error=error,
        table=ctx.t("track.list_sep").join(ctx.t(f"integrations.table.{platform}") for platform in tables),
    )
    for pm in await members.pms(ctx.session, ctx.project.id):
        await ctx.send(Recipient(pm.platform, pm.platform_user_id, "user"), Text(text), topic="table-sync")
