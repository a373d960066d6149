"""/undo: revert the sender's (or, for a PM, anyone's) last change of the past 10 minutes."""

from __future__ import annotations

from adapters.models import Reply, Text
from bot.commands.common import actor_of, self_or_pm_named
from bot.commands.context import CommandContext
from bot.commands.registry import Router
from bot.services import undo as undo_service

router = Router("undo", title="help.section.undo")


@router.command("undo", "撤销", "撤回", usage="usage.undo", summary="summary.undo", who="who.undo")
async def undo(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    whose = self_or_pm_named(ctx, args)
    made, restored = await undo_service.undo(
        session=ctx.session,
        project=project,
        platform=ctx.message.platform,
        user_id=whose,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    ago = max(0, int((ctx.now - made).total_seconds() // 60))
    who = f"<at:{whose}>"  # the platform renders the name, member or not
    lines = [ctx.t("undo.header", who=who, ago=ago), *(ctx.t(item.key, **item.params) for item in restored)]
    return [Text("\n".join(lines))]
