"""/charter: view and edit the project charter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from adapters.models import Card, Reply, Text
from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.commands.parsing import CHARTER_LIMIT, bounded, clean, normalize, parse_date
from bot.commands.registry import Router
from bot.errors import UsageError
from bot.permissions import is_pm, require_pm
from bot.services import plan
from storage.models import Project

router = Router("charter", title="help.section.charter")

# What people type -> the charter field (services.plan.CHARTER_FIELDS).
FIELD_WORDS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("background", "bg", "背景"), "background"),
        **dict.fromkeys(("goal", "goals", "smart", "目标"), "goal"),
        **dict.fromkeys(("deliverables", "deliverable", "交付", "交付物", "成果"), "deliverables"),
        **dict.fromkeys(
            ("scope-in", "scope_in", "scopein", "in-scope", "scope", "范围", "范围内"), "scope_in"
        ),
        **dict.fromkeys(
            ("scope-out", "scope_out", "scopeout", "out-of-scope", "不包含", "范围外", "不在范围"),
            "scope_out",
        ),
        **dict.fromkeys(("start", "开始", "开始日期"), "start"),
        **dict.fromkeys(("end", "结束", "结束日期"), "end"),
    }
)
TEXT_CLEAR = frozenset({"-", "清空", "clear"})  # "无" stays text: "不包含：无" is a statement
DATE_CLEAR = TEXT_CLEAR | {"无", "none"}
_FIELD_AND_TEXT = re.compile(r"([^\s:=]+)\s*[:=]?\s*(.*)", re.DOTALL)
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}


def _unquote(text: str) -> str:
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def _as_typed(ctx: CommandContext, word: str, text: str) -> str:
    """`text` as the sender typed it: the dispatcher's NFKC turns "，" into "," and joins lines, which
    a charter should keep. Falls back to `text` when the original cannot be found unambiguously."""
    raw = clean(ctx.message.text)
    at = raw.find(word)
    if at < 0:
        return text
    typed = _unquote(raw[at + len(word) :].strip().lstrip(":：=").strip())
    return typed if normalize(typed) == normalize(text) else text


def _date_text(ctx: CommandContext, value: date | None) -> str:
    return value.isoformat() if value else ctx.t("value.unset")


def _field_value(ctx: CommandContext, project: Project, field: str) -> str:
    """The field's value, or "not set" with the command that sets it."""
    if field in plan.CHARTER_DATE_FIELDS:
        value = project.start_date if field == "start" else project.end_date
        return (
            _date_text(ctx, value)
            if value
            else ctx.t("charter.unset_hint", word=ctx.t(f"charter.word.{field}"))
        )
    text = getattr(project, field)
    return text or ctx.t("charter.unset_hint", word=ctx.t(f"charter.word.{field}"))


def charter_card(ctx: CommandContext, project: Project) -> Card:
    lines = [
        ctx.t("charter.line", label=ctx.t(f"charter.label.{field}"), value=_field_value(ctx, project, field))
        for field in plan.CHARTER_TEXT_FIELDS
    ]
    if project.start_date or project.end_date:
        dates = ctx.t(
            "charter.dates_value",
            start=_date_text(ctx, project.start_date),
            end=_date_text(ctx, project.end_date),
        )
    else:
        dates = ctx.t("charter.dates_unset")
    lines.append(ctx.t("charter.line", label=ctx.t("charter.label.dates"), value=dates))
    if is_pm(ctx.actor):
        lines += ["", ctx.t("charter.footer")]
    return Card(ctx.t("charter.title", name=project.name), "\n".join(lines))


@router.command(
    "charter", "章程", usage="usage.charter", summary="summary.charter", who="who.view_anyone_edit_pm"
)
async def charter(ctx: CommandContext, args: str) -> list[Reply]:
    project = ctx.require_project()
    if not args:
        return [charter_card(ctx, project)]
    match = _FIELD_AND_TEXT.fullmatch(args.strip())
    assert match is not None  # args is non-empty and stripped
    word, text = match[1], _unquote(match[2].strip())
    field = FIELD_WORDS.get(word.lower())
    if field is None:
        raise UsageError("charter.unknown_field", field=word)
    label = ctx.t(f"charter.label.{field}")
    if not text:
        return [Text(ctx.t("charter.line", label=label, value=_field_value(ctx, project, field)))]
    require_pm(ctx)
    value: str | date | None
    if field in plan.CHARTER_DATE_FIELDS:
        value = None if text.lower() in DATE_CLEAR else parse_date(text, today=ctx.today)
    else:
        value = "" if text.lower() in TEXT_CLEAR else bounded(_as_typed(ctx, word, text), CHARTER_LIMIT)
    await plan.update_charter(
        session=ctx.session, project=project, field=field, value=value, actor=actor_of(ctx), now=ctx.now
    )
    if field in plan.CHARTER_DATE_FIELDS:
        reply = ctx.t(
            "charter.dates_updated",
            start=_date_text(ctx, project.start_date),
            end=_date_text(ctx, project.end_date),
        )
    elif value:
        reply = ctx.t("charter.updated", label=label, value=value)
    else:
        reply = ctx.t("charter.cleared", label=label)
    return [Text(reply)]
