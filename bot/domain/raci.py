"""Who a task's RACI names, once departments stand for people: a department entry (`R=市场部`)
means its head. For R and A that lasts only until a person is named: the task's owner and its
person R answer for it; the heads of its R departments (else of its A department) only while
there are none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One RACI row: a role and either a member id or a department id."""

    role: str
    member: int | None = None
    department: int | None = None


def _unique(ids: Iterable[int | None]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(i for i in ids if i is not None))


def _heads(entries: Sequence[Entry], role: str, heads: Mapping[int, int | None]) -> tuple[int, ...]:
    return _unique(heads.get(e.department) for e in entries if e.role == role and e.department is not None)


def people(entries: Sequence[Entry], role: str, heads: Mapping[int, int | None]) -> tuple[int, ...]:
    """The members `role` names, a department standing for its head (`heads`: department id ->
    head member id), in the order given."""
    return _unique(
        e.member if e.department is None else heads.get(e.department) for e in entries if e.role == role
    )


def responsible(
    owner: int | None, entries: Sequence[Entry], heads: Mapping[int, int | None]
) -> tuple[int, ...]:
    """Who answers for the task (standup prompts, alerts): its owner and person R; until one is
    named, the heads of its R departments, else its A department's head."""
    named = _unique([owner, *(e.member for e in entries if e.role == "R")])
    return named or _heads(entries, "R", heads) or _heads(entries, "A", heads)
