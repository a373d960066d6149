"""Daily standup jobs: prompt, remind, summarise. Each runs for one project and business day; all
do nothing on a day off (a forced run included), and `ctx.send` keys make re-runs send nothing new.

standup_mode "dm": the prompt and the reminder are private messages to each person; "group": one
card in each bound chat that @mentions them. The summary always goes to the bound chats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from adapters.models import Card
from bot.domain import wbs
from bot.jobs.context import JobContext, Recipient
from bot.render.actions import standup_group
from bot.render.i18n import t
from bot.render.needs import request_line
from bot.services import members, projects, resources, standups, tasks, tracking
from storage.models import Member, StandupReport, Task

MAX_TASKS = 6  # per person in a prompt; the rest are counted
MAX_TEXT = 80  # characters of a blocker shown in the summary
MAX_NEEDS = 8  # open resource requests listed in the summary; the rest are counted


def short_date(day: date) -> str:
    return day.strftime("%m-%d")


def task_lines(locale: str, open_tasks: Sequence[Task], today: date) -> list[str]:
    """One line per open task (code, title, %, due date; late ones marked), at most MAX_TASKS."""
    lines = []
    for task in open_tasks[:MAX_TASKS]:
        fields = {"code": task.code, "title": task.title, "progress": task.progress}
        if task.due_date is not None and task.due_date < today:
            days = (today - task.due_date).days
            lines.append(t(locale, "standup.task_late", **fields, days=days, due=short_date(task.due_date)))
            continue
        due = (
            t(locale, "standup.due", date=short_date(task.due_date))
            if task.due_date
            else t(locale, "standup.no_due")
        )
        mark = "⛔" if task.status == "blocked" else "•"
        lines.append(t(locale, "standup.task", **fields, mark=mark, due=due))
    if len(open_tasks) > MAX_TASKS:
        lines.append(t(locale, "standup.more", count=len(open_tasks) - MAX_TASKS))
    return lines


def prompt_card(locale: str, open_tasks: Sequence[Task], today: date, cutoff: str) -> Card:
    """One person's prompt: their open tasks and the three questions, with a % picker per task
    (the tasks shown) so that a reply can take one tap."""
    body = [
        t(locale, "standup.prompt_tasks", count=len(open_tasks)),
        *task_lines(locale, open_tasks, today),
        "",
        t(locale, "standup.questions", cutoff=cutoff),
    ]
    return Card(
        t(locale, "standup.prompt_title", date=short_date(today)),
        "\n".join(body),
        actions=(standup_group(locale, open_tasks[:MAX_TASKS]),),
    )


def _mentions(people: Iterable[Member]) -> str:
    return " ".join(members.mention(member) for member in people)


def _private(member: Member) -> Recipient:
    return Recipient(member.platform, member.platform_user_id, "user")


async def _roster(ctx: JobContext) -> standups.Roster | None:
    """Who owes a standup today; None on a day off."""
    if not ctx.calendar.is_workday(ctx.business_date):
        return None
    return await standups.roster(ctx.session, ctx.project.id, ctx.business_date)


async def _chats(ctx: JobContext, people: Sequence[Member]) -> list[tuple[Recipient, list[Member]]]:
    """Each bound chat with the people who can be @mentioned there (same platform), if any."""
    found = []
    for chat in await projects.chats(ctx.session, ctx.project.id):
        present = [member for member in people if member.platform == chat.platform]
        if present:
            found.append((Recipient(chat.platform, chat.chat_id), present))
    return found


async def _reported(ctx: JobContext) -> dict[int, StandupReport]:
    reports = await standups.reports_on(ctx.session, ctx.project.id, ctx.business_date)
    return {report.member_id: report for report in reports}


async def prompt(ctx: JobContext) -> None:
    roster = await _roster(ctx)
    if roster is None:
        return
    locale, today, cutoff = ctx.project.locale, ctx.business_date, ctx.project.standup_cutoff
    if ctx.project.standup_mode == "dm":
        for member in roster.members:
            await ctx.send(_private(member), prompt_card(locale, roster.tasks[member.id], today, cutoff))
        return
    title = ctx.t("standup.prompt_title", date=short_date(today))
    for chat, present in await _chats(ctx, roster.members):
        body: list[str] = []
        for member in present:
            body.append(ctx.t("standup.group_person", who=members.mention(member)))
            body += task_lines(locale, roster.tasks[member.id], today)
        body += ["", ctx.t("standup.group_how", cutoff=cutoff)]
        await ctx.send(chat, Card(title, "\n".join(body)))


async def remind(ctx: JobContext) -> None:
    """One reminder, only to those who owe today's standup and have not answered yet."""
    roster = await _roster(ctx)
    if roster is None:
        return
    reported = await _reported(ctx)
    pending = [member for member in roster.members if member.id not in reported]
    locale, today, cutoff = ctx.project.locale, ctx.business_date, ctx.project.standup_cutoff
    title = ctx.t("standup.remind_title", date=short_date(today))
    if ctx.project.standup_mode == "dm":
        for member in pending:
            open_tasks = roster.tasks[member.id]
            body = "\n".join(
                [ctx.t("standup.remind_body", cutoff=cutoff), "", *task_lines(locale, open_tasks, today)]
            )
            form = standup_group(locale, open_tasks[:MAX_TASKS])
            await ctx.send(_private(member), Card(title, body, color="orange", actions=(form,)))
        return
    for chat, present in await _chats(ctx, pending):
        body = ctx.t("standup.remind_group", who=_mentions(present), cutoff=cutoff)
        await ctx.send(chat, Card(title, body, color="orange"))


async def summary(ctx: JobContext) -> None:
    """At the cutoff, to every bound chat: who reported, what changed, new blockers, who is missing
    (people on leave are listed as away, not missing). Nothing when nobody owed a standup today."""
    roster = await _roster(ctx)
    if roster is None:
        return
    reported = await _reported(ctx)
    if not roster.members and not reported:
        return
    people = await tracking.members_by_id(ctx.session, reported)
    reporters = [people[member_id] for member_id in reported if member_id in people]
    missing = [member for member in roster.members if member.id not in reported]
    away = [member for member in roster.away if member.id not in reported]
    total = len(reporters) + len(missing)
    lines = [
        ctx.t("standup.summary_reported", count=len(reporters), total=total, who=_mentions(reporters))
        if reporters
        else ctx.t("standup.summary_nobody", total=total)
    ]
    titles = {task.code: task.title for task in await tasks.ordered(ctx.session, ctx.project.id)}
    lines += _changes(ctx, reported.values(), titles)
    blockers = await _blockers(ctx, reporters, reported)
    lines += blockers
    needs = await _needs(ctx)
    lines += needs
    if missing:
        lines.append(ctx.t("standup.summary_missing", count=len(missing), who=_mentions(missing)))
    else:
        lines.append(ctx.t("standup.summary_all_in"))
    if away:
        lines.append(ctx.t("standup.summary_away", who=_mentions(away)))
    title = ctx.t("standup.summary_title", date=short_date(ctx.business_date))
    card = Card(title, "\n".join(lines), color="orange" if missing or blockers or needs else "green")
    for chat in await projects.chats(ctx.session, ctx.project.id):
        await ctx.send(Recipient(chat.platform, chat.chat_id), card)


def _changes(ctx: JobContext, reports: Iterable[StandupReport], titles: dict[str, str]) -> list[str]:
    """Per task, from its first to its latest % of today's standup replies (unchanged ones left out)."""
    moved: dict[str, tuple[int, int]] = {}
    for report in reports:
        for code, (before, after) in report.parsed.get("changes", {}).items():
            if before != after:
                moved[code] = (before, after)
    if not moved:
        return []
    return [ctx.t("standup.summary_changes")] + [
        ctx.t("standup.summary_change", code=code, title=titles.get(code, ""), before=before, after=after)
        for code, (before, after) in sorted(moved.items(), key=lambda item: wbs.code_key(item[0]))
    ]


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


async def _blockers(
    ctx: JobContext, reporters: Sequence[Member], reported: dict[int, StandupReport]
) -> list[str]:
    """New blockers: those raised this business day (by a reply, /blocker or a card) and still open,
    then what a reply said blocks it without naming a task. Older open ones are only counted."""
    day = ctx.business_date
    found = await tracking.day_blockers(
        session=ctx.session,
        project_id=ctx.project.id,
        since=datetime.combine(day, time(), tzinfo=ctx.tz),
        until=datetime.combine(day + timedelta(days=1), time(), tzinfo=ctx.tz),
    )
    lines = [
        ctx.t(
            "standup.summary_blocker",
            code=blocker.code,
            title=blocker.title,
            text=_short(blocker.text),
            who=members.mention(blocker.raised_by) if blocker.raised_by else ctx.t("value.none"),
        )
        for blocker in found.raised
    ]
    for member in reporters:
        parsed = reported[member.id].parsed
        if not parsed.get("blocked") and parsed.get("blockers"):
            who = members.mention(member)
            lines.append(ctx.t("standup.summary_blocker_free", who=who, text=_short(parsed["blockers"])))
    older = [ctx.t("standup.summary_older_blockers", count=found.older)] if found.older else []
    return ([ctx.t("standup.summary_blockers"), *lines] if lines else []) + older


async def _needs(ctx: JobContext) -> list[str]:
    """Resource requests still open, whenever raised: listed every day until someone handles them."""
    items = await resources.listed(ctx.session, ctx.project.id)
    if not items:
        return []
    locale, today = ctx.project.locale, ctx.business_date
    lines = [request_line(locale, item, today, ctx.calendar) for item in items[:MAX_NEEDS]]
    if len(items) > MAX_NEEDS:
        lines.append(ctx.t("standup.more", count=len(items) - MAX_NEEDS))
    return [ctx.t("need.summary_header"), *lines]
