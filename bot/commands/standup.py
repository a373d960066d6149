"""/standup and free-text standup replies.

A reply is understood from `/standup <text>` anywhere (from any member, open tasks or not), from a
reply to a standup message the bot sent, and from free text in a 1:1 chat with the bot: any text
after a private prompt that day (also when the sender's tasks were all finished since), else text
that reads as a standup or says "same as yesterday" from someone with open tasks. Anything else that
is no command stays "unknown command" (the fallback raises NotHandled)."""

from __future__ import annotations

import unicodedata

from adapters.models import Reply, Text
from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.commands.parsing import STANDUP_LIMIT, bounded, clean
from bot.commands.registry import CommandSpec, Router
from bot.domain.standup import StandupParse, parse_standup, same_as_before
from bot.errors import NotHandled, PermissionDenied, UserFacingError
from bot.jobs.standup import prompt_card, short_date
from bot.permissions import acting, require_member, require_task_updater
from bot.render.needs import routed_line
from bot.services import standups, tasks, tracking
from bot.services.standups import Recorded
from storage.models import Member, Task

router = Router("standup", title="help.section.standup")

MAX_SHOWN = 80  # characters of a section echoed back


def _raw_args(ctx: CommandContext, args: str) -> str:
    """The arguments as typed, line breaks included (the dispatcher's `args` is one normalised line,
    and lines matter to a standup): the message text after the command word."""
    text = clean(ctx.message.text).lstrip()
    if text.startswith(("/", "／")):
        text = text[1:].lstrip()
    # The command word came out of NFKC normalisation, which keeps the length of every character of it.
    word = text[: len(ctx.invoked_as)]
    if unicodedata.normalize("NFKC", word).lower() != ctx.invoked_as.lower():
        return args
    return text[len(word) :].strip()


@router.command("standup", "站会", usage="usage.standup", summary="summary.standup", who="who.member")
async def standup(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    member = acting(ctx)
    text = bounded(_raw_args(ctx, args), STANDUP_LIMIT)
    if text:
        return await _answer(ctx, member, text)
    mine = (await standups.open_tasks(ctx.session, project.id)).get(member.id)
    if not mine:
        return [Text(ctx.t("standup.no_tasks"))]
    return [prompt_card(ctx.locale, mine, ctx.today, project.standup_cutoff)]


async def free_text(ctx: CommandContext, args: str) -> list[Reply]:
    """The registry's fallback for text that is no command."""
    project, message = ctx.project, ctx.message
    if project is None or args.startswith("/"):
        raise NotHandled
    text = _raw_args(ctx, args)
    replied = message.reply_to is not None and await standups.is_standup_message(
        ctx.session, message.platform, message.reply_to
    )
    if replied:
        return await _answer(ctx, await require_member(ctx), bounded(text, STANDUP_LIMIT))
    member = ctx.actor
    if message.chat.chat_type != "p2p" or member is None:
        raise NotHandled
    if await standups.was_prompted(ctx.session, project.id, member, ctx.today):
        return await _answer(ctx, member, bounded(text, STANDUP_LIMIT))  # any reply is the answer
    # Unprompted, free text is a standup only from someone who owes one, and only if it reads as one.
    if not (await standups.open_tasks(ctx.session, project.id)).get(member.id):
        raise NotHandled
    text = bounded(text, STANDUP_LIMIT)
    if same_as_before(text):
        return await _same(ctx, member, text)
    parse = await _parse(ctx, text)
    if not parse.recognised:
        raise NotHandled
    return await _record(ctx, member, text, parse)


FREE_TEXT = CommandSpec(
    "standup reply",
    (),
    free_text,
    usage_key="usage.standup",
    summary_key="summary.standup",
    who="who.member",
    needs_project=False,  # without a project it is simply not a standup: "unknown command"
    listed=False,
)


async def _answer(ctx: CommandContext, member: Member, text: str) -> list[Reply]:
    if same_as_before(text):
        return await _same(ctx, member, text)
    return await _record(ctx, member, text, await _parse(ctx, text))


async def _parse(ctx: CommandContext, text: str) -> StandupParse:
    project = ctx.require_project()
    codes = [task.code for task in await tasks.ordered(ctx.session, project.id)]
    # Titles are matched among the sender's own open tasks only.
    own = (await standups.open_tasks(ctx.session, project.id)).get(ctx.actor.id, ()) if ctx.actor else ()
    return parse_standup(text, codes, {task.code: task.title for task in own})


async def _store(ctx: CommandContext, member: Member, text: str, parse: StandupParse) -> Recorded:
    async def can_update(task: Task) -> bool:  # the same rule as /progress and /blocker
        try:
            await require_task_updater(ctx, task)
        except PermissionDenied:
            return False
        return True

    return await standups.record(
        session=ctx.session,
        project=ctx.require_project(),
        member=member,
        day=ctx.today,
        text=text,
        parse=parse,
        can_update=can_update,
        actor=actor_of(ctx),
        now=ctx.now,
    )


async def _record(ctx: CommandContext, member: Member, text: str, parse: StandupParse) -> list[Reply]:
    recorded = await _store(ctx, member, text, parse)
    understood = parse.recognised or bool(parse.unread or parse.no_such_task)
    return [Text(_confirmation(ctx, recorded, understood=understood))]


async def _same(ctx: CommandContext, member: Member, text: str) -> list[Reply]:
    """ "同上" / "same as yesterday": the last report's plan is done and still the plan; no % is set
    and no blocker opened or cleared. Nothing to repeat: ask for the three answers, store nothing."""
    project = ctx.require_project()
    found = await standups.carried(ctx.session, project.id, member.id, ctx.today)
    if found is None:
        raise UserFacingError("standup.same_nothing")
    since, plan = found
    recorded = await _store(
        ctx, member, text, StandupParse(yesterday=plan, today=plan, labels=frozenset({"yesterday", "today"}))
    )
    mine = {task.id: task for task in (await standups.open_tasks(ctx.session, project.id)).get(member.id, ())}
    still_open = await tracking.open_blockers(ctx.session, list(mine))
    lines = _sections(ctx, recorded)
    lines.insert(1, ctx.t("standup.same", date=short_date(since)))
    lines.append(ctx.t("standup.same_blockers" if still_open else "standup.same_no_blockers"))
    for blocker in still_open:
        task = mine[blocker.task_id]
        lines.append(
            ctx.t("standup.same_blocker", code=task.code, title=task.title, text=_shown(blocker.text))
        )
    lines.append(ctx.t("standup.correct"))
    return [Text("\n".join(lines))]


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _sections(ctx: CommandContext, recorded: Recorded) -> list[str]:
    """The first lines of a confirmation: recorded or amended, then the day's three answers."""
    day = recorded.day
    lines = [ctx.t("standup.amended" if recorded.amended else "standup.recorded", date=short_date(ctx.today))]
    if day.yesterday:
        lines.append(ctx.t("standup.line_yesterday", text=_shown(day.yesterday)))
    if day.today:
        lines.append(ctx.t("standup.line_today", text=_shown(day.today)))
    if day.blockers or day.no_blocker:
        lines.append(ctx.t("standup.line_blockers", text=_shown(day.blockers) or ctx.t("standup.none")))
    return lines


def _confirmation(ctx: CommandContext, recorded: Recorded, *, understood: bool) -> str:
    """What was understood, so that the person can correct it, and what was not applied and why."""
    lines = _sections(ctx, recorded)
    for change in recorded.changes:
        task = change.task
        if change.progress >= 100:
            key = "standup.change_done"
        else:
            key = "standup.change_same" if change.progress == change.previous else "standup.change"
        lines.append(
            ctx.t(key, code=task.code, title=task.title, before=change.previous, after=change.progress)
        )
    for task, what in recorded.opened:
        lines.append(ctx.t("standup.opened", code=task.code, title=task.title, text=_shown(what)))
    if recorded.need is not None:
        lines += [
            ctx.t("need.said", text=_shown(recorded.need.request.text)),
            routed_line(ctx.locale, recorded.need),
        ]
    said = dict.fromkeys(ctx.t(refusal.key, **refusal.params) for refusal in recorded.refused)
    lines += [ctx.t("standup.refused", text=text) for text in said]
    if not understood:
        lines.append(ctx.t("standup.no_task_named"))
    lines.append(ctx.t("standup.correct"))
    return "\n".join(lines)
