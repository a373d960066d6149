"""The private notes a task's RACI brings: I hears when it finishes or its dates move, C when a
blocker opens on it. Short, in the project's language, naming the task, the change and who made it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from adapters.models import Text
from bot.render.dates import short_day
from bot.render.i18n import t
from storage.models import Project, Task

Event = Literal["done", "dates", "blocker"]
DateField = Literal["start", "due"]
ROLE_OF: dict[Event, str] = {"done": "I", "dates": "I", "blocker": "C"}


def date_changes(
    locale: str, changes: Sequence[tuple[DateField, date | None, date | None]], today: date
) -> str:
    def shown(value: date | None) -> str:
        return short_day(value, today) if value else t(locale, "value.none")

    return t(locale, "plan.sep").join(
        t(
            locale,
            "raci.told.date_change",
            field=t(locale, f"raci.told.{field}"),
            old=shown(old),
            new=shown(new),
        )
        for field, old, new in changes
    )


def told_message(project: Project, task: Task, event: Event, who: str, detail: str = "") -> Text:
    locale = project.locale
    return Text(
        t(
            locale,
            f"raci.told.{event}",
            project=project.name,
            role=t(locale, f"plan.raci_role.{ROLE_OF[event]}"),
            code=task.code,
            title=task.title,
            who=who,
            detail=detail,
        )
    )
