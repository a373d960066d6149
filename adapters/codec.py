"""JSON round-trip of the neutral types, for the inbound_events and outbox tables."""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from typing import Any

from adapters.models import (
    ActionGroup,
    BotAddedToChat,
    Button,
    Card,
    ChatRef,
    Field,
    File,
    FileRef,
    Image,
    InboundEvent,
    InboundMessage,
    Reply,
    Text,
    UserRef,
)


def event_to_json(event: InboundEvent) -> dict[str, Any]:
    data = asdict(event)
    for key in ("sent_at", "occurred_at"):
        if key in data:
            data[key] = data[key].isoformat()
    data["kind"] = "message" if isinstance(event, InboundMessage) else "bot_added"
    return data


def event_from_json(data: dict[str, Any]) -> InboundEvent:
    fields = {key: value for key, value in data.items() if key != "kind"}
    fields["chat"] = ChatRef(**fields["chat"])
    if data["kind"] == "message":
        fields["sender"] = UserRef(**fields["sender"])
        fields["mentions"] = tuple(UserRef(**user) for user in fields["mentions"])
        fields["sent_at"] = datetime.fromisoformat(fields["sent_at"])
        # Rows stored before file messages were read have no "file" key.
        fields["file"] = FileRef(**fields["file"]) if fields.get("file") else None
        return InboundMessage(**fields)
    fields["operator"] = UserRef(**fields["operator"]) if fields["operator"] else None
    fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
    return BotAddedToChat(**fields)


def reply_to_json(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Image):
        return {"kind": "image", **_image_to_json(reply)}
    if isinstance(reply, File):
        data = base64.b64encode(reply.data).decode("ascii")
        return {"kind": "file", "data": data, "name": reply.name, "alt": reply.alt}
    if isinstance(reply, Text):
        return {"kind": "text", **asdict(reply)}
    return {"kind": "card", **asdict(reply), "images": [_image_to_json(image) for image in reply.images]}


def _image_to_json(image: Image) -> dict[str, str]:
    return {"png": base64.b64encode(image.png).decode("ascii"), "alt": image.alt}


def _image_from_json(data: dict[str, Any]) -> Image:
    return Image(base64.b64decode(data["png"]), data["alt"])


def reply_from_json(data: dict[str, Any]) -> Reply:
    fields = {key: value for key, value in data.items() if key != "kind"}
    if data["kind"] == "image":
        return _image_from_json(fields)
    if data["kind"] == "file":
        return File(base64.b64decode(fields["data"]), fields["name"], fields["alt"])
    if data["kind"] == "text":
        fields["mentions"] = tuple(UserRef(**user) for user in fields.get("mentions", ()))
        return Text(**fields)
    # Rows written before cards had actions have no "actions" key.
    fields["actions"] = tuple(_group_from_json(group) for group in fields.get("actions", ()))
    fields["images"] = tuple(_image_from_json(image) for image in fields.get("images", ()))
    return Card(**fields)


def _group_from_json(data: dict[str, Any]) -> ActionGroup:
    return ActionGroup(
        title=data["title"],
        buttons=tuple(Button(**button) for button in data["buttons"]),
        fields=tuple(
            Field(**{**field, "options": tuple((value, shown) for value, shown in field["options"])})
            for field in data["fields"]
        ),
    )
