"""Pure WBS rules: code order, parent roll-ups (progress, status, dates) and dependency cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date


def code_key(code: str) -> tuple[int, ...]:
    """Numeric sort key: 1, 1.2, 1.10, 2 (not string order)."""
    return tuple(int(part) for part in code.split("."))


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


@dataclass(frozen=True)
class Node:
    """A task as stored: its own dates (may be empty for parents) and its own progress/status."""

    code: str
    start: date | None
    due: date | None
    progress: int
    status: str


@dataclass(frozen=True)
class Rolled:
    """A task's effective values: a parent's come from its children."""

    start: date | None
    due: date | None
    progress: int
    status: str


def leaf_status(progress: int, *, blocked: bool) -> str:
    if progress >= 100:
        return "done"
    if blocked:
        return "blocked"
    return "in_progress" if progress > 0 else "not_started"


def _duration(rolled: Rolled) -> int | None:
    if rolled.start is None or rolled.due is None or rolled.due < rolled.start:
        return None
    return (rolled.due - rolled.start).days + 1


def _parent_status(children: list[Rolled]) -> str:
    if all(child.status == "done" for child in children):
        return "done"
    if any(child.status == "blocked" for child in children):
        return "blocked"
    if any(child.status != "not_started" or child.progress > 0 for child in children):
        return "in_progress"
    return "not_started"


def _weighted_progress(children: list[Rolled]) -> int:
    """Weighted by planned duration when every child has dates, equally otherwise."""
    durations = [_duration(child) for child in children]
    weights = [d for d in durations if d is not None]
    if len(weights) != len(children):
        weights = [1] * len(children)
    total = sum(weights)
    # Round down so a parent never shows 100 % before every child is done.
    value = sum(w * child.progress for w, child in zip(weights, children, strict=True)) // total
    return 100 if all(child.progress >= 100 for child in children) else min(int(value), 99)


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
            result[code] = Rolled(node.start, node.due, node.progress, node.status)
            continue
        starts = [kid.start for kid in kids if kid.start]
        dues = [kid.due for kid in kids if kid.due]
        result[code] = Rolled(
            start=node.start or (min(starts) if starts else None),
            due=node.due or (max(dues) if dues else None),
            progress=_weighted_progress(kids),
            status=_parent_status(kids),
        )
    return result


def is_family(code: str, other: str) -> bool:
    """True when one code is the other's ancestor (`1` and `1.2.3`)."""
    return code.startswith(other + ".") or other.startswith(code + ".")


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
