"""The downstream pushes and milestone impact of a date change (bot.domain.reschedule), pure."""

from __future__ import annotations

from datetime import date

from bot.domain.reschedule import AtRisk, Linked, Shift, Span, at_risk, push
from bot.domain.workdays import WorkCalendar

# March 2026 has no public holiday in China: Mondays are the 2nd, 9th and 16th.
CHAIN = {
    "1.1": Span(date(2026, 3, 2), date(2026, 3, 6)),
    "1.2": Span(date(2026, 3, 9), date(2026, 3, 11)),  # 3 workdays, after 1.1
    "1.3": Span(date(2026, 3, 12), date(2026, 3, 12)),  # 1 workday, after 1.2
    "1.4": Span(date(2026, 3, 30), date(2026, 3, 31)),  # after 1.2, far enough
    "1.5": Span(None, date(2026, 3, 9)),  # after 1.1, no start: its due date moves
}
GRAPH = {"1.2": {"1.1"}, "1.3": {"1.2"}, "1.4": {"1.2"}, "1.5": {"1.1"}}


def test_a_later_due_date_pushes_dependents_transitively_keeping_their_workdays() -> None:
    shifts = push(CHAIN, GRAPH, {"1.1": Span(date(2026, 3, 2), date(2026, 3, 10))}, WorkCalendar())
    assert shifts == [
        Shift("1.2", CHAIN["1.2"], Span(date(2026, 3, 11), date(2026, 3, 13))),
        Shift("1.3", CHAIN["1.3"], Span(date(2026, 3, 16), date(2026, 3, 16))),  # over the weekend
        Shift("1.5", CHAIN["1.5"], Span(None, date(2026, 3, 11))),
    ]


def test_a_holiday_of_the_project_calendar_is_skipped_and_not_counted() -> None:
    calendar = WorkCalendar({date(2026, 3, 12): False})  # a Thursday off
    shifts = push(CHAIN, GRAPH, {"1.1": Span(date(2026, 3, 2), date(2026, 3, 10))}, calendar)
    assert shifts[:2] == [
        Shift("1.2", CHAIN["1.2"], Span(date(2026, 3, 11), date(2026, 3, 16))),  # Wed, Fri, Mon
        Shift("1.3", CHAIN["1.3"], Span(date(2026, 3, 17), date(2026, 3, 17))),
    ]


def test_nothing_moves_when_dependents_still_start_after_it_and_nothing_is_pulled_earlier() -> None:
    assert push(CHAIN, GRAPH, {"1.2": Span(date(2026, 3, 9), date(2026, 3, 20))}, WorkCalendar()) == [
        Shift("1.3", CHAIN["1.3"], Span(date(2026, 3, 23), date(2026, 3, 23)))
    ]  # 1.4 starts 03-30: untouched
    assert push(CHAIN, GRAPH, {"1.1": Span(date(2026, 3, 2), date(2026, 3, 3))}, WorkCalendar()) == []


def test_a_dependent_parent_moves_its_tasks_and_its_own_dependents_follow() -> None:
    spans = {
        "1": Span(None, None),
        "1.1": Span(date(2026, 3, 2), date(2026, 3, 6)),
        "2": Span(None, None),
        "2.1": Span(date(2026, 3, 9), date(2026, 3, 10)),
        "2.2": Span(date(2026, 3, 11), date(2026, 3, 11)),
        "3": Span(date(2026, 3, 12), date(2026, 3, 12)),
    }
    graph = {"2": {"1.1"}, "2.2": {"2.1"}, "3": {"2"}}
    shifts = push(spans, graph, {"1.1": Span(date(2026, 3, 2), date(2026, 3, 9))}, WorkCalendar())
    assert {s.code: s.new for s in shifts} == {
        "2.1": Span(date(2026, 3, 10), date(2026, 3, 11)),
        "2.2": Span(date(2026, 3, 12), date(2026, 3, 12)),
        "3": Span(date(2026, 3, 13), date(2026, 3, 13)),
    }


def test_milestones_whose_moved_tasks_now_end_after_them() -> None:
    after = {**CHAIN, "1.2": Span(date(2026, 3, 11), date(2026, 3, 13))}
    milestones = [
        Linked(1, "设计评审", date(2026, 3, 12), ("1.2", "1.3")),
        Linked(2, "上线", date(2026, 3, 31), ("1.2",)),
        Linked(3, "采购", date(2026, 3, 1), ("1.4",)),  # late already, but nothing of it moved
    ]
    assert at_risk(milestones, after, {"1.2"}) == [
        AtRisk(1, "设计评审", date(2026, 3, 12), "1.2", date(2026, 3, 13))
    ]
