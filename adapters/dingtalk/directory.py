"""Users' display names by staffId, so a message that @-mentions several people can be read.

DingTalk's robot messages list who was mentioned (`atUsers`) but not where: the text only shows each
"@Name". With the names from the contacts API ("根据userid获取用户详情", `POST /topapi/v2/user/get`,
which needs the app permission 通讯录个人信息读权限 / qyapi_get_member), events.parse_message places
each mention by its name. Only messages mentioning two or more people need a lookup, and names are
cached, so the webhook and the Stream handler stay fast; a failed lookup leaves the mentions as
written (the command then asks for them one at a time), it never drops the message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from adapters.base import Accept
from adapters.dingtalk.client import Directory
from adapters.dingtalk.events import ReplyRoute, RobotMessage, names_to_look_up, parse_message
from adapters.models import InboundMessage


async def read_message(
    payload: RobotMessage | Mapping[str, Any],
    *,
    directory: Directory | None,
    robot_code: str | None,
    now: datetime,
    oapi_domain: str,
) -> tuple[InboundMessage, ReplyRoute | None]:
    """events.parse_message, with the names of the users mentioned when there are several (looked up
    only for a message that parses: a rejected one costs no lookup)."""
    message = payload if isinstance(payload, RobotMessage) else RobotMessage.from_payload(payload)
    parsed = parse_message(message, robot_code=robot_code, now=now, oapi_domain=oapi_domain)
    wanted = names_to_look_up(message)
    if directory is None or not wanted:
        return parsed
    names: Mapping[str, str] = await directory.names(wanted)
    return parse_message(message, robot_code=robot_code, now=now, oapi_domain=oapi_domain, names=names)


async def receive(
    raw: str | bytes,
    *,
    directory: Directory | None,
    remember_route: Callable[[str, ReplyRoute], None],
    accept: Accept,
    robot_code: str | None,
    now: datetime,
    oapi_domain: str,
) -> None:
    """One robot message as a Stream frame's `data` carries it (a JSON string): parsed and bounded
    (RobotMessage), normalised (read_message), handed to `accept` (which stores it and claims its
    msgId, so a redelivery is dropped there), and only then its session webhook kept for the reply.
    Raises WebhookRejected for a message we do not take, and whatever storing it raised."""
    message, route = await read_message(
        RobotMessage.from_json(raw),
        directory=directory,
        robot_code=robot_code,
        now=now,
        oapi_domain=oapi_domain,
    )
    await accept((message,))
    if route is not None:
        remember_route(message.chat.chat_id, route)
