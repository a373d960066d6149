"""China working days: statutory holidays and make-up working days (调休), pure and clock-free."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

IsWorkday = Callable[[date], bool]


@lru_cache(maxsize=4096)
def is_china_workday(day: date) -> bool:
    """True on a working day in mainland China, make-up weekend workdays included.

    `chinesecalendar` only knows the years the State Council has published; it raises
    NotImplementedError for any other year, and then Monday to Friday is the best guess.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def china_calendar_covers(year: int) -> bool:
    """Whether the installed `chinesecalendar` has the official holidays of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def workdays_between(start: date, end: date, is_workday: IsWorkday) -> int:
    """Working days from `start` to `end`, both included; 0 when `end` is before `start`."""
    count = 0
    day = start
    while day <= end:
        count += is_workday(day)
        day += timedelta(days=1)
    return count
