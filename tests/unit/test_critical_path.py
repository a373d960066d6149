"""The critical path, pure: working-day durations on the project calendar, the hierarchy, slips.

The weeks of March 2027 have no official holiday: Monday 2027-03-01 to Friday 03-05, then 03-08...
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.critical_path import Planned, critical_path
from bot.domain.workdays import WorkCalendar

MON = date(2027, 3, 1)


def day(offset: int) -> date:
    return MON + timedelta(days=offset)


def plan(**tasks: tuple[int | None, int | None]) -> dict[str, Planned]:
    """`t1_1=(0, 2)` -> task 1.1 from Monday to Wednesday."""
    return {
        code.removeprefix("t").replace("_", "."): Planned(
            None if start is None else day(start), None if due is None else day(due)
        )
        for code, (start, due) in tasks.items()
    }


def floats(timings: dict, *codes: str) -> list[int]:
    return [timings[code].total_float for code in codes]


def test_the_longest_chain_is_critical_and_the_rest_has_float() -> None:
    tasks = plan(t1=(None, None), t1_1=(0, 2), t1_2=(3, 4), t1_3=(0, 1))
    timings = critical_path(tasks, {"1.2": {"1.1"}}, WorkCalendar())
    assert [timings[c].critical for c in ("1.1", "1.2", "1.3")] == [True, True, False]
    assert floats(timings, "1.1", "1.2", "1.3") == [0, 0, 3]  # 1.3 may slip Wed, Thu, Fri
    assert (timings["1"].early_start, timings["1"].early_finish, timings["1"].critical) == (
        day(0),
        day(4),
        True,
    )


def test_floats_count_working_days_of_the_project_calendar() -> None:
    tasks = plan(t1_1=(0, 2), t1_2=(3, 4), t1_3=(0, 1))
    # A project holiday on Thursday: 1.2 lasts one working day, 1.3 may slip Wednesday and Friday only.
    calendar = WorkCalendar({day(3): False})
    timings = critical_path(tasks, {"1.2": {"1.1"}}, calendar)
    assert floats(timings, "1.1", "1.2", "1.3") == [0, 0, 2]
    assert timings["1.2"].early_start == day(4)
    # A make-up working Saturday: the chain may now end on it, and 1.3 gains that day.
    timings = critical_path(
        plan(t1_1=(0, 2), t1_2=(3, 5), t1_3=(0, 1)), {"1.2": {"1.1"}}, WorkCalendar({day(5): True})
    )
    assert floats(timings, "1.3") == [4] and timings["1.2"].early_finish == day(5)


def test_a_late_upstream_pushes_the_forecast_of_what_waits_for_it() -> None:
    # 1.1 now ends Thursday, but 1.2 was planned Thursday-Friday: it can only start Friday and
    # needs two working days, so it ends the next Monday.
    tasks = plan(t1_1=(0, 3), t1_2=(3, 4), t1_3=(0, 1))
    timings = critical_path(tasks, {"1.2": {"1.1"}}, WorkCalendar())
    assert (timings["1.2"].early_start, timings["1.2"].early_finish) == (day(4), day(7))
    assert floats(timings, "1.1", "1.2", "1.3") == [0, 0, 4]


def test_the_hierarchy_carries_dependencies() -> None:
    # Phase 2 after phase 1: each task of 2 waits for each task of 1.
    tasks = plan(t1=(None, None), t1_1=(0, 1), t1_2=(0, 3), t2=(None, None), t2_1=(0, 4), t2_2=(7, 8))
    timings = critical_path(tasks, {"2": {"1"}}, WorkCalendar())
    assert timings["2.1"].early_start == day(4)  # after 1.2, the later of phase 1
    assert timings["2.1"].early_finish == day(10)  # five working days: Fri, Mon-Thu
    assert [timings[c].critical for c in ("1.1", "1.2", "2.1", "2.2")] == [False, True, True, False]
    assert timings["1.1"].total_float == 2 and timings["2"].total_float == 0


def test_a_leaf_waits_for_what_its_parent_waits_for() -> None:
    tasks = plan(t1_1=(0, 2), t2=(None, None), t2_1=(0, 1), t2_1_1=(0, 1))
    timings = critical_path(tasks, {"2.1": {"1.1"}}, WorkCalendar())
    assert timings["2.1.1"].early_start == day(3)


def test_a_task_without_a_due_date_passes_its_upstream_on() -> None:
    tasks = plan(t1_1=(0, 2), t1_2=(None, None), t1_3=(0, 0))
    timings = critical_path(tasks, {"1.2": {"1.1"}, "1.3": {"1.2"}}, WorkCalendar())
    assert "1.2" not in timings
    assert timings["1.3"].early_start == day(3) and floats(timings, "1.1", "1.3") == [0, 0]


def test_weekend_tasks_take_a_day_and_a_due_date_alone_is_one_day() -> None:
    tasks = plan(t1_1=(5, 6), t1_2=(None, 2))
    timings = critical_path(tasks, {}, WorkCalendar())
    assert timings["1.1"].early_start == day(7)  # the Monday after the weekend
    assert timings["1.2"].early_start == timings["1.2"].early_finish == day(2)


def test_a_stored_loop_leaves_its_tasks_without_timing() -> None:
    tasks = plan(t1_1=(0, 1), t1_2=(0, 1), t1_3=(0, 2))
    timings = critical_path(tasks, {"1.1": {"1.2"}, "1.2": {"1.1"}}, WorkCalendar())
    assert set(timings) == {"1.3"} and timings["1.3"].critical


def test_no_dates_no_timings() -> None:
    assert critical_path(plan(t1=(None, None), t1_1=(None, None)), {}, WorkCalendar()) == {}


@st.composite
def plans(draw: st.DrawFn) -> tuple[dict[str, Planned], dict[str, set[str]]]:
    count = draw(st.integers(1, 12))
    codes = [f"1.{index}" for index in range(1, count + 1)]
    tasks = {}
    for code in codes:
        start = draw(st.integers(0, 30))
        tasks[code] = Planned(day(start), day(start + draw(st.integers(0, 10))))
    # Edges only from earlier to later codes: loop-free like every stored plan.
    deps = {
        code: set(draw(st.lists(st.sampled_from(codes[:index]), max_size=3))) if index else set()
        for index, code in enumerate(codes)
    }
    return tasks, deps


@settings(max_examples=200, deadline=None)
@given(plans())
def test_timings_respect_every_dependency_and_the_plan(
    case: tuple[dict[str, Planned], dict[str, set[str]]],
) -> None:
    tasks, deps = case
    calendar = WorkCalendar({day(3): False, day(12): True})
    timings = critical_path(tasks, deps, calendar)
    assert set(timings) == set(tasks)
    assert any(t.critical for t in timings.values())
    end = max(t.early_finish for t in timings.values())
    for code, timing in timings.items():
        assert timing.total_float >= 0 and timing.early_start >= tasks[code].start  # type: ignore[operator]
        assert timing.early_start <= timing.early_finish <= timing.late_finish <= end
        assert timing.total_float == calendar.workdays_between(timing.early_finish, timing.late_finish) - 1
        for upstream in deps[code]:
            assert timings[upstream].early_finish < timing.early_start
            assert timings[upstream].late_finish < timing.late_start
