"""A neutral card's actions on DingTalk (pure): action cards whose buttons send the command.

DingTalk's interactive cards call back only through a card template registered for the app in the
developer console, so buttons are rendered as the robot's action cards (msgKey `sampleActionCard`
for one button, `sampleActionCard2`..`5` for two to five stacked ones) whose links are
`dtmd://dingtalkclient/sendMessage?content=<command>`: one tap sends the command, as the person
who tapped, into the chat, where it is handled like a typed one. That only works in 1:1 chats: in
a group the robot receives only messages that @ it, which a dtmd message does not. Commands that
need input (a date, a reason) cannot be a button: their hint line tells what to type instead.
"""

from __future__ import annotations

from urllib.parse import quote

from adapters.models import Button, Card

MAX_BUTTONS = 5  # sampleActionCard5 is the largest layout
MAX_BUTTON_TITLE = 20  # characters, per the message type's documentation


def send_message_link(command: str) -> str:
    return "dtmd://dingtalkclient/sendMessage?content=" + quote(command, safe="")


def hint_lines(card: Card) -> list[str]:
    """What to type for the buttons that need input (those cannot be tapped on DingTalk)."""
    return [
        button.hint
        for group in card.actions
        for button in group.buttons
        if button.hint and button.needs_input
    ]


def action_card(card: Card, text: str) -> tuple[str, dict[str, str]] | None:
    """(msgKey, msgParam) of an action card with the card's tappable buttons (the first five) under
    `text`, or None when it has none."""
    groups = [group for group in card.actions if group.buttons]
    buttons = [
        (_title(button, group.title if len(groups) > 1 else ""), send_message_link(button.command))
        for group in groups
        for button in group.buttons
        if not button.needs_input
    ][:MAX_BUTTONS]
    if not buttons:
        return None
    param = {"title": card.title, "text": text}
    if len(buttons) == 1:
        (title, url), *_ = buttons
        return "sampleActionCard", {**param, "singleTitle": title, "singleURL": url}
    for number, (title, url) in enumerate(buttons, start=1):
        param[f"actionTitle{number}"] = title
        param[f"actionURL{number}"] = url
    return f"sampleActionCard{len(buttons)}", param


def _title(button: Button, subject: str) -> str:
    """The button's label, with what it acts on when the card has several such things."""
    title = f"{button.label} {subject}" if subject else button.label
    return title if len(title) <= MAX_BUTTON_TITLE else title[: MAX_BUTTON_TITLE - 1] + "…"
