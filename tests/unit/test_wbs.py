from datetime import date

import pytest

from bot.domain.wbs import Node, code_key, find_cycle, leaf_status, rollup


def test_code_key_orders_numerically() -> None:
    codes = ["2", "1.10", "1.2", "1", "1.2.1"]
    assert sorted(codes, key=code_key) == ["1", "1.2", "1.2.1", "1.10", "2"]


def test_parent_progress_weighted_by_planned_duration() -> None:
    rolled = rollup(
        [
            Node("1", None, None, 0, "not_started"),
            Node("1.1", date(2026, 12, 1), date(2026, 12, 3), 100, "done"),  # 3 days
            Node("1.2", date(2026, 12, 4), date(2026, 12, 12), 0, "not_started"),  # 9 days
        ]
    )
    assert rolled["1"].progress == 25
    assert rolled["1"].status == "in_progress"
    assert (rolled["1"].start, rolled["1"].due) == (date(2026, 12, 1), date(2026, 12, 12))


def test_equal_weights_when_a_child_has_no_dates() -> None:
    rolled = rollup(
        [
            Node("1", date(2026, 11, 1), None, 0, "not_started"),
            Node("1.1", date(2026, 12, 1), date(2026, 12, 30), 50, "in_progress"),
            Node("1.2", None, None, 100, "done"),
        ]
    )
    assert rolled["1"].progress == 75
    assert rolled["1"].start == date(2026, 11, 1)  # set on the phase itself, so kept


def test_three_levels_and_done_only_when_every_child_done() -> None:
    rolled = rollup(
        [
            Node("1", None, None, 0, "not_started"),
            Node("1.1", None, None, 0, "not_started"),
            Node("1.1.1", None, None, 100, "done"),
            Node("1.1.2", None, None, 99, "in_progress"),
            Node("1.2", None, None, 100, "done"),
        ]
    )
    assert rolled["1.1"].progress == 99
    assert rolled["1"].progress == 99
    assert rolled["1"].status == "in_progress"


def test_blocked_child_blocks_parent() -> None:
    rolled = rollup([Node("2", None, None, 0, "x"), Node("2.1", None, None, 10, "blocked")])
    assert rolled["2"].status == "blocked"


@pytest.mark.parametrize(
    ("progress", "blocked", "status"),
    [(0, False, "not_started"), (10, False, "in_progress"), (10, True, "blocked"), (100, True, "done")],
)
def test_leaf_status(progress: int, blocked: bool, status: str) -> None:
    assert leaf_status(progress, blocked=blocked) == status


def test_find_cycle() -> None:
    deps = {"1.2": {"1.1"}, "1.3": {"1.2"}}
    assert find_cycle(deps, "1.1", ["1.3"]) == ["1.1", "1.3", "1.2", "1.1"]
    assert find_cycle(deps, "1.4", ["1.3"]) is None
    assert find_cycle(deps, "1.1", ["1.1"]) == ["1.1", "1.1"]


PLAN = ["1", "1.1", "1.2", "2", "2.1", "2.1.1", "2.1.2", "2.2", "3"]


@pytest.mark.parametrize(
    ("deps", "task", "new", "path"),
    [
        # Waiting for a parent is waiting for its children: 2.1 ends only once 2.1.1 has.
        ({"2.1.1": {"1.1"}}, "1.1", ["2.1"], ["1.1", "2.1", "2.1.1", "1.1"]),
        # A task waits for what its phase waits for: 2.2 inherits "2 after 1.2".
        ({"2": {"1.2"}}, "1.2", ["2.2"], ["1.2", "2.2", "1.2"]),
        # Reaching the task's own parent is a loop: 2 cannot end before 2.1 does.
        ({"3": {"2"}}, "2.1", ["3"], ["2.1", "3", "2", "2.1"]),
        # Reaching one of the task's children too: it cannot start before they end.
        ({"3": {"2.1.2"}}, "2.1", ["3"], ["2.1", "3", "2.1.2", "2.1"]),
    ],
)
def test_find_cycle_through_parents_and_children(
    deps: dict[str, set[str]], task: str, new: list[str], path: list[str]
) -> None:
    assert find_cycle(deps, task, new, PLAN) == path


@pytest.mark.parametrize(
    ("deps", "task", "new"),
    [
        ({"2": {"1"}}, "2.2", ["2.1"]),  # siblings inside a phase that waits for another phase
        ({"1.2": {"1.1"}}, "2", ["1"]),  # a phase after a phase whose tasks are chained
        ({"2.1.2": {"2.1.1"}}, "2.2", ["2.1"]),
        ({"3": {"2"}}, "2.2", ["1"]),
    ],
)
def test_find_cycle_allows_plans_that_can_run(deps: dict[str, set[str]], task: str, new: list[str]) -> None:
    assert find_cycle(deps, task, new, PLAN) is None
