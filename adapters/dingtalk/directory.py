"""Users' display names by staffId, so a message that @-mentions several people can be read.

DingTalk's robot messages list who was mentioned (`atUsers`) but not where: the text only shows each
"@Name". With the names from the contacts API ("根据userid获取用户详情", `POST /topapi/v2/user/get`,
which needs the app permission 通讯录个人信息读权限 / qyapi_get_member), events.parse_message places
each mention by its name. Only messages mentioning two or more people need a lookup, and names are
cached, so the webhook and the Stream handler stay fast; a failed lookup leaves the mentions as
written (the command then asks for them one at a time), it never drops the message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from adapters.base import SendError
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.events import ReplyRoute, names_to_look_up, parse_message
from adapters.models import InboundMessage

log = logging.getLogger(__name__)

# Short: the lookup runs before the message is acknowledged.
_TIMEOUT_SECONDS = 3.0
# People rarely change their name; a renamed one is read by the new name within this time.
_NAME_TTL_SECONDS = 3600.0
_CACHE_LIMIT = 4096


class Directory:
    """Looks names up through the DingTalk client (its cached token, limits and error mapping) and
    keeps them for an hour."""

    def __init__(self, client: DingTalkClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._names: dict[str, tuple[str, float]] = {}  # staffId -> (name, looked up at)

    async def names(self, staff_ids: Iterable[str]) -> dict[str, str]:
        """The names found (a user whose lookup failed is missing)."""
        wanted = list(dict.fromkeys(staff_ids))
        now = self._clock()
        found = {
            staff_id: cached[0]
            for staff_id in wanted
            if (cached := self._names.get(staff_id)) and now - cached[1] < _NAME_TTL_SECONDS
        }
        missing = [staff_id for staff_id in wanted if staff_id not in found]
        if not missing:
            return found
        try:
            looked_up = await asyncio.wait_for(
                asyncio.gather(*(self._lookup(staff_id) for staff_id in missing)), _TIMEOUT_SECONDS
            )
        except (SendError, TimeoutError) as exc:
            log.warning("DingTalk contacts: cannot look up %d user names: %r", len(missing), exc)
            return found
        if len(self._names) + len(missing) > _CACHE_LIMIT:
            self._names.clear()
        for staff_id, name in zip(missing, looked_up, strict=True):
            if name:
                self._names[staff_id] = (name, now)
                found[staff_id] = name
        return found

    async def _lookup(self, staff_id: str) -> str | None:
        try:
            name = (await self._client.user_detail(staff_id)).get("name")
        except SendError as exc:
            if exc.retryable:
                raise  # throttled or down: the others would fail alike
            log.warning("DingTalk contacts: no name for a user: %s", exc)
            return None
        return name if isinstance(name, str) and name else None


async def read_message(
    payload: dict[str, Any],
    *,
    directory: Directory | None,
    robot_code: str | None,
    now: datetime,
    oapi_domain: str,
) -> tuple[InboundMessage, ReplyRoute | None]:
    """events.parse_message, after looking up the names of the users mentioned when there are several."""
    wanted = names_to_look_up(payload)
    names: Mapping[str, str] = await directory.names(wanted) if directory is not None and wanted else {}
    return parse_message(payload, robot_code=robot_code, now=now, oapi_domain=oapi_domain, names=names)
