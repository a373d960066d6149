"""Participation and timeliness in words: the weekly report's standups and a line per department."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.participation import DepartmentRates, Rates
from bot.render.i18n import t


def percent(part: int, whole: int) -> int:
    return part * 100 // whole


def _share(locale: str, key: str, part: int, whole: int) -> str:
    return t(locale, key, part=part, whole=whole, rate=percent(part, whole))


def reply_time(locale: str, minutes: int) -> str:
    if minutes < 60:
        return t(locale, "participation.minutes", n=minutes)
    return t(locale, "participation.hours", h=minutes // 60, m=minutes % 60)


def figures(locale: str, rates: Rates) -> list[str]:
    """What there is to say of these figures: standups answered and how fast, tasks on time and how
    late the others were; a part with nothing behind it is left out."""
    parts = []
    if rates.asked:
        parts.append(_share(locale, "participation.standups", rates.answered, rates.asked))
    if rates.median_reply_minutes is not None:
        parts.append(t(locale, "participation.reply", time=reply_time(locale, rates.median_reply_minutes)))
    if rates.due:
        parts.append(_share(locale, "participation.on_time", rates.on_time, rates.due))
    if rates.late_days_avg is not None:
        days = round(rates.late_days_avg, 1)
        parts.append(t(locale, "participation.late", days=int(days) if days.is_integer() else days))
    return parts


def report_section(
    locale: str, *, reported: int, expected: int, missing: str, departments: Sequence[DepartmentRates]
) -> list[str]:
    """The weekly report's section: the week's standups (with `missing`, who missed most, already
    worded), then one line per department with something to say. Without a named department the
    lines are left out: the standup line covers everyone, and late tasks are listed by name above."""
    lines = []
    if expected:
        rate = percent(reported, expected)
        lines.append(
            t(locale, "report.standups", reported=reported, expected=expected, rate=rate, missing=missing)
        )
    named = _department_lines(locale, departments) if any(d.department for d in departments) else []
    if named and not expected:
        lines.append(t(locale, "participation.timeliness"))
    return lines + named


def _department_lines(locale: str, departments: Sequence[DepartmentRates]) -> list[str]:
    no_department = t(locale, "report.no_department")
    return [
        t(
            locale,
            "participation.department",
            name=d.department or no_department,
            figures=t(locale, "participation.sep").join(parts),
        )
        for d in departments
        if (parts := figures(locale, d.rates))
    ]
