"""/baseline: record the plan's promised dates and show what moved against them."""

from __future__ import annotations

from datetime import date

from adapters.models import Card, Reply, Text
from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.commands.paging import page, page_number
from bot.commands.parsing import TEXT_LIMIT, bounded
from bot.commands.registry import Router
from bot.domain import baseline as slip
from bot.permissions import acting
from bot.render.baseline import slip_words
from bot.render.dates import short_day
from bot.services import baselines, members
from bot.services import calendar as calendar_service

router = Router("baseline", title="help.section.baseline")


def _day(ctx: CommandContext, value: date | None) -> str:
    return short_day(value, ctx.today) if value else ctx.t("value.none")


def _moved_line(ctx: CommandContext, moved: slip.Moved) -> str:
    then, now = moved.then, moved.now
    if then is None:
        assert now is not None
        dates = ctx.t("baseline.added", due=_day(ctx, now.due))
    elif now is None:
        dates = ctx.t("baseline.deleted", then=_day(ctx, then.due))
    else:
        parts = []
        if now.due != then.due:
            parts.append(
                ctx.t(
                    "baseline.due_moved",
                    due=_day(ctx, now.due),
                    then=_day(ctx, then.due),
                    slip=slip_words(ctx.locale, moved.slip),
                )
            )
        if now.start != then.start:
            parts.append(
                ctx.t("baseline.start_moved", start=_day(ctx, now.start), then=_day(ctx, then.start))
            )
        dates = ctx.t("plan.sep").join(parts)
    key = "baseline.task_moved" if moved.item.kind == "task" else "baseline.milestone_moved"
    return ctx.t(key, code=moved.item.code, title=moved.item.title, dates=dates)


@router.command("baseline", "基线", usage="usage.baseline", summary="summary.baseline", who="who.anyone")
async def baseline_view(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    number = page_number(args)
    found = await baselines.latest(ctx.session, project.id)
    if found is None:
        return [Text(ctx.t("baseline.none"))]
    current, setter = found
    then = baselines.items_of(current)
    now = await baselines.current_items(ctx.session, project.id)
    calendar = await calendar_service.for_project(ctx.session, project.id)
    moved = slip.compare(then, now, calendar)
    who = members.mention(setter) if setter is not None else ctx.t("value.none")
    reason = ctx.t("baseline.reason", reason=current.reason) if current.reason else ""
    lines = [ctx.t("baseline.set_by", who=who) + reason]
    end_then, end_now = slip.plan_end(then), slip.plan_end(now)
    if end_then is not None and end_now is not None:
        if end_now == end_then:
            lines.append(ctx.t("baseline.end_same", end=_day(ctx, end_now)))
        else:
            lines.append(
                ctx.t(
                    "baseline.end_slip",
                    end=_day(ctx, end_now),
                    then=_day(ctx, end_then),
                    slip=slip_words(ctx.locale, slip.overall_slip(then, now, calendar)),
                )
            )
    if moved:
        lines += [ctx.t("baseline.moved_header", count=len(moved))]
        lines += page(ctx, [_moved_line(ctx, change) for change in moved], number, usage_key="usage.baseline")
    else:
        lines.append(ctx.t("baseline.unchanged"))
    lines += ["", ctx.t("baseline.next")]
    title = ctx.t(
        "baseline.title",
        number=current.number,
        date=short_day(current.created_at.astimezone(ctx.tz).date(), ctx.today),
    )
    return [Card(title, "\n".join(lines))]


@router.command(
    "baseline set",
    "基线 设定",
    "基线 设置",
    usage="usage.baseline_set",
    summary="summary.baseline_set",
    who="who.pm",
)
async def baseline_set(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    setter = acting(ctx)
    reason = bounded(ctx.typed(args).strip(), TEXT_LIMIT)
    created = await baselines.set_baseline(
        session=ctx.session, project=project, reason=reason, setter=setter, actor=actor_of(ctx), now=ctx.now
    )
    items = baselines.items_of(created)
    end = slip.plan_end(items)
    lines = [
        ctx.t(
            "baseline.set",
            number=created.number,
            tasks=sum(item.kind == "task" for item in items),
            milestones=sum(item.kind == "milestone" for item in items),
            end=ctx.t("baseline.set_end", end=_day(ctx, end)) if end else "",
        )
    ]
    if reason:
        lines.append(ctx.t("baseline.set_reason", reason=reason))
    lines.append(ctx.t("baseline.set_next"))
    return [Text("\n".join(lines))]


@router.command(
    "baseline history",
    "基线 历史",
    usage="usage.baseline_history",
    summary="summary.baseline_history",
    who="who.anyone",
)
async def baseline_history(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    found = await baselines.history(ctx.session, project.id)
    if not found:
        return [Text(ctx.t("baseline.none"))]
    lines = [
        ctx.t(
            "baseline.history_line",
            number=baseline.number,
            date=short_day(baseline.created_at.astimezone(ctx.tz).date(), ctx.today),
            who=members.mention(setter) if setter is not None else ctx.t("value.none"),
            items=count,
            reason=ctx.t("baseline.history_reason", reason=baseline.reason) if baseline.reason else "",
        )
        for baseline, setter, count in found
    ]
    return [Card(ctx.t("baseline.history_title", count=len(found)), "\n".join(lines))]
