"""/help: the command overview grouped by feature, or one command's details."""

from __future__ import annotations

from adapters.models import Card, Reply, Text
from bot.commands.context import CommandContext
from bot.commands.parsing import looks_like_standup
from bot.commands.registry import CommandSpec, Registry, Router
from bot.render.i18n import t

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


def not_understood(registry: Registry, locale: str, text: str, *, in_group: bool) -> str:
    """The answer to normalised `text` that runs no command: what the group word it starts with can
    do, the command it probably meant, or how to record a standup. Never runs the guess."""
    word = text.removeprefix("/").split(" ", 1)[0]
    if in_group and looks_like_standup(text):
        return t(locale, "error.standup_hint")
    if subcommands := registry.subcommands(word):
        lines = [f"/{display_name(spec, locale)} — {t(locale, spec.summary_key)}" for spec in subcommands]
        return t(locale, "error.subcommands", command=f"/{word}", choices="\n".join(lines))
    if (guess := registry.suggest(word)) is not None:
        return t(locale, "error.did_you_mean", command=f"/{word}", guess=f"/{guess}")
    return t(locale, "error.unknown_command", command=text.split(" ", 1)[0])
