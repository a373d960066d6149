"""Pure WBS rules: code order, parent roll-ups (progress, status, dates) and dependency cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date


def code_key(code: str) -> tuple[int, ...]:
    """Numeric sort key: 1, 1.2, 1.10, 2 (not string order)."""
    return tuple(int(part) for part in code.split("."))


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def ancestors(code: str) -> list[str]:
    """`1.2.3` -> `1.2`, `1`: the nearest first."""
    found = []
    parent = parent_of(code)
    while parent is not None:
        found.append(parent)
        parent = parent_of(parent)
    return found


@dataclass(frozen=True)
class Node:
    """A task as stored: its own dates (may be empty for parents) and its own progress/status."""

    code: str
    start: date | None
    due: date | None
    progress: int
    status: str


# What a leaf without a usable date range (no start, no due, or due before start) weighs in a
# roll-up: one week, in the calendar days dated leaves are weighed in. A fixed weight, not the
# parent's span or the median of the siblings' durations: both move when a dated sibling is added,
# and a dateless 80 % sibling gaining weight would then raise the parent when 0 % work was added.
DATELESS_DAYS = 7


@dataclass(frozen=True)
class Rolled:
    """A task's effective values: a parent's come from its children.

    `work` is the planned calendar days under the task (a leaf's duration or DATELESS_DAYS, a
    parent's leaves summed) and `earned` the same days times their %, so a parent's % is
    `earned // work` over its leaves, exact at every level: adding a 0 % leaf only adds work, and
    no ancestor's % can go up. 0 `work` (a value built by hand) means "weigh it by its dates".
    """

    start: date | None
    due: date | None
    progress: int
    status: str
    work: int = 0
    earned: int = 0


def leaf_status(progress: int, *, blocked: bool) -> str:
    if progress >= 100:
        return "done"
    if blocked:
        return "blocked"
    return "in_progress" if progress > 0 else "not_started"


def _work(rolled: Rolled) -> tuple[int, int]:
    """(work, earned) of a value: stored by `rollup`, else from its own dates."""
    if rolled.work:
        return rolled.work, rolled.earned
    start, due = rolled.start, rolled.due
    days = (due - start).days + 1 if start is not None and due is not None and start <= due else DATELESS_DAYS
    return days, days * rolled.progress


def _parent_status(children: list[Rolled]) -> str:
    if all(child.status == "done" for child in children):
        return "done"
    if any(child.status == "blocked" for child in children):
        return "blocked"
    if any(child.status != "not_started" or child.progress > 0 for child in children):
        return "in_progress"
    return "not_started"


def combine(children: Sequence[Rolled]) -> tuple[int, int, int]:
    """(progress, work, earned) of several tasks together, as a parent over them: weighted by
    planned duration (see Rolled). Rounded down, so never 100 % before every one is done."""
    pairs = [_work(child) for child in children]
    work, earned = sum(w for w, _ in pairs), sum(e for _, e in pairs)
    value = earned // work if work else 0
    progress = 100 if children and all(child.progress >= 100 for child in children) else min(value, 99)
    return progress, work, earned


def rollup(nodes: Iterable[Node]) -> dict[str, Rolled]:
    """Effective values for every node; parents span and summarise their children."""
    by_code = {node.code: node for node in nodes}
    children: dict[str, list[str]] = {}
    for code in by_code:
        parent = parent_of(code)
        if parent in by_code:
            children.setdefault(parent, []).append(code)
    result: dict[str, Rolled] = {}
    # Deepest first, so each parent sees its children's rolled values.
    for code in sorted(by_code, key=lambda c: (-len(code_key(c)), code_key(c))):
        node = by_code[code]
        kids = [result[kid] for kid in children.get(code, [])]
        if not kids:
            leaf = Rolled(node.start, node.due, node.progress, node.status)
            work, earned = _work(leaf)
            result[code] = replace(leaf, work=work, earned=earned)
            continue
        starts = [kid.start for kid in kids if kid.start]
        dues = [kid.due for kid in kids if kid.due]
        progress, work, earned = combine(kids)
        result[code] = Rolled(
            start=node.start or (min(starts) if starts else None),
            due=node.due or (max(dues) if dues else None),
            progress=progress,
            status=_parent_status(kids),
            work=work,
            earned=earned,
        )
    return result


def late_once(rolled: Mapping[str, Rolled], today: date) -> set[str]:
    """The codes whose effective due date has passed unfinished, less every parent with late work
    under it: such a parent is late because of that work, which is counted once, where it is done.
    A parent stays when its own due date has passed though nothing under it is late yet."""
    late = {code for code, r in rolled.items() if r.due is not None and r.due < today and r.status != "done"}
    return late - {parent for code in late for parent in ancestors(code)}


def is_family(code: str, other: str) -> bool:
    """True when one code is the other's ancestor (`1` and `1.2.3`)."""
    return code.startswith(other + ".") or other.startswith(code + ".")


@dataclass(frozen=True)
class Overlap:
    """A finish-to-start dependency whose upstream is due after the downstream starts."""

    upstream: str
    due: date
    downstream: str
    start: date


def overlaps(
    depends_on: Mapping[str, Iterable[str]], rolled: Mapping[str, Rolled], codes: Iterable[str]
) -> list[Overlap]:
    """The dependencies touching any of `codes` (either end) whose upstream's effective due date is
    after the downstream's effective start, in WBS order. Allowed (plans overlap on purpose), but
    worth a warning."""
    wanted = set(codes)
    found = []
    for downstream, upstreams in depends_on.items():
        for upstream in upstreams:
            if not {downstream, upstream} & wanted or downstream not in rolled or upstream not in rolled:
                continue
            due, start = rolled[upstream].due, rolled[downstream].start
            if due is not None and start is not None and due > start:
                found.append(Overlap(upstream, due, downstream, start))
    return sorted(found, key=lambda o: (code_key(o.downstream), code_key(o.upstream)))


def find_cycle(
    depends_on: Mapping[str, Iterable[str]],
    task: str,
    new_deps: Iterable[str],
    codes: Iterable[str] = (),
) -> list[str] | None:
    """The dependency path that would loop back to `task` if it depended on `new_deps`, else None.

    A parent spans its children, so the hierarchy carries dependencies: waiting for a parent means
    waiting for each of its descendants, and a task waits for whatever its ancestors wait for. So
    "1.1 after 2.1" loops when 2.1.1 is after 1.1, and reaching any of `task`'s family is a loop
    too. `codes` are the plan's codes (those in `depends_on` are always included)."""
    graph = {code: set(deps) for code, deps in depends_on.items()}
    graph[task] = set(new_deps)
    known = set(codes) | set(graph) | {dep for deps in graph.values() for dep in deps}
    descendants: dict[str, list[str]] = {}
    for code in known:
        ancestor = parent_of(code)
        while ancestor is not None:
            descendants.setdefault(ancestor, []).append(code)
            ancestor = parent_of(ancestor)

    def waits_for(code: str) -> Iterator[list[str]]:
        """The steps to what `code` cannot start before: its own and its ancestors' dependencies,
        each alone and then through each of its descendants."""
        holder: str | None = code
        while holder is not None:
            for dep in sorted(graph.get(holder, ()), key=code_key):
                yield [dep]
                yield from ([dep, child] for child in sorted(descendants.get(dep, ()), key=code_key))
            holder = parent_of(holder)

    # Breadth first, so the loop named is a shortest one.
    queue = deque([task, *steps] for steps in waits_for(task))
    seen: set[str] = set()
    while queue:
        path = queue.popleft()
        code = path[-1]
        if code == task or is_family(code, task):
            return path if code == task else [*path, task]
        if code in seen:
            continue
        seen.add(code)
        queue.extend([*path, *steps] for steps in waits_for(code))
    return None
