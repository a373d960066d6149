"""Small helpers every command module shares."""

from __future__ import annotations

from datetime import date

from adapters.models import UserRef
from bot.commands.context import CommandContext
from bot.commands.parsing import Args, parse_date
from bot.services.audit import Actor


def actor_of(ctx: CommandContext) -> Actor:
    """The verified sender, as recorded in the audit log."""
    sender = ctx.message.sender
    return Actor(sender.platform, sender.user_id, sender.name, ctx.message.event_id)


def mentioned_user(ctx: CommandContext, user_id: str) -> UserRef:
    """The mentioned user as the platform described them (the mention carries their name)."""
    return ctx.message.mentioned(user_id) or UserRef(ctx.message.platform, user_id)


def date_option(ctx: CommandContext, parsed: Args, key: str) -> date | None:
    """The date given as `key=...`, read relative to the project's today; None when absent."""
    value = parsed.options.get(key)
    return parse_date(value, today=ctx.today) if value is not None else None
