"""After a baseline, the plan's dates, tasks and scope change through the PMs: the edit commands
and /change share these steps. A non-PM's change becomes a request (CR-n) with a card to each PM;
a PM's own applies at once, pushes what it moves downstream and is logged as an approved change."""

from __future__ import annotations

from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.permissions import acting
from bot.render import changes as render
from bot.services import calendar as calendar_service
from bot.services import changes
from storage.models import Project


async def applies(ctx: CommandContext, project: Project) -> bool:
    """Whether changes to the plan go through approval (a baseline is set)."""
    return await changes.baseline_number(ctx.session, project.id) is not None


async def submit(ctx: CommandContext, project: Project, proposed: changes.Proposed, reason: str) -> list[str]:
    """Store the change as a request for the PMs; the reply's lines."""
    requester = acting(ctx)
    cr, impact = await changes.request(
        session=ctx.session,
        project=project,
        requester=requester,
        proposed=proposed,
        reason=reason,
        calendar=await calendar_service.for_project(ctx.session, project.id),
        today=ctx.today,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    lines = [
        ctx.t("change.sent", number=cr.number),
        ctx.t("change.card_what", what=render.describe_request(ctx.locale, cr, ctx.today)),
    ]
    effect = render.impact_lines(ctx.locale, impact.to_json(), ctx.today)
    if effect:
        lines += [ctx.t("change.card_impact"), *effect]
    return lines


async def impact(ctx: CommandContext, project: Project, proposed: changes.Proposed) -> changes.Impact:
    """What a PM's change will move, computed on the plan before it is applied."""
    return await changes.impact_of(
        ctx.session,
        project.id,
        proposed.kind,
        proposed.target,
        proposed.change,
        await calendar_service.for_project(ctx.session, project.id),
    )


async def log_own(
    ctx: CommandContext, project: Project, proposed: changes.Proposed, effect: changes.Impact
) -> list[str]:
    """A PM's change, applied: push the dependents it moves and log it; the reply's lines."""
    cr = await changes.record_own(
        session=ctx.session,
        project=project,
        pm=acting(ctx),
        proposed=proposed,
        impact=effect,
        today=ctx.today,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    return [
        *render.impact_lines(ctx.locale, effect.to_json(), ctx.today),
        ctx.t("change.logged", number=cr.number, baseline=cr.baseline_number),
    ]
