"""Long lists answer one page at a time, so one command sends at most a couple of messages."""

from __future__ import annotations

from math import ceil

from bot.commands.context import CommandContext
from bot.commands.parsing import MAX_ID_DIGITS, normalize
from bot.errors import UsageError, UserFacingError

PAGE_LINES = 30  # what a phone shows in a screen or two, and well inside one platform message


def page_number(args: str) -> int:
    """`/tasks` is page 1, `/tasks 2` page 2; anything else gives the usage line."""
    text = normalize(args)
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS or int(text) < 1:
        raise UsageError()
    return int(text)


def page(ctx: CommandContext, lines: list[str], number: int, *, usage_key: str) -> list[str]:
    """Page `number` of `lines`, with a footer naming the next page's command when there is more."""
    pages = max(1, ceil(len(lines) / PAGE_LINES))
    if number > pages:
        raise UserFacingError("paging.no_such_page", page=number, pages=pages)
    shown = lines[(number - 1) * PAGE_LINES : number * PAGE_LINES]
    if pages > 1:
        command = ctx.t(usage_key).split(" ", 1)[0]  # the list command as this language spells it
        key = "paging.more" if number < pages else "paging.last"
        shown += ["", ctx.t(key, page=number, pages=pages, next=f"{command} {number + 1}")]
    return shown
