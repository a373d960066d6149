"""Card buttons (platform-free): each sends the chat command a person would otherwise type, in the
project's language, so a click is checked, audited and answered exactly like that command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from adapters.models import ActionGroup, Button, Field
from bot.render.i18n import t
from storage.models import Task

PROGRESS_STEPS = tuple(range(0, 101, 10))


def standup_group(locale: str, open_tasks: Sequence[Task]) -> ActionGroup:
    """A % picker per task and a blockers box; the submit button sends one standup reply such as
    `/站会 2.1 80%；2.3 50%；卡点：等运维；` (the separator ends each part so the label is found)."""
    sep = t(locale, "cards.standup.sep")
    fields = [
        Field(
            f"t{index}",
            t(locale, "cards.group.task", code=task.code, title=task.title),
            "select",
            options=tuple((f"{step}%", f"{step}%") for step in PROGRESS_STEPS),
            placeholder=t(locale, "cards.field.progress", progress=task.progress),
            fill=f"{task.code} {{}}{sep}",
            required=False,
        )
        for index, task in enumerate(open_tasks)
    ]
    fields.append(
        Field(
            "blockers",
            t(locale, "cards.field.blockers"),
            fill=t(locale, "cards.standup.blockers") + "{}" + sep,
            required=False,
        )
    )
    answer = "".join(f"{{{field.name}}}" for field in fields)
    # Either may be followed by another, more precise answer: a later reply amends the day's.
    submit = Button(
        t(locale, "cards.btn.standup"),
        t(locale, "cards.cmd.standup", answer=answer),
        "primary",
        done=t(locale, "cards.did.standup"),
        final=False,
    )
    on_track = Button(
        t(locale, "cards.btn.on_track"),
        t(locale, "cards.cmd.standup", answer=t(locale, "cards.standup.on_track")),
        done=t(locale, "cards.did.on_track"),
        final=False,
    )
    return ActionGroup(t(locale, "cards.group.standup"), (submit, on_track), tuple(fields))


def task_group(locale: str, code: str, title: str, *, owner: bool, can_reschedule: bool) -> ActionGroup:
    """For a late task: done; I am blocked, with the reason (for its owner); a new due date (for
    those who may move it: a PM or the head of its department, as /task edit requires)."""
    buttons = [
        Button(
            t(locale, "cards.btn.done"),
            t(locale, "cards.cmd.done", code=code),
            "primary",
            done=t(locale, "cards.did.done", code=code),
        )
    ]
    fields: list[Field] = []
    if can_reschedule:
        buttons.append(
            Button(
                t(locale, "cards.btn.due"),
                t(locale, "cards.cmd.due", code=code, due="{due}"),
                done=t(locale, "cards.did.due", code=code),
                hint=t(locale, "cards.hint.due", code=code),
            )
        )
        fields.append(Field("due", t(locale, "cards.field.due"), "date"))
    if owner:
        buttons.append(
            Button(
                t(locale, "cards.btn.blocked"),
                t(locale, "cards.cmd.blocker", code=code, reason="{reason}"),
                "danger",
                done=t(locale, "cards.did.blocked", code=code),
                hint=t(locale, "cards.hint.blocked", code=code),
            )
        )
        fields.append(Field("reason", t(locale, "cards.field.reason")))
    return ActionGroup(t(locale, "cards.group.task", code=code, title=title), tuple(buttons), tuple(fields))


def risk_group(locale: str, number: int, *, may_update: bool) -> ActionGroup:
    """For a stale risk: mitigated and still open (for its owner or a PM, as /risk requires), and
    escalate (for anyone who hears of it)."""

    def risk_button(word: str, style: Literal["default", "danger"] = "default") -> Button:
        command = t(locale, "cards.cmd.risk", number=number, word=t(locale, f"cards.word.{word}"))
        label = t(locale, f"cards.btn.{word}")
        return Button(label, command, style, done=t(locale, f"cards.did.{word}", number=number))

    updates = (risk_button("mitigated"), risk_button("review")) if may_update else ()
    buttons = (*updates, risk_button("escalate", "danger"))
    return ActionGroup(t(locale, "cards.group.risk", number=number), buttons)


def action_item_group(locale: str, number: int) -> ActionGroup:
    done = Button(
        t(locale, "cards.btn.done"),
        t(locale, "cards.cmd.action_done", number=number),
        "primary",
        done=t(locale, "cards.did.action_done", number=number),
    )
    return ActionGroup(t(locale, "cards.group.action", number=number), (done,))
