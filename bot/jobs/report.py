"""The weekly report: posted to every bound chat, kept as a snapshot, synced to the shared table.

A table that cannot be written must not cost the report: the failure is logged, recorded in the
snapshot (`content["table_sync"]`) and told to the PMs, the job still commits, and the next run
(next week's, or an operator's `run-job`) writes the failed weeks again from their snapshots.
"""

from __future__ import annotations

import logging

from adapters.base import SendError, TableWriter
from adapters.models import Text
from bot.domain.report import WeeklyReport, from_content, render_card
from bot.jobs.context import JobContext, Recipient
from bot.services import members, projects, reports
from storage.models import ReportSnapshot

log = logging.getLogger(__name__)

# Project.bitable_app_token / bitable_table_id name a Feishu Bitable.
TABLE_PLATFORM = "feishu"
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
    for chat in await projects.chats(ctx.session, project.id):
        await ctx.send(Recipient(chat.platform, chat.chat_id), card)
    await _sync(ctx, snapshot, report)


async def _sync(ctx: JobContext, snapshot: ReportSnapshot, report: WeeklyReport) -> None:
    project = ctx.project
    writer = ctx.tables.get(TABLE_PLATFORM)
    if not (project.bitable_app_token and project.bitable_table_id) or not isinstance(writer, TableWriter):
        return
    pending = [(snapshot, report)]
    for old in await reports.failed_syncs(ctx.session, project.id, before=report.week_start):
        try:
            pending.append((old, from_content(old.content)))
        except (KeyError, TypeError, ValueError):  # stored by an older version in another shape
            log.warning("report snapshot %s cannot be read back; not re-synced", old.id)
    # This week first: it matters most, and if the table refuses it the older ones would fail too.
    for week, content in pending:
        try:
            await reports.sync_table(ctx.session, project=project, writer=writer, report=content, now=ctx.now)
        except SendError as error:
            log.warning("weekly report of project %s: table sync failed: %s", project.id, error)
            reports.mark_sync(week, now=ctx.now, error=str(error)[:MAX_ERROR_CHARS])
            await _tell_pms(ctx, content, str(error)[:MAX_ERROR_CHARS])
            return
        reports.mark_sync(week, now=ctx.now)


async def _tell_pms(ctx: JobContext, report: WeeklyReport, error: str) -> None:
    text = ctx.t(
        "report.sync_failed", name=report.project_name, start=report.week_start.isoformat(), error=error
    )
    for pm in await members.pms(ctx.session, ctx.project.id):
        await ctx.send(Recipient(pm.platform, pm.platform_user_id, "user"), Text(text), topic="table-sync")
