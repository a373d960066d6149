"""Neutral replies -> Feishu message content (pure), split to fit the platform's size limit.

Cards use the JSON 2.0 schema. The markdown body is always the first element; a card's pictures
follow it (`img` elements naming keys the client uploaded first), then its actions, one block per
group: its title, then its buttons, inside a form with the group's inputs when it has any (a form
submits its inputs with the button clicked). Every button calls back with {"g": group index,
"b": button index}; input names are prefixed `g<group>_` because names must be unique within a card.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from adapters.models import (
    MENTION_TOKEN,
    ActionGroup,
    Button,
    Card,
    Field,
    Image,
    Message,
    Text,
    plausible_user_id,
)
from adapters.split import part_of, split_reply

# Feishu caps card/post request bodies at 30 KB; stay under it for text too, leaving room for
# receive_id, uuid and the JSON around `content`.
MAX_CONTENT_BYTES = 28_000


def render(reply: Message, image_keys: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
    """The Feishu `msg_type` and content object for one reply; `image_keys` are the uploaded keys of
    a card's pictures, in order (ValueError when they do not match them)."""
    if isinstance(reply, Text):
        ats = "".join(
            f'<at user_id="{user.user_id}">{_tag_text(user.name)}</at> '
            for user in reply.mentions
            if plausible_user_id(user.user_id)
        )
        return "text", {"text": ats + reply.text}
    if len(image_keys) != len(reply.images):
        raise ValueError(f"{len(reply.images)} pictures but {len(image_keys)} uploaded keys")
    pictures = [_picture(image, key) for image, key in zip(reply.images, image_keys, strict=True)]
    return "interactive", {
        "schema": "2.0",
        "header": {"title": {"tag": "plain_text", "content": reply.title}, "template": reply.color},
        "body": {
            "elements": [
                {"tag": "markdown", "content": reply.body},
                *pictures,
                *_action_elements(reply.actions),
            ]
        },
    }


def _picture(image: Image, key: str) -> dict[str, Any]:
    # Shown whole at the card's width (the default crops to a box); `alt` is the hover text.
    return {"tag": "img", "img_key": key, "alt": _plain(image.alt), "scale_type": "fit_horizontal"}


def field_name(group: int, name: str) -> str:
    """The card-wide name of a group's input (what the callback's form_value is keyed by)."""
    return f"g{group}_{name}"


def _action_elements(groups: tuple[ActionGroup, ...]) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    for index, group in enumerate(groups):
        if not group.buttons:  # a finished group keeps its place (and index) but shows nothing
            continue
        in_form = bool(group.fields)
        buttons = _row(
            [_button(index, number, button, in_form) for number, button in enumerate(group.buttons)]
        )
        elements.append({"tag": "markdown", "content": f"**{group.title}**"})
        if in_form:
            inputs = [_field(index, field) for field in group.fields]
            elements.append({"tag": "form", "name": f"form_{index}", "elements": [*inputs, buttons]})
        else:
            elements.append(buttons)
    return [{"tag": "hr"}, *elements] if elements else []


def _plain(text: str) -> dict[str, str]:
    return {"tag": "plain_text", "content": text}


def _button(group: int, number: int, button: Button, in_form: bool) -> dict[str, Any]:
    element: dict[str, Any] = {
        "tag": "button",
        "name": f"b{group}_{number}",
        "text": _plain(button.label),
        "type": button.style,
        "behaviors": [{"type": "callback", "value": {"g": group, "b": number}}],
    }
    if in_form:
        element["form_action_type"] = "submit"  # a button in a form must say what it does to it
    return element


def _row(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """Buttons side by side, wrapping on a narrow screen."""
    if len(buttons) == 1:
        return buttons[0]
    columns = [{"tag": "column", "width": "auto", "elements": [button]} for button in buttons]
    return {"tag": "column_set", "flex_mode": "flow", "horizontal_spacing": "small", "columns": columns}


def _field(group: int, field: Field) -> dict[str, Any]:
    name = field_name(group, field.name)
    if field.kind == "date":
        return {"tag": "date_picker", "name": name, "placeholder": _plain(field.placeholder or field.label)}
    if field.kind == "text":
        return {"tag": "input", "name": name, "placeholder": _plain(field.placeholder or field.label)}
    select = {
        "tag": "select_static",
        "name": name,
        "placeholder": _plain(field.placeholder or field.label),
        "options": [{"text": _plain(shown), "value": value} for value, shown in field.options],
    }
    # A select shows only its choice once made, so its label stands beside it.
    label = {"tag": "markdown", "content": field.label}
    return {
        "tag": "column_set",
        "flex_mode": "none",
        "columns": [
            {
                "tag": "column",
                "width": "weighted",
                "weight": 2,
                "vertical_align": "center",
                "elements": [label],
            },
            {
                "tag": "column",
                "width": "weighted",
                "weight": 1,
                "vertical_align": "center",
                "elements": [select],
            },
        ],
    }


def _tag_text(name: str) -> str:
    # A display name inside `<at>…</at>` must not close the tag or open another.
    return name.replace("<", "＜").replace(">", "＞")


def with_feishu_mentions(reply: Message) -> Message:
    """Neutral `<at:ID>` mentions in Feishu's own syntax, which shows the person's current name.
    Only a person's id becomes a Feishu mention: a token like `<at:all>` stays visible text."""

    def at(template: str) -> Callable[[re.Match[str]], str]:
        return lambda m: template.format(m[1]) if plausible_user_id(m[1]) else "＜" + m[0][1:]

    if isinstance(reply, Text):
        return replace(reply, text=MENTION_TOKEN.sub(at('<at user_id="{}"></at>'), reply.text))
    return replace(reply, body=MENTION_TOKEN.sub(at("<at id={}></at>"), reply.body))


def serialize(content: dict[str, Any]) -> str:
    """The `content` field: a JSON string (UTF-8 kept as is; \\u escapes would more than double CJK sizes)."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def content_size(content: str) -> int:
    """Bytes a serialized `content` occupies in the request body, where it is itself a JSON string."""
    return len(_escape(content).encode())


def _text_size(text: str) -> int:
    # Body text is escaped twice (into the content JSON, then into the request JSON); escaping works
    # character by character, so the sizes of pieces add up.
    return content_size(_escape(text))


def _escape(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def render_parts(
    reply: Message, limit: int = MAX_CONTENT_BYTES, image_keys: Sequence[str] = ()
) -> tuple[str, list[str]]:
    """`msg_type` and one or more serialized contents, each at most `limit` bytes in the request body.

    An oversized reply is split on line boundaries (a single overlong line is cut); a card keeps its
    title on every part and its pictures and actions on the last only (the one that stays at the
    bottom of the chat); a text's @mentions go on the first part only.
    """
    reply = with_feishu_mentions(reply)  # before measuring: the Feishu form is longer
    msg_type, content = render(reply, image_keys)
    serialized = serialize(content)
    if content_size(serialized) <= limit:
        return msg_type, [serialized]
    # Everything but the body; the body sits verbatim in one JSON string, so sizes simply add up.
    overhead = content_size(serialize(render(part_of(reply, "", first=True, last=True), image_keys)[1]))
    parts = split_reply(reply, limit - overhead, _text_size)
    return msg_type, [serialize(render(part, _keys_of(part, image_keys))[1]) for part in parts]


def _keys_of(part: Message, image_keys: Sequence[str]) -> Sequence[str]:
    return image_keys if isinstance(part, Card) and part.images else ()
