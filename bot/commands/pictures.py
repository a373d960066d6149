"""/gantt and /burndown: the plan as pictures, posted into the chat."""

from __future__ import annotations

from adapters.models import Image, Reply, Text
from bot.commands.context import CommandContext
from bot.commands.parsing import normalize
from bot.commands.registry import Router
from bot.errors import UsageError
from bot.services import pictures

router = Router("pictures", title="help.section.pictures")


@router.command("gantt", "甘特图", usage="usage.gantt", summary="summary.gantt", who="who.anyone")
async def gantt(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    phase = normalize(args) or None
    drawn = await pictures.gantt(ctx.session, project, today=ctx.today, phase=phase)
    if phase is not None and phase not in drawn.phases:
        raise UsageError("gantt.no_phase", phase=phase, phases=", ".join(drawn.phases) or "-")
    if drawn.png is None:
        return [Text(ctx.t("gantt.nothing_dated"))]
    alt = ctx.t("gantt.alt", project=project.name) if phase is None else ctx.t("gantt.alt_phase", phase=phase)
    replies: list[Reply] = [Image(drawn.png, alt)]
    if drawn.pages:
        pages = ctx.t("plan.sep").join(f"/{ctx.invoked_as} {code}" for code in drawn.pages)
        replies.append(Text(ctx.t("gantt.pages", pages=pages)))
    return replies


@router.command("burndown", "燃尽图", usage="usage.burndown", summary="summary.burndown", who="who.anyone")
async def burndown(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    if normalize(args):
        raise UsageError()
    png = await pictures.burndown(ctx.session, project, today=ctx.today)
    if png is None:
        return [Text(ctx.t("gantt.nothing_dated"))]
    return [Image(png, ctx.t("burndown.alt", project=project.name))]
