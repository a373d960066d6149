"""Dates shown against the baseline: `12-18（基线 12-15，+3 个工作日）`, and the one-line summary."""

from __future__ import annotations

from datetime import date

from bot.domain.baseline import Moved, Slips
from bot.render.dates import short_day
from bot.render.i18n import t


def slip_words(locale: str, workdays: int) -> str:
    if workdays > 0:
        return t(locale, "baseline.slip_later", n=workdays)
    if workdays < 0:
        return t(locale, "baseline.slip_earlier", n=-workdays)
    return t(locale, "baseline.slip_none")


def due_against_baseline(locale: str, due: date, moved: Moved | None, today: date) -> str:
    """The due date, with the baseline's and the slip when it moved."""
    shown = short_day(due, today)
    if moved is None or moved.then is None or moved.then.due is None:
        return shown
    then = short_day(moved.then.due, today)
    return t(locale, "baseline.due_vs", due=shown, then=then, slip=slip_words(locale, moved.slip))


def summary_line(locale: str, slips: Slips) -> str:
    """📐 against baseline N: the plan end's slip and how many items moved."""
    if not slips.moved:
        return t(locale, "baseline.summary_same", number=slips.number)
    return t(
        locale,
        "baseline.summary",
        number=slips.number,
        slip=slip_words(locale, slips.overall),
        count=len(slips.moved),
    )
