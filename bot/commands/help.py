"""/help: the command overview grouped by feature, or one command's details."""

from __future__ import annotations

from adapters.models import Card, Reply, Text
from bot.commands.context import CommandContext
from bot.commands.registry import CommandSpec, Router

router = Router("help", title="help.section.basics")


def display_name(spec: CommandSpec, locale: str) -> str:
    """The form readers of `locale` type: the Chinese alias in zh, the English name otherwise."""
    return spec.aliases[0] if locale == "zh" and spec.aliases else spec.name


@router.command(
    "help", "帮助", usage="usage.help", summary="summary.help", who="who.anyone", needs_project=False
)
async def help_command(ctx: CommandContext, args: str) -> list[Reply]:
    if args:
        spec = ctx.registry.find(args)
        if spec is None:
            return [Text(ctx.t("help.unknown", command=args))]
        details = ctx.t(
            "help.one", summary=ctx.t(spec.summary_key), usage=ctx.t(spec.usage_key), who=ctx.t(spec.who)
        )
        return [Text(details)]
    lines = [ctx.t("help.intro")]
    for group in ctx.registry.routers:
        listed = [spec for spec in group.commands if spec.listed]
        if listed:
            lines += ["", f"**{ctx.t(group.title)}**"]
            lines += [f"/{display_name(spec, ctx.locale)} — {ctx.t(spec.summary_key)}" for spec in listed]
    lines += ["", ctx.t("help.footer")]
    return [Card(ctx.t("help.title"), "\n".join(lines))]
