"""Small helpers every command module shares."""

from __future__ import annotations

import re
from datetime import date

from adapters.models import UserRef
from bot.commands.context import CommandContext
from bot.commands.parsing import MAX_ID_DIGITS, Args, normalize, parse_args, parse_date
from bot.errors import UsageError
from bot.permissions import acting, deny, is_pm
from bot.services.audit import Actor


def actor_of(ctx: CommandContext) -> Actor:
    """The verified sender, as recorded in the audit log."""
    sender = ctx.message.sender
    return Actor(sender.platform, sender.user_id, sender.name, ctx.message.event_id)


def self_or_pm_named(ctx: CommandContext, args: str) -> str:
    """The user id of a command about one's own things or, for a PM, someone else's (`/undo
    [@someone]`): the one mention, else the sender. Anyone else naming someone is refused."""
    me = acting(ctx)
    parsed = parse_args(args, options=(), max_positional=0)
    if parsed.rest or len(parsed.mentions) > 1:
        raise UsageError()
    whose = parsed.mentions[0] if parsed.mentions else me.platform_user_id
    if whose != me.platform_user_id and not is_pm(me):
        raise deny(ctx)
    return whose


def mentioned_user(ctx: CommandContext, user_id: str) -> UserRef:
    """The mentioned user as the platform described them (the mention carries their name)."""
    return ctx.message.mentioned(user_id) or UserRef(ctx.message.platform, user_id)


def date_option(ctx: CommandContext, parsed: Args, key: str) -> date | None:
    """The date given as `key=...`, read relative to the project's today; None when absent."""
    value = parsed.options.get(key)
    return parse_date(value, today=ctx.today) if value is not None else None


_REF = re.compile(rf"([A-Za-z]?)([1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}})")


def split_args(ctx: CommandContext, args: str, parts: int) -> list[str]:
    """Normalised args split into at most `parts` pieces; the last keeps its spaces, and when it is
    the note (all `parts` given) it is kept as typed."""
    text = normalize(args)
    pieces = text.split(" ", parts - 1) if text else []
    if len(pieces) == parts:
        typed = ctx.typed(args).split(maxsplit=parts - 1)
        if len(typed) == parts and normalize(typed[-1]) == pieces[-1]:
            pieces[-1] = typed[-1]
    return pieces


def parse_ref(value: str, prefix: str) -> int:
    """`3` or `R3` (`A3` for action items, `N3` for resource requests) -> 3."""
    match = _REF.fullmatch(value)
    if match is None or match[1].upper() not in ("", prefix):
        raise UsageError("track.bad_ref", value=value, example=f"3 / {prefix}3")
    return int(match[2])
