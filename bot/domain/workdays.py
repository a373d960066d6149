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


class WorkCalendar:
    """A project's working days: its own overrides first, then the official China calendar."""

    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})  # day -> is a workday

    def is_workday(self, day: date) -> bool:
        override = self._overrides.get(day)
        return is_china_workday(day) if override is None else override

    def __call__(self, day: date) -> bool:
        return self.is_workday(day)

    def covers(self, year: int) -> bool:
        """Whether `year`'s holidays are known (officially); otherwise it is a Monday-to-Friday guess."""
        return china_calendar_covers(year)

    def workdays_between(self, start: date, end: date) -> int:
        return workdays_between(start, end, self.is_workday)

    def add_workdays(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (count >= 1)."""
        while count > 0:
            day += timedelta(days=1)
            count -= self.is_workday(day)
        return day

    def previous_workday(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day
