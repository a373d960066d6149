"""Read-only views: /status, /mytasks, /risks, /actions, /overdue, /dept <name>; and /nudge, a
reminder sent from a view. Short cards for a phone screen."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

from adapters.models import MENTION_TOKEN, Card, Reply, Text
from bot.commands import plan as plan_commands
from bot.commands.common import actor_of, mentioned_user
from bot.commands.context import CommandContext
from bot.commands.paging import page, page_number
from bot.commands.parsing import TEXT_LIMIT, bounded, normalize, parse_mention
from bot.commands.registry import LIST_WORDS, Router
from bot.domain import views
from bot.domain.snapshot import ActionRec
from bot.errors import UsageError, UserFacingError
from bot.permissions import acting, require_pm_or_their_head
from bot.render.baseline import due_against_baseline, summary_line
from bot.render.health import outlook_facts
from bot.render.report import card_color
from bot.services import members, nudges, plan, snapshot, tracking
from storage.models import ActionItem, Member

router = Router("overview", title="help.section.overview")

MAX_PHASES = 5
MAX_LATE = 3
MAX_CRITICAL = 8
MAX_LIST = 15
_STATE_MARK = {"on_track": "🟢", "at_risk": "🟡", "late": "🔴", "done": "✅"}
_LEVEL_MARK = {"high": "🔴", "medium": "🟠", "low": "🟡"}
_ALL = ("all", "全部", "所有")


def _day(value: date, today: date) -> str:
    """`11-20` within the current year, the full date otherwise."""
    return value.strftime("%m-%d") if value.year == today.year else value.isoformat()


def _who(ctx: CommandContext, people: Sequence[members.Mentionable]) -> str:
    return " ".join(members.mention(member) for member in people) or ctx.t("value.none")


def _more(ctx: CommandContext, lines: list[str], hidden: int) -> None:
    if hidden > 0:
        lines.append(ctx.t("overview.more", count=hidden))


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wants_all(args: str) -> bool:
    text = normalize(args).lower()
    if text and text not in _ALL:
        raise UsageError()
    return bool(text)


@router.command("status", "状态", usage="usage.status", summary="summary.status", who="who.anyone")
async def status(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    if normalize(args):
        raise UsageError()
    today = ctx.today
    snap = await snapshot.load(ctx.session, project)
    # Pure and proportional to the plan: off the event loop, which serves every chat meanwhile.
    view = await asyncio.to_thread(views.overview, snap, today)
    against = snap.slips
    title = ctx.t("overview.title", name=project.name, date=_day(today, today))
    if view.task_count == 0:
        return [Card(title, ctx.t("overview.no_tasks"), color="grey")]
    state = view.outlook.state
    lines = [
        ctx.t(
            "overview.overall",
            mark=_STATE_MARK[state],
            actual=view.actual,
            expected=view.expected,
            state=ctx.t(f"overview.state.{state}"),
            facts=outlook_facts(ctx.locale, view.outlook),
        )
    ]
    if against is not None:
        lines.append(summary_line(ctx.locale, against))

    # Unfinished phases win the limited rows; shown rows stay in WBS order.
    shown = sorted(sorted(view.phases, key=lambda p: p.done)[:MAX_PHASES], key=lambda p: view.phases.index(p))
    for phase in shown:
        phase_mark = "✅" if phase.done else _STATE_MARK[phase.state]
        lines.append(
            ctx.t(
                "overview.phase",
                mark=phase_mark,
                code=phase.code,
                title=_shorten(phase.title, 20) + ("" if phase.dated else ctx.t("overview.no_dates")),
                actual=phase.actual,
                expected=phase.expected,
            )
        )
    _more(ctx, lines, len(view.phases) - len(shown))

    if view.late:
        lines.append(ctx.t("overview.late_header", count=len(view.late)))
        for task in view.late[:MAX_LATE]:
            lines.append(
                ctx.t(
                    "overview.late_item",
                    code=task.code,
                    title=_shorten(task.title, 20),
                    due=due_against_baseline(ctx.locale, task.due, against.due_moved("task", task.id), today)
                    if against
                    else _day(task.due, today),
                    days=(today - task.due).days,
                    owners=_who(ctx, task.owners),
                )
            )
        _more(ctx, lines, len(view.late) - MAX_LATE)
    if critical := view.critical:
        path = " → ".join(critical[:MAX_CRITICAL]) + (" …" if len(critical) > MAX_CRITICAL else "")
        lines.append(ctx.t("overview.critical", codes=path))
    if view.open_blockers:
        codes = ctx.t("track.list_sep").join(view.blocked_codes[:5])
        codes += " …" if len(view.blocked_codes) > 5 else ""
        lines.append(ctx.t("overview.blockers", count=view.open_blockers, codes=codes))
    if view.open_risks:
        levels = " · ".join(
            ctx.t("overview.risk_level", level=ctx.t(f"track.level.{level}"), count=count)
            for level, count in view.open_risks.items()
        )
        lines.append(ctx.t("overview.risks", count=sum(view.open_risks.values()), levels=levels))
    if not view.open_blockers and not view.open_risks:
        lines.append(ctx.t("overview.all_clear"))
    if (milestone := view.next_milestone) is not None:
        days = (milestone.due_date - today).days
        key = (
            "overview.milestone"
            if days > 0
            else "overview.milestone_today"
            if days == 0
            else "overview.milestone_overdue"
        )
        lines.append(
            ctx.t(
                key,
                number=milestone.number,
                title=_shorten(milestone.title, 20),
                due=_day(milestone.due_date, today),
                days=abs(days),
            )
        )
    return [Card(title, "\n".join(lines), color=card_color(state))]


@router.command(
    "mytasks",
    "我的任务",
    usage="usage.mytasks_of",
    summary="summary.mytasks",
    who="who.pm_or_their_head_view",
)
async def my_tasks(ctx: CommandContext, args: str) -> list[Reply]:
    """One's own open work, or with `@someone` theirs (for a PM or the head of their department)."""
    if normalize(args):
        member = await _member_named(ctx, args)
        if member.id != (ctx.actor.id if ctx.actor else None):
            await require_pm_or_their_head(ctx, member)
            return await _work_card(ctx, member, mine=False)
    if ctx.actor is None:
        return [Text(ctx.t("overview.mine_empty"))]
    return await _work_card(ctx, ctx.actor, mine=True)


async def _member_named(ctx: CommandContext, args: str) -> Member:
    """The project member `args` mentions (one mention and nothing else)."""
    user_id = parse_mention(args)
    if user_id is None:
        raise UsageError()
    member = await members.by_user(ctx.session, ctx.require_project().id, ctx.message.platform, user_id)
    if member is None:
        raise UserFacingError("views.not_member", who=mentioned_user(ctx, user_id).name or user_id)
    return member


async def _work_card(ctx: CommandContext, member: Member, *, mine: bool) -> list[Reply]:
    work = views.my_work(await snapshot.load(ctx.session, ctx.require_project()), member.id)
    who = members.mention(member)
    if not work.tasks and not work.actions:
        return [Text(ctx.t("overview.mine_empty") if mine else ctx.t("views.their_empty", who=who))]
    today = ctx.today
    lines = [] if mine else [ctx.t("views.their_owner", who=who)]
    for task in work.tasks[:MAX_LIST]:
        if task.due_date is not None and task.due_date < today:
            key, mark = "overview.mine_task_late", "🔴"
        else:
            key, mark = "overview.mine_task", "⛔" if task.status == "blocked" else "•"
        due = _day(task.due_date, today) if task.due_date else ctx.t("overview.no_due")
        days = (today - task.due_date).days if task.due_date else 0
        dateless = task.start_date is None and task.due_date is None
        title = task.title + (ctx.t("overview.no_dates") if dateless else "")
        lines.append(
            ctx.t(key, mark=mark, code=task.code, title=title, progress=task.progress, due=due, days=days)
        )
    _more(ctx, lines, len(work.tasks) - MAX_LIST)
    if work.actions:
        lines.append(ctx.t("overview.mine_actions"))
        lines += [_action_line(ctx, item, None, today) for item in work.actions[:MAX_LIST]]
        _more(ctx, lines, len(work.actions) - MAX_LIST)
    if not mine:
        lines.append(ctx.t("views.their_next", who=who))
    elif work.tasks:
        lines.append(ctx.t("overview.mine_next"))
    key = "overview.mine_title" if mine else "views.their_title"
    return [Card(ctx.t(key, tasks=len(work.tasks), actions=len(work.actions)), "\n".join(lines))]


@router.command("risks", "风险列表", usage="usage.risks", summary="summary.risks", who="who.anyone")
async def risks(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    include_closed = _wants_all(args)
    found = await tracking.risk_list(
        session=ctx.session, project_id=project.id, include_closed=include_closed
    )
    open_count = sum(risk.status != "closed" for risk in found)
    if not found:
        return [Text(ctx.t("overview.risks_empty"))]
    people = await tracking.members_by_id(ctx.session, (risk.owner_member_id for risk in found))
    lines = []
    for risk in found[:MAX_LIST]:
        owner = people.get(risk.owner_member_id) if risk.owner_member_id else None
        lines.append(
            ctx.t(
                "overview.risk_line",
                mark="⚪" if risk.status == "closed" else _LEVEL_MARK.get(risk.level, "•"),
                number=risk.number,
                level=ctx.t(f"track.level.{risk.level}"),
                status=ctx.t(f"track.risk_status.{risk.status}"),
                description=_shorten(risk.description),
                owner=members.mention(owner) if owner else ctx.t("value.none"),
            )
        )
    _more(ctx, lines, len(found) - MAX_LIST)
    if open_count and not include_closed:
        lines.append(ctx.t("overview.risks_next"))
    return [Card(ctx.t("overview.risks_title", count=open_count), "\n".join(lines), color="orange")]


def _action_line(ctx: CommandContext, item: ActionItem | ActionRec, owner: Member | None, today: date) -> str:
    who = f" · {members.mention(owner)}" if owner else ""
    if item.status == "done":
        return ctx.t("overview.action_done_line", number=item.number, text=_shorten(item.text), who=who)
    if item.due_date is not None and item.due_date < today:
        return ctx.t(
            "overview.action_late_line",
            number=item.number,
            text=_shorten(item.text),
            who=who,
            due=_day(item.due_date, today),
            days=(today - item.due_date).days,
        )
    due = _day(item.due_date, today) if item.due_date else ctx.t("overview.no_due")
    return ctx.t("overview.action_line", number=item.number, text=_shorten(item.text), who=who, due=due)


@router.command("actions", "行动项", usage="usage.actions", summary="summary.actions", who="who.anyone")
async def actions(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    include_done = _wants_all(args)
    found = await tracking.action_list(session=ctx.session, project_id=project.id, include_done=include_done)
    if not found:
        return [Text(ctx.t("overview.actions_empty"))]
    people = await tracking.members_by_id(ctx.session, (item.owner_member_id for item in found))
    today = ctx.today
    lines = [
        _action_line(ctx, item, people.get(item.owner_member_id) if item.owner_member_id else None, today)
        for item in found[:MAX_LIST]
    ]
    _more(ctx, lines, len(found) - MAX_LIST)
    open_count = sum(item.status == "open" for item in found)
    return [Card(ctx.t("overview.actions_title", count=open_count), "\n".join(lines))]


# --- views a PM asks for: late work by department, one department, a nudge -------------------------


def _late(ctx: CommandContext, workdays: int) -> str:
    # Due on a Friday and looked at on Sunday: late, though no workday has passed yet.
    return ctx.t("views.late_workdays", days=workdays) if workdays else ctx.t("views.late_today")


def _late_line(ctx: CommandContext, work: views.LateWork, today: date) -> str:
    params = {
        "code": work.code,
        "title": _shorten(work.title),
        "late": _late(ctx, work.workdays),
        "due": _day(work.due, today),
        "owners": _who(ctx, work.owners),
    }
    if work.progress is None:
        return ctx.t("views.late_action", **params)
    return ctx.t("views.late_task", progress=work.progress, **params)


@router.command("overdue", "逾期", usage="usage.overdue", summary="summary.overdue", who="who.anyone")
async def overdue(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    number = page_number(args)
    today = ctx.today
    snap = await snapshot.load(ctx.session, project)
    found = await asyncio.to_thread(views.late_work, snap, today)
    if not found:
        return [Text(ctx.t("views.overdue_none"))]
    known = {dept.id for dept in snap.departments}
    groups = [
        (dept.name, [work for work in found if work.department_id == dept.id]) for dept in snap.departments
    ]
    groups.append((ctx.t("views.no_department"), [work for work in found if work.department_id not in known]))
    lines: list[str] = []
    for name, items in groups:
        if items:
            lines.append(ctx.t("views.overdue_group", dept=name, count=len(items)))
            lines += [_late_line(ctx, work, today) for work in items]
    title = ctx.t("views.overdue_title", count=len(found), date=_day(today, today))
    return [Card(title, "\n".join(page(ctx, lines, number, usage_key="usage.overdue")), color="red")]


async def dept_view(ctx: CommandContext, args: str) -> list[Reply]:
    """`/部门 研发` (also `/部门 查看 研发`): one department's tasks, progress, blockers and late items."""
    project = ctx.require_project()
    name = ctx.typed(args)  # department names are stored as typed
    word, _, rest = name.partition(" ")
    if normalize(word).lower() in LIST_WORDS and rest.strip():
        name = rest.strip()
    try:
        department = await plan.resolve_department(ctx.session, project.id, name)
    except UserFacingError as unknown:
        # Perhaps a mistyped sub-command (`/部门 删除 研发`): the usage line too.
        raise UsageError(unknown.key, **unknown.params) from None
    today = ctx.today
    snap = await snapshot.load(ctx.session, project)
    view = await asyncio.to_thread(views.department_view, snap, department.id, today)
    head = snap.member_by_id.get(department.head_member_id or 0)
    lines = [ctx.t("views.dept_head", who=_who(ctx, [head] if head else []))]
    if not view.tasks:
        lines.append(ctx.t("views.dept_no_tasks"))
    else:
        lines.append(ctx.t("views.dept_progress", actual=view.actual, expected=view.expected))
    for row in view.tasks:
        eff, task = row.rolled, row.task
        params = {"code": task.code, "title": _shorten(task.title, 20), "progress": eff.progress}
        owners = _who(ctx, row.owners)
        if eff.status == "done":
            lines.append(ctx.t("views.dept_task_done", **params))
        elif row.workdays_late is not None and eff.due is not None:
            late = _late(ctx, row.workdays_late)
            lines.append(
                ctx.t("views.dept_task_late", late=late, due=_day(eff.due, today), owners=owners, **params)
            )
        else:
            mark = "⛔" if eff.status == "blocked" else "•"
            due = _day(eff.due, today) if eff.due else ctx.t("overview.no_due")
            lines.append(ctx.t("views.dept_task", mark=mark, due=due, owners=owners, **params))
    if view.blockers:
        lines.append(ctx.t("views.dept_blockers", count=len(view.blockers)))
        lines += [ctx.t("views.dept_blocker", code=code, text=_shorten(b.text)) for code, b in view.blockers]
    if view.late_actions:
        lines.append(ctx.t("views.dept_late_actions", count=len(view.late_actions)))
        lines += [_late_line(ctx, work, today) for work in view.late_actions]
    title = ctx.t("views.dept_title", name=department.name, date=_day(today, today))
    return [Card(title, "\n".join(lines))]


# `/部门` alone or with a list word lists the departments; with a department's name it shows it.
router.group_word(
    "dept", "部门", usage="usage.dept", summary="summary.dept", lister=plan_commands.depts, show=dept_view
)


@router.command("nudge", "提醒", usage="usage.nudge", summary="summary.nudge", who="who.joined")
async def nudge(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    sender = acting(ctx)
    typed = ctx.typed(args)
    mention = MENTION_TOKEN.match(typed)
    text = typed[mention.end() :].strip() if mention else ""
    if mention is None or not text:
        raise UsageError("arg.missing", name=ctx.t("views.nudge_missing"))
    recipient = await _member_named(ctx, mention[0])
    text = bounded(text, TEXT_LIMIT)
    message = Text(
        ctx.t("views.nudge_message", sender=members.mention(sender), project=project.name, text=text)
    )
    count = await nudges.send(
        session=ctx.session,
        sender=sender,
        recipient=recipient,
        text=text,
        message=message,
        today=ctx.today,
        tz=ctx.tz,
        actor=actor_of(ctx),
        now=ctx.now,
    )
    who = members.mention(recipient)
    return [Text(ctx.t("views.nudge_sent", who=who, count=count, limit=nudges.PER_DAY))]
