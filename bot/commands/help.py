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


def family(registry: Registry, name: str) -> list[CommandSpec]:
    """What `/help <name>` explains: the command called `name` and its subcommands (`阶段` →
    `阶段 添加`; `risk` → `risk` and `risk add`), each with its own usage and who may run it.
    A bare group word (unlisted, it only lists) gives way to its subcommands."""
    spec = registry.find(name)
    if spec is not None:
        name = spec.name
    prefix = name.lower() + " "
    subcommands = [
        sub
        for group in registry.routers
        for sub in group.commands
        if sub.listed
        and sub is not spec
        and any(form.lower().startswith(prefix) for form in (sub.name, *sub.aliases))
    ]
    if spec is None or (subcommands and not spec.listed):
        return subcommands
    return [spec, *subcommands]


def explain(spec: CommandSpec, locale: str) -> str:
    return t(
        locale,
        "help.one",
        summary=t(locale, spec.summary_key),
        usage=t(locale, spec.usage_key),
        who=t(locale, spec.who),
    )


@router.command(
    "help", "帮助", usage="usage.help", summary="summary.help", who="who.anyone", needs_project=False
)
async def help_command(ctx: CommandContext, args: str) -> list[Reply]:
    if args:
        specs = family(ctx.registry, args)
        if not specs:
            return [Text(ctx.t("help.unknown", command=args))]
        return [Text("\n\n".join(explain(spec, ctx.locale) for spec in specs))]
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
