"""Daily risk scan: alert rules and escalation by the RACI.

Runs on workdays after the standup cutoff (scheduler/jobs.py). Noise budget: each person gets at
most one private digest a day, listing only what is new for them or got worse (or was escalated);
each bound chat gets at most one risk digest a day summing up those findings, and none when there
is nothing new. With alerts switched off nothing is sent and every open alert ends, so each starts
again from its owner once they are back on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Set
from datetime import date

from adapters.models import ActionGroup, Card
from bot.domain import alerts as rules
from bot.domain.snapshot import MemberRec
from bot.jobs.context import JobContext, Recipient
from bot.render import actions
from bot.services import alerts as alert_service
from bot.services import members
from bot.services.alerts import Tracked

MAX_ITEMS = 8  # findings listed in one private digest
MAX_GROUP_ITEMS = 5  # findings listed in the group digest (all are counted)
MAX_TEXT = 40  # characters of a title, a blocker or a risk shown in a line


async def scan(ctx: JobContext) -> None:
    today = ctx.business_date
    if not ctx.calendar.is_workday(today):
        return  # nobody is chased on a rest day: a run forced on one changes nothing
    if not ctx.project.alerts_enabled:
        await alert_service.resolve_all(ctx.session, ctx.project.id, today)
        return
    loaded = await alert_service.load(ctx.session, ctx.project, today, ctx.calendar)
    findings = rules.assess(loaded.snapshot, today, ctx.calendar)
    tracked = await alert_service.track(ctx.session, ctx.project.id, findings, today, ctx.calendar)
    heads = {task.code: task.department_head for task in loaded.snapshot.tasks}
    # Nobody is chased on leave: their findings wait until they are back, and escalation (A, head,
    # PMs after 2 and 4 workdays) reaches someone who can act meanwhile.
    away = {member.id for member in loaded.snapshot.members if today in member.on_leave}
    news = [item for item in tracked if item.tell]
    told = await _send_digests(ctx, news, loaded.people, heads, away)
    for item in told:
        alert_service.mark_told(item, today)
    if told:
        card = _group_digest(ctx, told, loaded.people)
        for chat in loaded.chats:
            await ctx.send(Recipient(chat.platform, chat.chat_id, "chat"), card)


def _order(item: Tracked) -> tuple[int, int]:
    """Rule by rule (overdue tasks first), the worst first; ties keep the rules' order (WBS order)."""
    return rules.RULES.index(item.finding.rule), -item.finding.severity


async def _send_digests(
    ctx: JobContext,
    news: list[Tracked],
    people: Mapping[int, MemberRec],
    heads: Mapping[str, int | None],
    away: Set[int],
) -> list[Tracked]:
    """One private digest per person not `away` (on leave); returns the findings at least one digest
    carried. A finding whose every reader already had today's digest (a forced re-run) stays untold
    for tomorrow. `heads` maps task codes to the head of the task's department."""
    by_person: dict[int, list[Tracked]] = {}
    for item in news:
        for member_id in item.finding.audience(item.stage):
            if member_id not in away:
                by_person.setdefault(member_id, []).append(item)
    told: set[Tracked] = set()
    for member_id, items in sorted(by_person.items()):
        member = people[member_id]
        items.sort(key=_order)
        recipient = Recipient(member.platform, member.platform_user_id, "user")
        if await ctx.send(recipient, _digest(ctx, member_id, items, people, heads)):
            told.update(items)
    return [item for item in news if item in told]


def _digest(
    ctx: JobContext,
    reader: int,
    items: list[Tracked],
    people: Mapping[int, MemberRec],
    heads: Mapping[str, int | None],
) -> Card:
    shown = items[:MAX_ITEMS]
    lines = [_line(ctx, item, reader, people) for item in shown]
    if len(items) > MAX_ITEMS:
        lines.append(ctx.t("alerts.more", count=len(items) - MAX_ITEMS))
    groups = (_actions(ctx, people[reader], item.finding, heads) for item in shown)
    return Card(
        ctx.t("alerts.dm_title", project=ctx.project.name, count=len(items)),
        "\n\n".join(lines),
        "red" if any(item.stage > 0 for item in items) else "orange",
        actions=tuple(group for group in groups if group is not None),
    )


def _actions(
    ctx: JobContext, reader: MemberRec, finding: rules.Finding, heads: Mapping[str, int | None]
) -> ActionGroup | None:
    """The buttons this reader may use on a finding, by the rules of the commands they send."""
    locale, pm = ctx.project.locale, reader.role == "pm"
    owner = reader.id in finding.owners
    params = finding.params
    if finding.rule in ("task_overdue", "task_behind"):
        code = str(params["code"])
        can_reschedule = pm or heads.get(code) == reader.id
        title = _shorten(str(params["title"]))
        return actions.task_group(locale, code, title, owner=owner, can_reschedule=can_reschedule)
    number = params.get("number")
    if finding.rule == "risk_stale" and isinstance(number, int):
        return actions.risk_group(locale, number, may_update=pm or owner)
    if finding.rule == "action_overdue" and isinstance(number, int) and (pm or owner):
        return actions.action_item_group(locale, number)
    return None


def _line(ctx: JobContext, item: Tracked, reader: int, people: Mapping[int, MemberRec]) -> str:
    """The reason, then the one thing this reader should do: the owner acts, the others follow up."""
    finding = item.finding
    params = _params(ctx, finding, people)
    if reader in finding.owners:
        action = ctx.t(f"alerts.do.{finding.rule}", **params)
    elif finding.owners:
        action = ctx.t("alerts.do.follow_up", owners=_mentions(finding.owners, people))
    else:
        action = ctx.t("alerts.do.assign")
    return f"{_reason(ctx, item, people)}\n{action}"


def _reason(ctx: JobContext, item: Tracked, people: Mapping[int, MemberRec]) -> str:
    """Why it alerts, and for how long it has gone unresolved once that escalates it."""
    reason = ctx.t(f"alerts.reason.{item.finding.rule}", **_params(ctx, item.finding, people))
    if item.finding.critical:
        reason += ctx.t("alerts.critical")
    if item.unresolved >= rules.ESCALATE_AFTER[0]:
        reason += ctx.t("alerts.unresolved", days=item.unresolved)
    return reason


def _group_digest(ctx: JobContext, told: list[Tracked], people: Mapping[int, MemberRec]) -> Card:
    counts = Counter(item.finding.rule for item in told)
    parts = " · ".join(
        ctx.t("alerts.group_part", rule=ctx.t(f"alerts.rule.{rule}"), count=counts[rule])
        for rule in rules.RULES
        if counts[rule]
    )
    lines = [ctx.t("alerts.group_counts", count=len(told), parts=parts)]
    # Findings about a person (missed standups) are counted, not named, in front of the group.
    listed = [
        item
        for item in sorted(told, key=_order)
        if not any(isinstance(value, rules.Person) for value in item.finding.params.values())
    ]
    lines += [_reason(ctx, item, people) for item in listed[:MAX_GROUP_ITEMS]]
    if len(listed) > MAX_GROUP_ITEMS:
        lines.append(ctx.t("alerts.more", count=len(listed) - MAX_GROUP_ITEMS))
    lines.append(ctx.t("alerts.group_next"))
    today = ctx.business_date
    return Card(
        ctx.t("alerts.group_title", project=ctx.project.name, date=_day(today, today)),
        "\n".join(lines),
        "red" if any(item.stage > 0 for item in told) else "orange",
    )


def _params(ctx: JobContext, finding: rules.Finding, people: Mapping[int, MemberRec]) -> dict[str, object]:
    """A finding's reason parameters as the reader sees them: mentions, short dates, short texts."""
    shown: dict[str, object] = {}
    for name, value in finding.params.items():
        if isinstance(value, rules.Person):
            shown[name] = members.mention(people[value.member_id])
        elif isinstance(value, date):
            shown[name] = _day(value, ctx.business_date)
        elif isinstance(value, tuple):
            shown[name] = ctx.t("alerts.list_sep").join(value)
        elif isinstance(value, str):
            shown[name] = _shorten(value)
        else:
            shown[name] = value
    if finding.rule == "risk_stale":
        shown["level"] = ctx.t(f"track.level.{finding.params['level']}")
    return shown


def _mentions(ids: Iterable[int], people: Mapping[int, MemberRec]) -> str:
    return " ".join(members.mention(people[member_id]) for member_id in ids)


def _day(value: date, today: date) -> str:
    """`12-03` within the current year, the full date otherwise."""
    return value.strftime("%m-%d") if value.year == today.year else value.isoformat()


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
