from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import schedule
from bot.domain.wbs import (
    DATELESS_DAYS,
    Node,
    Overlap,
    Rolled,
    ancestors,
    code_key,
    find_cycle,
    late_once,
    leaf_status,
    overlaps,
    parent_of,
    rollup,
)
from bot.domain.workdays import is_china_workday


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


def test_a_child_without_dates_weighs_a_week() -> None:
    rolled = rollup(
        [
            Node("1", date(2026, 11, 1), None, 0, "not_started"),
            Node("1.1", date(2026, 12, 1), date(2026, 12, 30), 50, "in_progress"),  # 30 days
            Node("1.2", None, None, 100, "done"),  # 7 days
            Node("1.3", date(2026, 12, 1), None, 0, "not_started"),  # a start alone: 7 days
        ]
    )
    assert DATELESS_DAYS == 7
    assert rolled["1"].progress == (30 * 50 + 7 * 100) // (30 + 7 + 7)
    assert (rolled["1"].work, rolled["1"].earned) == (44, 2200)
    assert rolled["1"].start == date(2026, 11, 1)  # set on the phase itself, so kept


def test_adding_a_dateless_0_percent_task_lowers_the_parent() -> None:
    """Before, one dateless child switched the parent to equal weights: a short finished task and a
    long unstarted one (9 %) became 33 % when a dateless 0 % task was added."""
    nodes = [
        Node("1", None, None, 0, "not_started"),
        Node("1.1", date(2026, 12, 1), date(2026, 12, 1), 100, "done"),  # 1 day
        Node("1.2", date(2026, 12, 2), date(2026, 12, 11), 0, "not_started"),  # 10 days
    ]
    before = rollup(nodes)["1"].progress
    after = rollup([*nodes, Node("1.3", None, None, 0, "not_started")])["1"].progress
    assert (before, after) == (9, 100 // 18)


def test_parents_weigh_their_leaves_not_their_span() -> None:
    """A phase counts its tasks' days, so a gap between them does not make it heavier."""
    rolled = rollup(
        [
            Node("1", None, None, 0, "not_started"),
            Node("1.1", date(2026, 12, 1), date(2026, 12, 1), 100, "done"),
            Node("1.2", date(2026, 12, 31), date(2026, 12, 31), 0, "not_started"),
            Node("2", date(2026, 12, 1), date(2026, 12, 2), 0, "not_started"),  # 2 days
        ]
    )
    assert rolled["1"].work == 2 and rolled["1"].progress == 50
    assert schedule.overall([rolled["1"], rolled["2"]]) == 100 // 4


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


# --- adding 0 % work never raises any ancestor (property) ----------------------------------------

DAY0 = date(2026, 11, 2)
_dates = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 60), st.integers(-2, 30)),  # start offset, length (negative: due first)
    st.tuples(st.integers(0, 60), st.none()),  # a start alone
)


def _node(code: str, dates: tuple[int, int | None] | None, progress: int) -> Node:
    if dates is None:
        return Node(code, None, None, progress, "x")
    start = DAY0 + timedelta(days=dates[0])
    due = None if dates[1] is None else start + timedelta(days=dates[1])
    return Node(code, start, due, progress, "x")


@st.composite
def _plan_and_new_task(draw: st.DrawFn) -> tuple[list[Node], Node]:
    nodes: list[Node] = []
    parents: list[str] = [""]  # "" is the project: a new phase
    for phase in range(1, draw(st.integers(1, 3)) + 1):
        code = str(phase)
        kids = draw(st.integers(0, 3))
        nodes.append(_node(code, draw(_dates), draw(st.integers(0, 100))))
        if kids:
            parents.append(code)
        for kid in range(1, kids + 1):
            child = f"{code}.{kid}"
            grandkids = draw(st.integers(0, 2))
            nodes.append(_node(child, draw(_dates), draw(st.integers(0, 100))))
            if grandkids:
                parents.append(child)
            for grandkid in range(1, grandkids + 1):
                nodes.append(_node(f"{child}.{grandkid}", draw(_dates), draw(st.integers(0, 100))))
    parent = draw(st.sampled_from(parents))
    taken = {n.code for n in nodes if parent_of(n.code) == (parent or None)}
    number = max((int(c.rsplit(".", 1)[-1]) for c in taken), default=0) + 1
    code = f"{parent}.{number}" if parent else str(number)
    return nodes, _node(code, draw(_dates), 0)


def _overall(rolled: dict[str, Rolled]) -> int:
    return schedule.overall([value for code, value in rolled.items() if "." not in code])


def _ancestors(code: str) -> list[str]:
    found = []
    while (code := parent_of(code) or "") != "":
        found.append(code)
    return found


@given(_plan_and_new_task(), st.dates(DAY0, DAY0 + timedelta(days=120)))
def test_adding_a_0_percent_task_never_raises_an_ancestor(plan: tuple[list[Node], Node], today: date) -> None:
    nodes, new = plan
    before, after = rollup(nodes), rollup([*nodes, new])
    for code in _ancestors(new.code):
        assert after[code].progress <= before[code].progress
    assert _overall(after) <= _overall(before)
    if new.start is None and new.due is None:
        # No plan either: the expected % of every ancestor and of the project cannot rise.
        planned_before = schedule.planned_rollup(nodes, today, is_china_workday)
        planned_after = schedule.planned_rollup([*nodes, new], today, is_china_workday)
        for code in _ancestors(new.code):
            assert planned_after[code].progress <= planned_before[code].progress

        assert _overall(planned_after) <= _overall(planned_before)


def test_overlaps_are_dependencies_whose_upstream_ends_after_the_downstream_starts() -> None:
    rolled = rollup(
        [
            Node("1", None, None, 0, "x"),
            Node("1.1", date(2026, 12, 1), date(2026, 12, 20), 0, "x"),
            Node("1.2", date(2026, 12, 15), date(2026, 12, 30), 0, "x"),
            Node("1.3", date(2026, 12, 20), date(2026, 12, 31), 0, "x"),  # starts the day 1.1 is due
            Node("1.4", None, date(2026, 12, 31), 0, "x"),  # no start: nothing to overlap
            Node("2", date(2026, 12, 10), None, 0, "x"),  # a phase starting before 1.1 is due
            Node("2.1", date(2026, 12, 21), date(2026, 12, 31), 0, "x"),
        ]
    )
    deps = {"1.2": {"1.1"}, "1.3": {"1.1"}, "1.4": {"1.1"}, "2": {"1.1"}, "2.1": {"1.2"}}
    assert overlaps(deps, rolled, ["1.1"]) == [
        Overlap("1.1", date(2026, 12, 20), "1.2", date(2026, 12, 15)),
        Overlap("1.1", date(2026, 12, 20), "2", date(2026, 12, 10)),
    ]
    assert overlaps(deps, rolled, ["2.1"]) == [Overlap("1.2", date(2026, 12, 30), "2.1", date(2026, 12, 21))]
    assert overlaps(deps, rolled, ["1.3", "1.4"]) == []
    assert overlaps({"9": {"1.1"}}, rolled, ["9"]) == []  # a code the plan no longer has


def test_ancestors_nearest_first() -> None:
    assert ancestors("1.2.3") == ["1.2", "1"] and ancestors("4") == []


def test_late_work_is_counted_once_where_it_is_done() -> None:
    today = date(2026, 11, 25)
    rolled = rollup(
        [
            Node("1", None, None, 0, "not_started"),  # late only through 1.1
            Node("1.1", date(2026, 11, 2), date(2026, 11, 10), 50, "in_progress"),
            Node("1.2", date(2026, 11, 2), date(2026, 11, 10), 100, "done"),
            Node("2", None, date(2026, 11, 20), 0, "not_started"),  # its own date passed
            Node("2.1", date(2026, 11, 16), date(2026, 12, 10), 0, "not_started"),
            Node("3", None, date(2026, 11, 20), 100, "done"),
            Node("4", date(2026, 11, 2), date(2026, 11, 25), 0, "not_started"),  # due today: not late
        ]
    )
    assert late_once(rolled, today) == {"1.1", "2"}
