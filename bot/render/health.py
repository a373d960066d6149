"""A project's overall state in words: the state and, kept apart, the facts behind it."""

from __future__ import annotations

from bot.domain.schedule import Outlook
from bot.render.i18n import t


def outlook_facts(locale: str, view: Outlook) -> str:
    """` · 落后计划 12 个百分点 · 3 个任务逾期`: how far from plan (behind or ahead, from 1 point) and
    what is overdue, each on its own, so "behind" is never said of a project ahead of plan."""
    if view.state == "done":
        return ""
    facts = []
    if view.gap >= 1:
        facts.append(t(locale, "overview.behind", points=view.gap))
    elif view.gap <= -1:
        facts.append(t(locale, "overview.ahead", points=-view.gap))
    if view.overdue:
        facts.append(t(locale, "overview.overdue", count=view.overdue))
    if view.missed:
        facts.append(t(locale, "overview.missed", count=view.missed))
    if view.past_end:
        facts.append(t(locale, "overview.past_end"))
    return "".join(f" · {fact}" for fact in facts)
