"""Progress, blockers, risks and action items: thin handlers over bot.services.tracking."""

from __future__ import annotations

import re

from adapters.models import Card, Reply, Text
from bot.commands.common import actor_of, mentioned_user, parse_ref, split_args
from bot.commands.context import CommandContext
from bot.commands.paging import PAGE_LINES
from bot.commands.parsing import (
    TEXT_LIMIT,
    TITLE_LIMIT,
    Args,
    bounded,
    parse_args,
    parse_date,
    parse_level,
    parse_mention_list,
    parse_percent,
    parse_risk_status,
    parse_wbs_code,
)
from bot.commands.plan import change_lines
from bot.commands.registry import Router
from bot.errors import UsageError
from bot.permissions import acting, require_member, require_owner_or_pm, require_task_updater
from bot.render.dates import short_day
from bot.services import members, notify, tracking
from bot.services.plan import Change
from storage.models import ActionItem, Member, Risk

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


async def _mentioned_member(ctx: CommandContext, user_id: str) -> Member:
    return await members.ensure(
        session=ctx.session,
        project=ctx.require_project(),
        user=mentioned_user(ctx, user_id),
        actor=actor_of(ctx),
        now=ctx.now,
    )


def _one_owner(parsed: Args) -> str | None:
    """The new owner's id, given as `@x` or `owner=@x`; None when no one is named."""
    owner_ids = parse_mention_list(parsed.options["owner"]) if "owner" in parsed.options else parsed.mentions
    if len(owner_ids) > 1 or ("owner" in parsed.options and parsed.mentions):
        raise UsageError("track.one_owner")
    return owner_ids[0] if owner_ids else None


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
    owner_id = _one_owner(parsed)
    author = acting(ctx)
    owner = await _mentioned_member(ctx, owner_id) if owner_id else author
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
    if not parts:
        raise UsageError()
    number = parse_ref(parts[0], "R")
    if len(parts) == 1:
        return await _risk_card(ctx, await tracking.risk_by_number(ctx.session, project.id, number))
    note = bounded(parts[2] if len(parts) > 2 else "", TEXT_LIMIT)
    word = parts[1].lower()
    if word in _ESCALATE_WORDS:
        return await _escalate(ctx, await tracking.risk_by_number(ctx.session, project.id, number), note)
    if word in _REVIEW_WORDS:
        return await _review(ctx, await tracking.risk_by_number(ctx.session, project.id, number), note)
    status = parse_risk_status(parts[1])
    risk = await tracking.risk_by_number(ctx.session, project.id, number)
    author = require_owner_or_pm(ctx, risk.owner_member_id)
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
    author = require_owner_or_pm(ctx, risk.owner_member_id)
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
    author = acting(ctx)
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


async def _own_action(ctx: CommandContext, args: str) -> ActionItem:
    """The action item named by `args` alone (`A3`), once the sender may change it."""
    project = ctx.require_project()
    parts = split_args(ctx, args, 2)
    if len(parts) != 1:
        raise UsageError()
    item = await tracking.action_by_number(ctx.session, project.id, parse_ref(parts[0], "A"))
    require_owner_or_pm(ctx, item.owner_member_id)
    return item


@router.command(
    "action done",
    "行动 完成",
    usage="usage.action_done",
    summary="summary.action_done",
    who="who.action_owner",
)
async def action_done(ctx: CommandContext, args: str) -> list[Reply]:
    item = await _own_action(ctx, args)
    await tracking.complete_action(session=ctx.session, item=item, actor=actor_of(ctx), now=ctx.now)
    return [Text(ctx.t("track.action_done", number=item.number, text=item.text))]


@router.command(
    "action", "行动", usage="usage.action", summary="summary.action", who="who.member", listed=False
)
async def action(ctx: CommandContext, args: str) -> list[Reply]:
    """`/action` alone or with an unknown sub-command: the usage of the real ones."""
    raise UsageError()


# --- corrections: action items and risks edited, deleted, reopened; a risk's history ----------------


def _new_text(ctx: CommandContext, parsed: Args, field: str) -> str | None:
    """The new text, as `text=…` or typed after the id (not both); None to keep it."""
    text = parsed.options.get("text")
    if parsed.rest:
        if text is not None:
            raise UsageError()
        text = parsed.rest
    if text is not None and not text:
        raise UsageError("arg.missing", name=ctx.t(field))
    return bounded(text, TEXT_LIMIT) if text is not None else None


def _edited(ctx: CommandContext, header: str, code: str, changes: list[Change]) -> list[Reply]:
    if not changes:
        return [Text(ctx.t("plan.no_changes", code=code))]
    return [Text("\n".join([header, *change_lines(ctx, changes)]))]


@router.command(
    "action edit",
    "行动 修改",
    "行动 编辑",
    usage="usage.action_edit",
    summary="summary.action_edit",
    who="who.action_owner",
)
async def action_edit(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"text", "due", "owner"}, max_positional=1)
    if not parsed.positional:
        raise UsageError()
    number = parse_ref(parsed.positional[0], "A")
    text = _new_text(ctx, parsed, "track.field.action_text")
    raw_due = parsed.options.get("due")
    due = parse_date(raw_due, today=ctx.today) if raw_due is not None else None
    owner_id = _one_owner(parsed)
    if text is None and due is None and owner_id is None:
        raise UsageError("plan.nothing_to_change")
    item = await tracking.action_by_number(ctx.session, project.id, number)
    require_owner_or_pm(ctx, item.owner_member_id)
    changes = await tracking.edit_action(
        session=ctx.session,
        item=item,
        text=text,
        due=due,
        owner=await _mentioned_member(ctx, owner_id) if owner_id else None,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    header = ctx.t("track.action_edited", number=item.number, text=item.text)
    return _edited(ctx, header, f"A{item.number}", changes)


@router.command(
    "action delete",
    "行动 删除",
    "action remove",
    usage="usage.action_delete",
    summary="summary.action_delete",
    who="who.action_owner",
)
async def action_delete(ctx: CommandContext, args: str) -> list[Reply]:
    item = await _own_action(ctx, args)
    number, text = item.number, item.text
    await tracking.delete_action(session=ctx.session, item=item, actor=actor_of(ctx), now=ctx.now)
    return [Text(ctx.t("track.action_deleted", number=number, text=text))]


@router.command(
    "action reopen",
    "行动 重开",
    "行动 重新打开",
    usage="usage.action_reopen",
    summary="summary.action_reopen",
    who="who.action_owner",
)
async def action_reopen(ctx: CommandContext, args: str) -> list[Reply]:
    item = await _own_action(ctx, args)
    await tracking.reopen_action(session=ctx.session, item=item, actor=actor_of(ctx), now=ctx.now)
    due = short_day(item.due_date, ctx.today) if item.due_date else ctx.t("value.none")
    return [Text(ctx.t("track.action_reopened", number=item.number, text=item.text, due=due))]


@router.command(
    "risk edit",
    "风险 修改",
    "风险 编辑",
    usage="usage.risk_edit",
    summary="summary.risk_edit",
    who="who.risk_owner",
)
async def risk_edit(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    parsed = parse_args(ctx.typed(args), options={"level", "owner", "text", "mitigation"}, max_positional=1)
    if not parsed.positional:
        raise UsageError()
    number = parse_ref(parsed.positional[0], "R")
    level = parse_level(parsed.options["level"]) if "level" in parsed.options else None
    description = _new_text(ctx, parsed, "track.field.description")
    mitigation = parsed.options.get("mitigation")
    if mitigation is not None:
        bounded(mitigation, TEXT_LIMIT)
    owner_id = _one_owner(parsed)
    if level is None and description is None and mitigation is None and owner_id is None:
        raise UsageError("track.risk_nothing_to_change")
    risk = await tracking.risk_by_number(ctx.session, project.id, number)
    require_owner_or_pm(ctx, risk.owner_member_id)
    changes = await tracking.edit_risk(
        session=ctx.session,
        risk=risk,
        level=level,
        owner=await _mentioned_member(ctx, owner_id) if owner_id else None,
        description=description,
        mitigation=mitigation,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    header = ctx.t("track.risk_edited", number=risk.number, level=ctx.t(f"track.level.{risk.level}"))
    return _edited(ctx, header, f"R{risk.number}", changes)


# Audited risk columns -> their label (plan.label.*); the long texts show only their new value.
_HISTORY_FIELDS = {
    "status": "status",
    "level": "level",
    "owner_member_id": "owner",
    "description": "text",
    "mitigation": "mitigation",
}
_LONG_FIELDS = frozenset({"description", "mitigation"})


def _history_kind(action: str) -> str:
    if action.endswith(".undo"):
        return "undo"
    return {"status": "status", "risk.escalate": "escalate", "risk.review": "review"}.get(action, "edit")


def _history_line(ctx: CommandContext, entry: tracking.RiskHistoryEntry, people: dict[int, Member]) -> str:
    def shown(field: str, value: object) -> str:
        if value is None or value == "":
            return ctx.t("value.none")
        if field == "level":
            return ctx.t(f"track.level.{value}")
        if field == "status":
            return ctx.t(f"track.risk_status.{value}")
        if field == "owner_member_id":
            owner = people.get(value) if isinstance(value, int) else None
            return tracking.name_of(owner) or ctx.t("value.none")
        return str(value)

    kind = _history_kind(entry.action)
    if kind == "status" and entry.before.get("status") is None:
        kind = "added"
    parts = []
    for field, label in _HISTORY_FIELDS.items():
        old, new = entry.before.get(field), entry.after.get(field)
        if field not in entry.after or old == new or kind == "added":
            continue
        key = "track.history_set" if field in _LONG_FIELDS and new else "track.history_change"
        parts.append(
            ctx.t(key, field=ctx.t(f"plan.label.{label}"), old=shown(field, old), new=shown(field, new))
        )
    changes = ctx.t("track.history_sep").join(parts)
    if kind == "status":
        what = changes
    elif parts:
        what = ctx.t("track.history_what", kind=ctx.t(f"track.history.{kind}"), changes=changes)
    else:
        what = ctx.t(f"track.history.{kind}")
    return ctx.t(
        "track.history_line",
        date=short_day(entry.at.astimezone(ctx.tz).date(), ctx.today),
        who=entry.who or ctx.t("value.none"),
        what=what,
        note=ctx.t("track.history_note", note=entry.note) if entry.note else "",
    )


async def _risk_card(ctx: CommandContext, risk: Risk) -> list[Reply]:
    """One risk and everything that happened to it, oldest first; the newest fit one phone screen."""
    history = await tracking.risk_history(ctx.session, risk)
    ids = [
        value
        for entry in history
        for picture in (entry.before, entry.after)
        if isinstance(value := picture.get("owner_member_id"), int)
    ]
    people = await tracking.members_by_id(ctx.session, [risk.owner_member_id, *ids])
    owner = people.get(risk.owner_member_id or 0)
    lines = [
        risk.description,
        ctx.t("track.risk_card_owner", owner=tracking.name_of(owner) or ctx.t("value.none")),
    ]
    if risk.mitigation:
        lines.append(ctx.t("track.risk_card_mitigation", mitigation=risk.mitigation))
    lines.append(ctx.t("track.risk_card_history"))
    hidden = max(0, len(history) - PAGE_LINES)
    if hidden:
        lines.append(ctx.t("track.risk_card_earlier", count=hidden))
    lines += [_history_line(ctx, entry, people) for entry in history[hidden:]]
    title = ctx.t(
        "track.risk_card_title",
        number=risk.number,
        level=ctx.t(f"track.level.{risk.level}"),
        status=ctx.t(f"track.risk_status.{risk.status}"),
    )
    alarming = risk.level == "high" and risk.status != "closed"
    return [Card(title, "\n".join(lines), color="red" if alarming else "blue")]
