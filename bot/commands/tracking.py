"""Progress, blockers, risks and action items: thin handlers over bot.services.tracking."""

from __future__ import annotations

import re

from adapters.models import Card, Reply, Text
from bot.commands.common import actor_of, mentioned_user, parse_ref, split_args
from bot.commands.context import CommandContext
from bot.commands.parsing import (
    TEXT_LIMIT,
    TITLE_LIMIT,
    bounded,
    parse_args,
    parse_date,
    parse_level,
    parse_mention_list,
    parse_percent,
    parse_risk_status,
    parse_wbs_code,
)
from bot.commands.registry import Router
from bot.errors import PermissionDenied, UsageError
from bot.permissions import is_pm, require_member, require_task_updater
from bot.services import members, notify, tracking
from storage.models import Member, Risk

router = Router("tracking", title="help.section.tracking")

# `/risk R3 escalate`, `/risk R3 review` (it still stands): words in the status's place.
_ESCALATE_WORDS = frozenset({"escalate", "升级", "上报"})
_REVIEW_WORDS = frozenset({"review", "reviewed", "仍存在", "仍未缓解", "复核"})
# "80%,联调完成": a note glued to the percent with punctuation.
_GLUED_NOTE = re.compile(r"([0-9.]+%?)[,;:。；，](.*)")


def _rollup(ctx: CommandContext, change: tracking.ProgressChange) -> str:
    if not change.ancestors:
        return ""
    parts = [
        ctx.t(
            "track.rollup_phase" if ancestor.is_phase else "track.rollup_parent",
            code=ancestor.code,
            progress=ancestor.progress,
        )
        for ancestor in change.ancestors
    ]
    return ctx.t("track.rollup", parts=ctx.t("track.rollup_sep").join(parts))


def _progress_reply(ctx: CommandContext, change: tracking.ProgressChange) -> list[Reply]:
    task = change.task
    if change.progress >= 100:
        key = "track.progress_done"
    elif change.progress < change.previous:
        key = "track.progress_down"
    elif change.progress == change.previous:
        key = "track.progress_same"
    else:
        key = "track.progress_up"
    lines = [
        ctx.t(
            key,
            code=task.code,
            title=task.title,
            before=change.previous,
            after=change.progress,
            rollup=_rollup(ctx, change),
        )
    ]
    if change.open_blockers and change.progress >= 100:
        lines.append(ctx.t("track.blockers_still_open", code=task.code, count=change.open_blockers))
    elif change.open_blockers:
        lines.append(ctx.t("track.still_blocked", code=task.code, count=change.open_blockers))
    return [Text("\n".join(lines))]


@router.command("progress", "进度", usage="usage.progress", summary="summary.progress", who="who.updater")
async def progress(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parts = split_args(ctx, args, 3)
    if not parts:
        raise UsageError()
    if len(parts) < 2:
        raise UsageError("arg.missing", name=ctx.t("track.field.percent"))
    code, percent = parse_wbs_code(parts[0]), parts[1]
    note = parts[2] if len(parts) > 2 else ""
    if note == "%" or note.startswith("% "):  # "80 %"
        percent, note = percent + "%", note[1:].strip()
    if glued := _GLUED_NOTE.fullmatch(percent):
        percent, note = glued[1], f"{glued[2]} {note}".strip()
    value = parse_percent(percent)
    bounded(note, TEXT_LIMIT)
    task = await tracking.task_by_code(ctx.session, project.id, code)
    author = await require_task_updater(ctx, task)
    change = await tracking.set_progress(
        session=ctx.session,
        task=task,
        progress=value,
        note=note,
        author=author,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    return _progress_reply(ctx, change)


@router.command("done", "完成", usage="usage.done", summary="summary.done", who="who.updater")
async def done(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parts = split_args(ctx, args, 2)
    if not parts:
        raise UsageError()
    code = parse_wbs_code(parts[0])
    note = bounded(parts[1] if len(parts) > 1 else "", TEXT_LIMIT)
    task = await tracking.task_by_code(ctx.session, project.id, code)
    author = await require_task_updater(ctx, task)
    if task.progress >= 100:
        return [Text(ctx.t("track.already_done", code=task.code, title=task.title))]
    change = await tracking.set_progress(
        session=ctx.session,
        task=task,
        progress=100,
        note=note,
        author=author,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    return _progress_reply(ctx, change)


@router.command(
    "blocker", "卡点", "阻塞", usage="usage.blocker", summary="summary.blocker", who="who.updater"
)
async def blocker(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parts = split_args(ctx, args, 2)
    if not parts:
        raise UsageError()
    code = parse_wbs_code(parts[0])
    if len(parts) < 2:
        raise UsageError("arg.missing", name=ctx.t("track.field.blocker_text"))
    bounded(parts[1], TEXT_LIMIT)
    task = await tracking.task_by_code(ctx.session, project.id, code)
    author = await require_task_updater(ctx, task)
    opened = await tracking.open_blocker(
        session=ctx.session, task=task, text=parts[1], author=author, actor=actor_of(ctx), now=ctx.now
    )
    lines = [ctx.t("track.blocker_opened", code=task.code, title=task.title, text=parts[1])]
    if opened.helpers:
        who = " ".join(members.mention(member) for member in opened.helpers)
        lines.append(ctx.t("track.blocker_help", who=who))
    lines.append(ctx.t("track.blocker_next", code=task.code))
    return [Text("\n".join(lines))]


@router.command(
    "blocker clear",
    "卡点 解除",
    "阻塞 解除",
    usage="usage.blocker_clear",
    summary="summary.blocker_clear",
    who="who.updater",
)
async def blocker_clear(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parts = split_args(ctx, args, 2)
    if len(parts) != 1:
        raise UsageError()
    task = await tracking.task_by_code(ctx.session, project.id, parse_wbs_code(parts[0]))
    author = await require_task_updater(ctx, task)
    count = await tracking.clear_blockers(
        session=ctx.session, task=task, author=author, actor=actor_of(ctx), now=ctx.now
    )
    status = ctx.t(f"track.task_status.{task.status}")
    return [
        Text(ctx.t("track.blockers_cleared", code=task.code, title=task.title, count=count, status=status))
    ]


def _owner_or_pm(ctx: CommandContext, owner_member_id: int | None, who: str) -> Member:
    actor = ctx.actor
    if actor is None or not (is_pm(actor) or owner_member_id == actor.id):
        raise PermissionDenied(who)
    return actor


async def _mentioned_member(ctx: CommandContext, user_id: str) -> Member:
    return await members.ensure(
        session=ctx.session,
        project=ctx.require_project(),
        user=mentioned_user(ctx, user_id),
        actor=actor_of(ctx),
        now=ctx.now,
    )


@router.command(
    "risk add", "风险 添加", "风险 新增", usage="usage.risk_add", summary="summary.risk_add", who="who.member"
)
async def risk_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"mitigation", "owner"}, max_positional=1)
    if not parsed.positional:
        raise UsageError()
    level = parse_level(parsed.positional[0])
    if not parsed.rest:
        raise UsageError("arg.missing", name=ctx.t("track.field.description"))
    bounded(parsed.rest, TEXT_LIMIT)
    bounded(parsed.options.get("mitigation", ""), TEXT_LIMIT)
    owner_ids = parse_mention_list(parsed.options["owner"]) if "owner" in parsed.options else parsed.mentions
    if len(owner_ids) > 1 or ("owner" in parsed.options and parsed.mentions):
        raise UsageError("track.one_owner")
    author = await require_member(ctx)
    owner = await _mentioned_member(ctx, owner_ids[0]) if owner_ids else author
    mitigation = parsed.options.get("mitigation", "")
    risk = await tracking.add_risk(
        session=ctx.session,
        project_id=project.id,
        level=level,
        description=parsed.rest,
        owner=owner,
        mitigation=mitigation,
        author=author,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    text = ctx.t(
        "track.risk_added",
        number=risk.number,
        level=ctx.t(f"track.level.{level}"),
        description=risk.description,
        owner=members.mention(owner),
        mitigation=ctx.t("track.risk_mitigation", mitigation=mitigation) if mitigation else "",
    )
    return [Text(text)]


@router.command(
    "risk", "风险", usage="usage.risk_status", summary="summary.risk_status", who="who.risk_status"
)
async def risk_status(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parts = split_args(ctx, args, 3)
    if len(parts) < 2:
        raise UsageError()
    number = parse_ref(parts[0], "R")
    note = bounded(parts[2] if len(parts) > 2 else "", TEXT_LIMIT)
    word = parts[1].lower()
    if word in _ESCALATE_WORDS:
        return await _escalate(ctx, await tracking.risk_by_number(ctx.session, project.id, number), note)
    if word in _REVIEW_WORDS:
        return await _review(ctx, await tracking.risk_by_number(ctx.session, project.id, number), note)
    status = parse_risk_status(parts[1])
    risk = await tracking.risk_by_number(ctx.session, project.id, number)
    author = _owner_or_pm(ctx, risk.owner_member_id, "who.risk_owner")
    previous = await tracking.set_risk_status(
        session=ctx.session,
        risk=risk,
        status=status,
        note=note,
        author=author,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    text = ctx.t(
        "track.risk_changed",
        number=risk.number,
        level=ctx.t(f"track.level.{risk.level}"),
        before=ctx.t(f"track.risk_status.{previous}"),
        after=ctx.t(f"track.risk_status.{status}"),
    )
    return [Text(text)]


async def _review(ctx: CommandContext, risk: Risk, note: str) -> list[Reply]:
    author = _owner_or_pm(ctx, risk.owner_member_id, "who.risk_owner")
    await tracking.review_risk(
        session=ctx.session, risk=risk, note=note, author=author, actor=actor_of(ctx), now=ctx.now
    )
    text = ctx.t(
        "cards.risk_reviewed",
        number=risk.number,
        level=ctx.t(f"track.level.{risk.level}"),
        status=ctx.t(f"track.risk_status.{risk.status}"),
    )
    return [Text(text)]


def _shown(member: Member, platform: str) -> str:
    """A mention where the member can be mentioned (their platform's chats), else their name."""
    return members.mention(member) if member.platform == platform else member.display_name


async def _escalate(ctx: CommandContext, risk: Risk, note: str) -> list[Reply]:
    """Anyone in the project may raise the alarm: it only raises the level to high and tells the
    owner and the PMs, here and in the project's other chats; it is audited like any change."""
    project = ctx.require_project()
    author = await require_member(ctx)
    previous = await tracking.escalate_risk(
        session=ctx.session, risk=risk, note=note, actor=actor_of(ctx), now=ctx.now
    )
    owner = await ctx.session.get(Member, risk.owner_member_id) if risk.owner_member_id else None
    people = [*await members.pms(ctx.session, project.id), *([owner] if owner else [])]
    told = {member.id: member for member in people if member.id != author.id}

    def attention(platform: str) -> list[str]:
        who = [members.mention(member) for member in told.values() if member.platform == platform]
        return [ctx.t("cards.risk_attention", who=" ".join(who))] if who else []

    def notice(platform: str) -> Reply:
        body = ctx.t(
            "cards.escalation_body",
            actor=_shown(author, platform),
            number=risk.number,
            level=ctx.t("track.level.high"),
            description=risk.description,
            owner=_shown(owner, platform) if owner else ctx.t("value.none"),
        )
        title = ctx.t("cards.escalation_title", project=project.name)
        return Card(title, "\n".join([body, *attention(platform)]), color="red")

    here = ctx.message
    await notify.post_to_project_chats(
        session=ctx.session,
        project_id=project.id,
        build=notice,
        key=f"risk-escalate:{here.platform}:{here.event_id}",
        now=ctx.now,
        skip=(here.platform, here.chat.chat_id),
    )
    key = "cards.risk_escalated_high" if previous == "high" else "cards.risk_escalated"
    line = ctx.t(
        key,
        number=risk.number,
        before=ctx.t(f"track.level.{previous}"),
        after=ctx.t("track.level.high"),
        description=risk.description,
    )
    return [Text("\n".join([line, *attention(here.platform)]))]


@router.command(
    "action add",
    "行动 添加",
    "行动 新增",
    usage="usage.action_add",
    summary="summary.action_add",
    who="who.member",
)
async def action_add(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"meeting"}, max_positional=1)
    if len(parsed.mentions) > 1:
        raise UsageError("track.one_owner")
    if not parsed.mentions:
        raise UsageError("arg.missing", name=ctx.t("track.field.owner"))
    if not parsed.positional:
        raise UsageError("arg.missing", name=ctx.t("track.field.due"))
    due = parse_date(parsed.positional[0], today=ctx.today)
    if not parsed.rest:
        raise UsageError("arg.missing", name=ctx.t("track.field.action_text"))
    bounded(parsed.rest, TEXT_LIMIT)
    bounded(parsed.options.get("meeting", ""), TITLE_LIMIT)
    author = await require_member(ctx)
    owner = await _mentioned_member(ctx, parsed.mentions[0])
    meeting = parsed.options.get("meeting", "")
    item = await tracking.add_action(
        session=ctx.session,
        project_id=project.id,
        owner=owner,
        due=due,
        text=parsed.rest,
        meeting=meeting,
        author=author,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    text = ctx.t(
        "track.action_added",
        number=item.number,
        text=item.text,
        owner=members.mention(owner),
        due=due.isoformat(),
        meeting=ctx.t("track.action_meeting", meeting=meeting) if meeting else "",
    )
    return [Text(text)]


@router.command(
    "action done",
    "行动 完成",
    usage="usage.action_done",
    summary="summary.action_done",
    who="who.action_owner",
)
async def action_done(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parts = split_args(ctx, args, 2)
    if len(parts) != 1:
        raise UsageError()
    item = await tracking.action_by_number(ctx.session, project.id, parse_ref(parts[0], "A"))
    _owner_or_pm(ctx, item.owner_member_id, "who.action_owner")
    await tracking.complete_action(session=ctx.session, item=item, actor=actor_of(ctx), now=ctx.now)
    return [Text(ctx.t("track.action_done", number=item.number, text=item.text))]


@router.command(
    "action", "行动", usage="usage.action", summary="summary.action", who="who.member", listed=False
)
async def action(ctx: CommandContext, args: str) -> list[Reply]:
    """`/action` alone or with an unknown sub-command: the usage of the real ones."""
    raise UsageError()
