"""Arithmetic workday counts equal counting day by day, across statutory holidays, make-up days,
years the official calendar does not know, and a project's own overrides."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.workdays import WorkCalendar, is_china_workday, workdays_between

# From before the first year chinesecalendar knows to well after its last one.
DAYS = st.dates(min_value=date(2001, 1, 1), max_value=date(2032, 12, 31))
OVERRIDES = st.dictionaries(DAYS, st.booleans(), max_size=30)


def day_by_day(start: date, end: date, calendar: WorkCalendar) -> int:
    return sum(calendar.is_workday(start + timedelta(days=n)) for n in range((end - start).days + 1))


@settings(max_examples=300, deadline=None)
@given(DAYS, st.integers(min_value=-10, max_value=4000), OVERRIDES)
def test_count_equals_day_by_day(start: date, length: int, overrides: dict[date, bool]) -> None:
    end = start + timedelta(days=length)
    calendar = WorkCalendar(overrides)
    assert calendar.workdays_between(start, end) == day_by_day(start, end, calendar)
    assert workdays_between(start, end, calendar) == calendar.workdays_between(start, end)
    assert workdays_between(start, end, is_china_workday) == day_by_day(start, end, WorkCalendar())


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(2003, 1, 1), max_value=date(2030, 12, 31)), st.integers(1, 600), OVERRIDES)
def test_add_workdays_lands_on_the_nth_working_day(
    day: date, count: int, overrides: dict[date, bool]
) -> None:
    calendar = WorkCalendar(overrides)
    landed = calendar.add_workdays(day, count)
    assert calendar.is_workday(landed)
    assert day_by_day(day + timedelta(days=1), landed, calendar) == count
