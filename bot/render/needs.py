"""Resource request messages: the private note to whoever can help, the note to the requester once
it is handled, and the lines of the lists (/needs, the standup summary)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from adapters.models import Text
from bot.domain.workdays import IsWorkday, workdays_after
from bot.render.i18n import t
from bot.services import members
from storage.models import Department, Member, Project, ResourceRequest, Task

if TYPE_CHECKING:
    from bot.services.resources import Listed, Opened

MAX_SHOWN = 60  # characters of a request's text in a list line


def _name(member: Member) -> str:
    # A private message names people: a mention there would not render on every platform.
    return member.display_name or member.platform_user_id


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def routed_message(
    project: Project,
    request: ResourceRequest,
    requester: Member,
    department: Department | None,
    task: Task | None,
) -> Text:
    locale = project.locale
    return Text(
        t(
            locale,
            "need.dm_routed",
            project=project.name,
            number=request.number,
            who=_name(requester),
            department=department.name if department else t(locale, "need.no_department"),
            text=request.text,
            task=t(locale, "need.dm_task", code=task.code, title=task.title) if task else "",
        )
    )


def handled_message(project: Project, request: ResourceRequest, by: Member) -> Text:
    locale = project.locale
    note = t(locale, "need.note", note=request.handled_note) if request.handled_note else ""
    return Text(
        t(
            locale,
            "need.dm_handled",
            project=project.name,
            number=request.number,
            text=_shorten(request.text),
            who=_name(by),
            note=note,
        )
    )


def routed_line(locale: str, opened: Opened) -> str:
    """What a reply says about a request it opened: who it went to, and as what."""
    number = opened.request.number
    if not opened.new:
        return t(locale, "need.repeated", number=number)
    if opened.via is None:
        return t(locale, "need.routed_nobody", number=number)
    who = " ".join(members.mention(member) for member in opened.told)
    if opened.via == "head" and opened.department is not None:
        return t(locale, "need.routed_head", number=number, who=who, department=opened.department.name)
    return t(locale, "need.routed_pm", number=number, who=who)


def request_line(locale: str, item: Listed, today: date, is_workday: IsWorkday) -> str:
    """One open request: number, text, requester, department, age in workdays, who it went to."""
    request = item.request
    return t(
        locale,
        "need.line",
        number=request.number,
        text=_shorten(request.text),
        who=members.mention(item.requester) if item.requester else t(locale, "value.none"),
        department=item.department or t(locale, "need.no_department"),
        days=workdays_after(request.business_date, today, is_workday),
        to=members.mention(item.routed_to) if item.routed_to else t(locale, "need.nobody"),
    )
