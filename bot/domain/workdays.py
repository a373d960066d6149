"""China working days: statutory holidays and make-up working days (调休), pure and clock-free."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

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


def _weekdays_before(ordinal: int) -> int:
    """Monday-to-Friday days with a proleptic ordinal below `ordinal` (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest, 5)


def _count_in(days: Sequence[date], start: date, end: date) -> int:
    """How many of the sorted `days` fall from `start` to `end`, both included."""
    return bisect_right(days, end) - bisect_left(days, start)


@lru_cache(maxsize=1)
def _official_exceptions() -> tuple[list[date], list[date]]:
    """The days where the official calendar differs from Monday to Friday: statutory holidays on a
    weekday, and make-up working days on a weekend (mirrors `chinese_calendar.is_workday`)."""
    makeup = set(chinese_calendar.workdays)
    weekday_holidays = sorted(d for d in chinese_calendar.holidays if d.weekday() < 5 and d not in makeup)
    weekend_workdays = sorted(d for d in makeup if d.weekday() >= 5)
    return weekday_holidays, weekend_workdays


def china_workdays_between(start: date, end: date) -> int:
    """`is_china_workday` days from `start` to `end`, both included, counted without visiting each
    day: whole weeks, then the official exceptions in the range found by bisection."""
    if end < start:
        return 0
    weekday_holidays, weekend_workdays = _official_exceptions()
    weekdays = _weekdays_before(end.toordinal() + 1) - _weekdays_before(start.toordinal())
    return weekdays - _count_in(weekday_holidays, start, end) + _count_in(weekend_workdays, start, end)


def workdays_between(start: date, end: date, is_workday: IsWorkday) -> int:
    """Working days from `start` to `end`, both included; 0 when `end` is before `start`.

    The official and project calendars are counted arithmetically; any other rule day by day."""
    if isinstance(is_workday, WorkCalendar):
        return is_workday.workdays_between(start, end)
    if is_workday is is_china_workday:
        return china_workdays_between(start, end)
    return sum(is_workday(start + timedelta(days=offset)) for offset in range((end - start).days + 1))


def workdays_after(day: date, today: date, is_workday: IsWorkday) -> int:
    """Working days after `day` up to and including `today`: the age in workdays of something dated
    `day` (0 on that day), as the alerts and the weekly report count it."""
    return workdays_between(day + timedelta(days=1), today, is_workday)


class WorkCalendar:
    """A project's working days: its own overrides first, then the official China calendar."""

    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})  # day -> is a workday
        # The overrides that change the official answer, sorted, each worth +1 or -1 in a count.
        changed = sorted(day for day, workday in self._overrides.items() if workday != is_china_workday(day))
        self._changed = changed
        self._running = [0, *accumulate(1 if self._overrides[day] else -1 for day in changed)]

    def is_workday(self, day: date) -> bool:
        override = self._overrides.get(day)
        return is_china_workday(day) if override is None else override

    def __call__(self, day: date) -> bool:
        return self.is_workday(day)

    def covers(self, year: int) -> bool:
        """Whether `year`'s holidays are known (officially); otherwise it is a Monday-to-Friday guess."""
        return china_calendar_covers(year)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days from `start` to `end`, both included, without visiting each day."""
        if end < start:
            return 0
        first, last = bisect_left(self._changed, start), bisect_right(self._changed, end)
        return china_workdays_between(start, end) + self._running[last] - self._running[first]

    def add_workdays(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (count >= 1), found by bisecting on the count."""
        after = day + timedelta(days=1)
        # Every 7 days hold at least one working day unless a long holiday or overrides say
        # otherwise, so widen the window until it holds `count`, then bisect inside it.
        span = count * 7 // 5 + 7
        while self.workdays_between(after, day + timedelta(days=span)) < count:
            span *= 2
        low, high = 1, span
        while low < high:
            middle = (low + high) // 2
            if self.workdays_between(after, day + timedelta(days=middle)) >= count:
                high = middle
            else:
                low = middle + 1
        return day + timedelta(days=low)

    def previous_workday(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day
