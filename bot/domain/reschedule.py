"""What a date change does downstream, pure: finish-to-start dependents pushed to start after their
upstream ends (keeping their length in workdays), transitively, and the milestones left behind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain.workdays import WorkCalendar


@dataclass(frozen=True)
class Span:
    """A task's own planned dates (a parent's may be empty: its children's span it)."""

    start: date | None
    due: date | None


@dataclass(frozen=True)
class Shift:
    """A task the change moves: its dates before and after."""

    code: str
    old: Span
    new: Span


@dataclass(frozen=True)
class Linked:
    """A milestone with the codes of the tasks it waits for."""

    number: int
    title: str
    due: date
    codes: tuple[str, ...]


@dataclass(frozen=True)
class AtRisk:
    """A milestone now due before one of its tasks ends: `code` ends on `ends`."""

    number: int
    title: str
    due: date
    code: str
    ends: date


def _family(code: str, codes: Sequence[str]) -> list[str]:
    """The code and every task below it."""
    return [other for other in codes if other == code or other.startswith(code + ".")]


def _ancestors(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[:size]) for size in range(len(parts) - 1, 0, -1)]


def ends(code: str, spans: Mapping[str, Span]) -> date | None:
    """When a task ends: its own due date or its latest child's, whichever is later."""
    dues = [spans[other].due for other in _family(code, list(spans)) if spans[other].due is not None]
    return max(dues) if dues else None  # type: ignore[type-var]


def _moved_span(span: Span, after: date, calendar: WorkCalendar) -> Span | None:
    """The span started on the first workday after `after`, as long in workdays; None when it
    already starts (or, without a start, ends) after it."""
    first = calendar.add_workdays(after, 1)
    if span.start is not None:
        if span.start > after:
            return None
        if span.due is None:
            return Span(first, None)
        length = max(calendar.workdays_between(span.start, span.due), 1)
        due = calendar.add_workdays(first, length - 1) if length > 1 else first
        return Span(first, max(due, first))
    if span.due is not None and span.due <= after:
        return Span(None, first)
    return None


def push(
    spans: Mapping[str, Span],
    graph: Mapping[str, set[str]],
    changed: Mapping[str, Span],
    calendar: WorkCalendar,
) -> list[Shift]:
    """The tasks that must move when `changed` get their new dates: every dependent (code ->
    upstream codes in `graph`) whose work would start before an upstream ends. A dependent parent
    moves its own tasks. Nothing is pulled earlier. The changed tasks themselves are not listed."""
    current = {**spans, **changed}
    codes = list(current)
    dependents: dict[str, list[str]] = {}
    for code, upstream in graph.items():
        for other in upstream:
            dependents.setdefault(other, []).append(code)
    parents = {ancestor for code in codes for ancestor in _ancestors(code)}
    queue = list(changed)
    while queue:
        code = queue.pop(0)
        for source in (code, *_ancestors(code)):
            for dependent in sorted(dependents.get(source, ())):
                ready = [ends(up, current) for up in graph[dependent]]
                after = max((day for day in ready if day is not None), default=None)
                if after is None:
                    continue
                for leaf in _family(dependent, codes):
                    if leaf in parents and leaf != dependent:
                        continue
                    moved = _moved_span(current[leaf], after, calendar)
                    if moved is not None:
                        current[leaf] = moved
                        queue.append(leaf)
    return [
        Shift(code, spans[code], current[code])
        for code in codes
        if code not in changed and code in spans and current[code] != spans[code]
    ]


def at_risk(milestones: Sequence[Linked], spans: Mapping[str, Span], moved: set[str]) -> list[AtRisk]:
    """Milestones linked to a moved task (or its parent) that now ends after the milestone's date."""
    found = []
    for milestone in milestones:
        for code in milestone.codes:
            touched = any(other == code or other.startswith(code + ".") for other in moved)
            end = ends(code, spans) if touched else None
            if end is not None and end > milestone.due:
                found.append(AtRisk(milestone.number, milestone.title, milestone.due, code, end))
                break
    return found
