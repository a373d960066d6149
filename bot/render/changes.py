"""Change request messages: what a change is in one line, its impact, the PMs' card with its
buttons, the outcome told privately, the call for a discussion, and the weekly report's lines.
The first three work on plain stored values, so the weekly report can render them from a snapshot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from adapters.models import ActionGroup, Button, Card, Text, mention_token
from bot.render.dates import short_day
from bot.render.i18n import t
from bot.render.safe import inert
from storage.models import ChangeRequest, Member, Project

if TYPE_CHECKING:
    from bot.services.changes import Impact

MAX_TEXT = 40  # characters of a scope text in one line
MAX_MOVED = 5  # downstream tasks named before "and N more"


def _day(locale: str, value: Any, today: date) -> str:
    if not value:
        return t(locale, "value.none")
    return short_day(value if isinstance(value, date) else date.fromisoformat(value), today)


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def describe(
    locale: str, kind: str, target: str, old: Mapping[str, Any], change: Mapping[str, Any], today: date
) -> str:
    """The change in one line: `2.1 截止 12-15 → 12-20`, `新增任务 2.3 …`, `范围 「…」→「…」`."""
    if kind == "task.edit":
        parts = [
            t(
                locale,
                "change.field",
                label=t(locale, f"plan.label.{field}"),
                old=_day(locale, old.get(field), today),
                new=_day(locale, change[field], today),
            )
            for field in ("start", "due")
            if field in change
        ]
        if "after" in change:
            none = t(locale, "value.none")
            parts.append(
                t(
                    locale,
                    "change.field",
                    label=t(locale, "plan.label.after"),
                    old=", ".join(old.get("after", [])) or none,
                    new=", ".join(change["after"]) or none,
                )
            )
        return t(locale, "change.what.task_edit", code=target, changes=t(locale, "plan.sep").join(parts))
    if kind == "task.add":
        return t(
            locale,
            "change.what.task_add",
            code=target,
            title=inert(change["title"]),
            start=_day(locale, change["start"], today),
            due=_day(locale, change["due"], today),
        )
    if kind == "task.delete":
        return t(locale, "change.what.task_delete", code=target, title=inert(old.get("title", "")))
    if kind == "milestone.edit":
        return t(
            locale,
            "change.what.milestone",
            number=change["number"],
            title=inert(old.get("title", "")),
            old=_day(locale, old.get("due"), today),
            new=_day(locale, change["due"], today),
        )
    return t(
        locale,
        "change.what.scope",
        label=t(locale, f"charter.label.{change['field']}"),
        old=inert(_shorten(old.get("text", ""))) or t(locale, "value.none"),
        new=inert(_shorten(change["text"])) or t(locale, "value.none"),
    )


def describe_request(locale: str, cr: ChangeRequest, today: date) -> str:
    return describe(locale, cr.kind, cr.target, cr.old, cr.change, today)


def impact_lines(locale: str, impact: Mapping[str, Any], today: date) -> list[str]:
    """The stored impact (`Impact.to_json`): tasks pushed later, milestones left behind."""
    moved = impact.get("moved", [])
    lines = [
        t(
            locale,
            "change.moved",
            code=m["code"],
            old=_day(locale, m["old"][1] or m["old"][0], today),
            new=_day(locale, m["new"][1] or m["new"][0], today),
        )
        for m in moved[:MAX_MOVED]
    ]
    if len(moved) > MAX_MOVED:
        lines.append(t(locale, "overview.more", count=len(moved) - MAX_MOVED))
    lines += [
        t(
            locale,
            "change.milestone_risk",
            number=r["number"],
            title=inert(r["title"]),
            due=_day(locale, r["due"], today),
            code=r["code"],
            ends=_day(locale, r["ends"], today),
        )
        for r in impact.get("milestones", [])
    ]
    return lines


def _name(member: Member | None, locale: str) -> str:
    # A private message names people: a mention there would not render on every platform.
    if member is None:
        return t(locale, "value.none")
    return member.display_name or member.platform_user_id


def decision_card(
    project: Project, cr: ChangeRequest, requester: Member, impact: Impact, today: date
) -> Card:
    """The PM's card: what, why, who asked, what it would move; approve / reject / discuss."""
    locale = project.locale
    effect = impact_lines(locale, impact.to_json(), today) or [t(locale, "change.no_impact")]
    body = [
        t(locale, "change.card_who", who=_name(requester, locale), baseline=cr.baseline_number),
        t(locale, "change.card_what", what=describe_request(locale, cr, today)),
        t(locale, "change.card_why", reason=inert(cr.reason) or t(locale, "value.none")),
        t(locale, "change.card_impact"),
        *effect,
    ]

    def button(word: str, style: Literal["primary", "default", "danger"] = "default") -> Button:
        return Button(
            t(locale, f"change.btn.{word}"),
            t(locale, f"change.cmd.{word}", number=cr.number),
            style,
            done=t(locale, f"change.did.{word}", number=cr.number),
            final=word != "discuss",  # after the discussion the PM still decides on the card
        )

    group = ActionGroup(
        t(locale, "change.group", number=cr.number),
        (button("approve", "primary"), button("reject", "danger"), button("discuss")),
    )
    return Card(
        t(locale, "change.card_title", number=cr.number, project=project.name),
        "\n".join(body),
        color="orange",
        actions=(group,),
    )


def outcome_message(
    project: Project, cr: ChangeRequest, decider: Member, impact: Impact, today: date
) -> Text:
    locale = project.locale
    key = "change.told_approved" if cr.status == "approved" else "change.told_rejected"
    lines = [
        t(
            locale,
            key,
            project=project.name,
            number=cr.number,
            who=_name(decider, locale),
            what=describe_request(locale, cr, today),
        )
    ]
    if cr.decision_note:
        lines.append(t(locale, "change.note", note=inert(cr.decision_note)))
    lines += impact_lines(locale, impact.to_json(), today)
    return Text("\n".join(lines))


def discuss_message(
    project: Project, cr: ChangeRequest, pm: Member, people: Sequence[Member], platform: str, today: date
) -> Text:
    """In the project's chats: who should talk it over (mentioned where the platform allows)."""
    locale = project.locale
    who = " ".join(
        mention_token(m.platform_user_id) if m.platform == platform else _name(m, locale)
        for m in [*people, pm]
    )
    return Text(
        t(locale, "change.discuss_post", number=cr.number, what=describe_request(locale, cr, today), who=who)
    )
