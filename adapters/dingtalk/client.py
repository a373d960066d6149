"""Outbound DingTalk: app access token, robot messages through a session webhook or the OpenAPI,
mapped to SendError."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from adapters.base import DownloadError, SendError
from adapters.dingtalk.cards import action_card, hint_lines
from adapters.dingtalk.events import PLATFORM, ReplyRoute, longest_first
from adapters.downloads import capped_get
from adapters.models import (
    MENTION_TOKEN,
    Card,
    File,
    Image,
    InboundMessage,
    Message,
    OutboundMessage,
    Text,
    picture_words,
    plausible_user_id,
)
from adapters.ratelimit import Limit, RateLimiter
from adapters.split import json_escaped_size, part_of, split_reply
from adapters.token_cache import CachedToken
from adapters.uploads import UploadCache

log = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 10.0
# A session webhook this close to its expiry is not used: the send may be retried after it lapses.
_ROUTE_MARGIN = timedelta(seconds=60)
# Reply routes kept at most (one per active conversation; conversation ids come from message bodies,
# so a flood of them must not grow memory); also the cap of the parts-sent map.
MAX_ROUTES = 1024
# New-API (api.dingtalk.com) error codes.
_TOKEN_REJECTED = frozenset({"InvalidAuthentication", "InvalidAccessToken"})
_THROTTLED_MARKERS = ("QpsLimit", "Throttling", "RateLimit")
# Old-API (oapi / session webhook) errcodes: 130101 "send too fast", 410100 "发送速度太快而限流".
_OAPI_THROTTLED = frozenset({130101, 410100})
# The robot send APIs allow about 20 calls a second each (per app).
API_LIMITS = (Limit(20, 1.0),)
# The robot send APIs take a msgParam of at most 15,000 bytes (session webhooks about 20 KB): a
# larger message goes in parts below this, leaving room for the JSON around it.
MAX_PARAM_BYTES = 14_000
# Short: a lookup may run before a message is acknowledged.
_NAMES_TIMEOUT_SECONDS = 3.0
# People rarely change their name; a renamed one is read by the new name within this time.
_NAME_TTL_SECONDS = 3600.0
_NAME_CACHE_LIMIT = 4096
_GROUP_SEND = "/v1.0/robot/groupMessages/send"
_USER_SEND = "/v1.0/robot/oToMessages/batchSend"
_MSG_KEYS = {"text": "sampleText", "markdown": "sampleMarkdown"}
_FILE_DOWNLOAD = "/v1.0/robot/messageFiles/download"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_limiter(**kwargs: Any) -> RateLimiter:
    """Keyed by API path, so each robot send API gets its own 20 calls/s; kwargs: clock, sleep."""
    return RateLimiter((), API_LIMITS, **kwargs)


def with_dingtalk_mentions(text: str) -> tuple[str, list[str]]:
    """`<at:STAFFID>` tokens as DingTalk's `@STAFFID` (the form `atUserIds` highlights), and the ids.
    Only a person's id is @-ed: a token like `<at:all>` stays visible text."""
    ids = list(dict.fromkeys(found for found in MENTION_TOKEN.findall(text) if plausible_user_id(found)))

    def at(match: re.Match[str]) -> str:
        return f"@{match[1]}" if plausible_user_id(match[1]) else "＜" + match[0][1:]

    return MENTION_TOKEN.sub(at, text), ids


# A directory name placed in markdown must not open a link or a tag.
_NAME_MARKUP = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞"})


def _plain_name(name: str) -> str:
    return name.translate(_NAME_MARKUP)


def render(reply: Message, *, buttons: bool = False) -> tuple[str, dict[str, str], list[str]]:
    """(`text` | `markdown` | an action card's msgKey, its fields, the staff ids to @) for one
    neutral reply; a card's buttons become an action card only with `buttons` (1:1 chats, see
    cards.py), and hint lines stand for those that need input."""
    if isinstance(reply, Text):
        prefix = "".join(f"<at:{user.user_id}> " for user in reply.mentions)
        text, ids = with_dingtalk_mentions(prefix + reply.text)
        return "text", {"content": text}, ids
    body, ids = with_dingtalk_mentions("\n".join([reply.body, *hint_lines(reply)]))
    text = f"### {reply.title}\n\n{body}"
    card = action_card(reply, text) if buttons else None
    if card is not None:
        return *card, ids
    return "markdown", {"title": reply.title, "text": text}, ids


def _msg_param(fields: dict[str, str]) -> str:
    """`msgParam`: the fields as a JSON string inside the JSON body, as the robot API wants."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def _param_size(fields: dict[str, str]) -> int:
    return len(_msg_param(fields).encode())


def render_parts(reply: Message, *, buttons: bool = False) -> list[tuple[str, dict[str, str], list[str]]]:
    """`render` of the reply, split on line boundaries into parts whose `msgParam` stays within
    MAX_PARAM_BYTES (a card keeps its title on each part, its buttons on the last)."""
    rendered = render(reply, buttons=buttons)
    if _param_size(rendered[1]) <= MAX_PARAM_BYTES:
        return [rendered]
    # The last part's shape is the largest (its buttons and hint lines), and `@id` is never longer
    # than `<at:id>`: measuring the neutral body against what is left is safe.
    overhead = _param_size(render(part_of(reply, "", first=True, last=True), buttons=buttons)[1])
    parts = split_reply(reply, MAX_PARAM_BYTES - overhead, json_escaped_size)
    return [render(part, buttons=buttons) for part in parts]


class DingTalkClient:
    """Calls DingTalk with one pooled httpx client; the access token is cached, refreshed early and
    fetched once under a lock.

    Replies go to the conversation's `sessionWebhook` while it is fresh, else through the robot
    OpenAPI. The webhooks are kept in memory only (`remember_route`): an optimisation (no token, no
    OpenAPI quota); after a restart, or on another process, the OpenAPI path sends the same reply.
    """

    platform = PLATFORM

    def __init__(
        self,
        api_domain: str,
        app_key: str,
        app_secret: str,
        robot_code: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
        oapi_domain: str = "https://oapi.dingtalk.com",
        max_routes: int = MAX_ROUTES,
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._robot_code = robot_code
        self._clock = clock
        self._now = now
        self._limiter = limiter or send_limiter()
        self._http = httpx.AsyncClient(base_url=api_domain.rstrip("/"), timeout=_TIMEOUT_SECONDS)
        self._oapi_domain = oapi_domain.rstrip("/")
        self._token = CachedToken(self._fetch_token, clock=clock)
        # Oldest first (insertion order): the eviction order once expired routes are gone.
        self._routes: dict[str, ReplyRoute] = {}
        self._max_routes = max_routes
        # Parts of a split message already sent, by idempotency key, while its later parts fail.
        self._parts_sent: dict[str, int] = {}
        self.directory = Directory(self)
        # DingTalk keeps an uploaded media file 3 days: reuse it for 2.
        self._images = UploadCache(ttl_seconds=2 * 86400, clock=clock)
        self._files = UploadCache(ttl_seconds=2 * 86400, clock=clock)

    async def aclose(self) -> None:
        await self._http.aclose()

    def remember_route(self, chat_id: str, route: ReplyRoute) -> None:
        """Keep the conversation's session webhook for replies until it expires, at most `max_routes`
        of them: past that, expired ones go first, then the oldest (their replies use the OpenAPI)."""
        self._routes.pop(chat_id, None)
        self._routes[chat_id] = route
        if len(self._routes) > self._max_routes:
            now = self._now()
            self._routes = {chat: kept for chat, kept in self._routes.items() if kept.expires_at > now}
            while len(self._routes) > self._max_routes:
                del self._routes[next(iter(self._routes))]

    async def send(self, message: OutboundMessage) -> str:
        """Send one message (in parts when it is too large; a card's pictures, which a robot message
        cannot hold, as image messages right after it); returns DingTalk's processQueryKey of the
        last part ("" for a session webhook reply). Robot sends have no dedupe key, so the parts that
        went out are remembered and a retry after a failed part sends only the rest."""
        if isinstance(message.content, Image):
            return await self._send_image(message, message.content)
        if isinstance(message.content, File):
            # A file too (a session webhook cannot carry one): sampleFile names an uploaded mediaId.
            file = message.content
            media_id = await self._files.get(
                file.data,
                lambda data: self._upload_media(data, kind="file", name=file.name, content_type=XLSX_TYPE),
            )
            kind = file.name.rsplit(".", 1)[-1]
            fields = {"mediaId": media_id, "fileName": file.name, "fileType": kind}
            return await self._send_by_openapi(message, "sampleFile", fields)
        rendered = render_parts(message.content, buttons=message.extra.get("to") == "user")
        parts: list[Callable[[], Awaitable[str]]] = [
            partial(self._send_part, message, msg_type, fields, at_ids)
            for msg_type, fields, at_ids in rendered
        ]
        if isinstance(message.content, Card):
            pictures = message.content.images
            parts += [partial(self._send_image, message, picture, in_card=True) for picture in pictures]
        if len(self._parts_sent) >= MAX_ROUTES:  # left by messages that failed for good
            self._parts_sent.clear()
        done = self._parts_sent.get(message.idempotency_key, 0)
        key = ""
        for index, send_part in enumerate(parts):
            if index < done:
                continue
            key = await send_part()
            self._parts_sent[message.idempotency_key] = index + 1
        self._parts_sent.pop(message.idempotency_key, None)
        return key

    async def _send_image(self, message: OutboundMessage, picture: Image, *, in_card: bool = False) -> str:
        """A picture through the robot OpenAPI (sampleImageMsg takes an uploaded mediaId). In a card,
        one DingTalk refuses to take for good (too large, say) goes as its line of words, so the
        card's other parts still go."""
        try:
            media_id = await self._images.get(
                picture.png,
                lambda png: self._upload_media(png, kind="image", name="chart.png", content_type="image/png"),
            )
        except SendError as exc:
            if exc.retryable or not in_card:
                raise
            log.warning("DingTalk refused a card's picture, sent in words instead: %s", exc)
            return await self._send_by_openapi(message, "text", {"content": picture_words(picture)})
        return await self._send_by_openapi(message, "sampleImageMsg", {"photoURL": media_id})

    async def _send_part(
        self, message: OutboundMessage, msg_type: str, fields: dict[str, str], at_ids: list[str]
    ) -> str:
        route = self._routes.get(message.chat_id)
        if (
            route is not None
            and message.reply_to
            and message.extra.get("to") != "user"
            and route.expires_at - _ROUTE_MARGIN > self._now()
        ):
            try:
                await self._send_by_session(route, msg_type, fields, at_ids)
                return ""
            except SendError as exc:
                if exc.retryable:  # throttled, or perhaps delivered (timeout): try the same way again
                    raise
                # Refused (e.g. the session ended early), so nothing was posted: use the OpenAPI now.
                log.warning("DingTalk session webhook refused, sending through the OpenAPI: %s", exc)
                if self._routes.get(message.chat_id) is route:
                    del self._routes[message.chat_id]
        return await self._send_by_openapi(message, msg_type, await self._with_names(fields, at_ids))

    async def _with_names(self, fields: dict[str, str], at_ids: list[str]) -> dict[str, str]:
        """The robot OpenAPI cannot @ anyone, so "@staffId" shows as typed: write "@Name" instead
        (the id stays where a name is not found)."""
        if not at_ids:
            return fields
        names = await self.directory.names(at_ids)
        if not names:
            return fields
        # Never followed by more of an id, so "@user1" never takes the front of "@user12".
        pattern = re.compile(f"@({longest_first(names)})(?![A-Za-z0-9_-])")
        return {
            key: pattern.sub(lambda match: f"@{_plain_name(names[match.group(1)])}", value)
            for key, value in fields.items()
        }

    async def _send_by_session(
        self, route: ReplyRoute, msg_type: str, fields: dict[str, str], at_ids: list[str]
    ) -> None:
        body: dict[str, Any] = {"msgtype": msg_type, msg_type: fields, "at": {"atUserIds": at_ids}}
        async with self._limiter.call("sessionWebhook"):
            await self._request("POST", route.session_webhook, what="session webhook reply", payload=body)

    async def _send_by_openapi(self, message: OutboundMessage, msg_type: str, fields: dict[str, str]) -> str:
        payload: dict[str, Any] = {
            "robotCode": self._robot_code,
            "msgKey": _MSG_KEYS.get(msg_type, msg_type),  # action cards come with their msgKey
            "msgParam": _msg_param(fields),
        }
        if message.extra.get("to") == "user":
            path, what = _USER_SEND, "send to user"
            payload["userIds"] = [message.chat_id]
        elif message.extra.get("chat_type") == "p2p" and message.extra.get("user"):
            # A reply in a 1:1 chat whose session webhook is gone: groupMessages/send cannot reach a
            # 1:1 conversation, so it goes to the person (the runtime records who that is).
            path, what = _USER_SEND, "reply in a 1:1 chat"
            payload["userIds"] = [message.extra["user"]]
        else:
            path, what = _GROUP_SEND, "send to group"
            payload["openConversationId"] = message.chat_id
        # Limited per API path: both kinds of message to a person share batchSend's 20 calls/s.
        answer = await self.call_api("POST", path, what=what, payload=payload, limit_key=path)
        key = answer.get("processQueryKey")
        return key if isinstance(key, str) else ""

    async def _upload_media(self, data: bytes, *, kind: str, name: str, content_type: str) -> str:
        """oapi `media/upload?type=image|file`: the mediaId a robot message names."""
        token = await self._access_token()
        url = f"{self._oapi_domain}/media/upload?{urlencode({'access_token': token, 'type': kind})}"
        async with self._limiter.call("media upload"):
            answer = await self._request(
                "POST", url, what=f"upload {kind}", files={"media": (name, data, content_type)}, token=token
            )
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise SendError(f"upload {kind}: response without media_id", retryable=False)
        return media_id

    async def download(self, message: InboundMessage, *, max_bytes: int) -> bytes:
        """The file of a file message: `robot/messageFiles/download` swaps its downloadCode for a
        short-lived URL on some storage host, which is fetched only over https, without the token."""
        if message.file is None:
            raise DownloadError("not a file message")
        try:
            answer = await self.call_api(
                "POST",
                _FILE_DOWNLOAD,
                what="file download",
                payload={"downloadCode": message.file.key, "robotCode": self._robot_code},
            )
        except SendError as exc:
            raise DownloadError(str(exc)) from exc
        url = answer.get("downloadUrl")
        if not isinstance(url, str) or len(url) > 4096 or urlsplit(url).scheme != "https":
            raise DownloadError("file download: no https downloadUrl in the answer")
        status, body = await capped_get(self._http, url, max_bytes=max_bytes, what="file download")
        if status != 200:
            raise DownloadError(f"file download: HTTP {status}")
        return body

    async def _access_token(self) -> str:
        return await self._token.get()

    async def call_api(
        self,
        method: str,
        path: str,
        *,
        what: str,
        payload: dict[str, Any],
        params: Mapping[str, str] | None = None,
        old_api: bool = False,
        limit_key: str | None = None,
    ) -> dict[str, Any]:
        """Call a DingTalk API with the app's cached access token, this client's error mapping and
        its 20 calls/s per API (keyed by `limit_key`, else `what`): one token and one mapping for all
        of DingTalk (robot sends, the AI table writer, the contacts lookup). `path` is on the API
        domain, where the token goes in a header, or with `old_api` on the oapi domain, where it goes
        in the `access_token` query parameter."""
        token = await self._access_token()
        query = dict(params or {})
        headers: dict[str, str] | None = None
        if old_api:
            path = f"{self._oapi_domain}{path}"
            query["access_token"] = token
        else:
            headers = {"x-acs-dingtalk-access-token": token}
        url = f"{path}?{urlencode(query)}" if query else path
        async with self._limiter.call(limit_key or what):
            return await self._request(method, url, what=what, payload=payload, headers=headers, token=token)

    async def user_detail(self, staff_id: str) -> dict[str, Any]:
        """A user's details (name, unionid...) from the contacts API `topapi/v2/user/get`, which needs
        the app permission qyapi_get_member; SendError when DingTalk has none for them."""
        body = await self.call_api(
            "POST",
            "/topapi/v2/user/get",
            what="user detail",
            payload={"userid": staff_id, "language": "zh_CN"},
            old_api=True,
        )
        result = body.get("result")
        if not isinstance(result, dict):
            raise SendError("user detail: answer without result", retryable=False)
        return result

    async def _fetch_token(self) -> tuple[str, int]:
        body = await self._request(
            "POST",
            "/v1.0/oauth2/accessToken",
            what="access token",
            payload={"appKey": self._app_key, "appSecret": self._app_secret},
        )
        token, expire = body.get("accessToken"), body.get("expireIn")
        if not isinstance(token, str) or not token or not isinstance(expire, int):
            raise SendError("access token: response without accessToken or expireIn", retryable=False)
        return token, expire

    async def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, json=payload, headers=headers, files=files)
        except httpx.TransportError as exc:
            raise SendError(f"{what}: {exc!r}", retryable=True) from exc
        return self._check(what, response.status_code, response.headers, response.content, token)

    def _check(
        self, what: str, status: int, headers: Mapping[str, str], content: bytes, token: str | None
    ) -> dict[str, Any]:
        """The JSON body of a successful call; otherwise a SendError saying whether to retry.

        Two error shapes: the new API's {code, message} (HTTP 4xx/5xx) and the old API's
        {errcode, errmsg} (HTTP 200); plus the gateway's IP block {status, wait, punish}.
        """
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}  # e.g. a gateway's HTML error page: the status alone decides
        code, errcode = body.get("code"), body.get("errcode", 0)
        if 200 <= status < 300 and code is None and str(errcode) == "0" and "punish" not in body:
            return body
        detail = f"{what}: HTTP {status}, code {code or errcode}: {body.get('message') or body.get('errmsg')}"
        if "punish" in body:  # IP throttled: `wait` seconds
            raise SendError(detail, retryable=True, retry_after=_seconds(body.get("wait")))
        if (
            status == 429
            or (isinstance(code, str) and any(marker in code for marker in _THROTTLED_MARKERS))
            or _int(errcode) in _OAPI_THROTTLED
        ):
            raise SendError(detail, retryable=True, retry_after=_seconds(headers.get("retry-after")))
        if code in _TOKEN_REJECTED:
            self._token.drop(token)
            raise SendError(detail, retryable=True)
        raise SendError(detail, retryable=status >= 500)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _seconds(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class Directory:
    """Users' display names by staffId from the contacts API (`topapi/v2/user/get`, app permission
    qyapi_get_member), through the client (its token, limits and error mapping), kept for an hour.
    Used to read messages that @-mention several people (adapters/dingtalk/directory.py) and to
    write names where the OpenAPI cannot @ anyone."""

    def __init__(self, client: DingTalkClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        # staffId -> (name, looked up at); "" for someone DingTalk has no name for (not asked again
        # within the hour, e.g. while the app lacks the permission).
        self._names: dict[str, tuple[str, float]] = {}

    async def names(self, staff_ids: Iterable[str]) -> dict[str, str]:
        """The names found (a user whose lookup failed is missing)."""
        wanted = list(dict.fromkeys(staff_ids))
        now = self._clock()
        known = {
            staff_id: cached[0]
            for staff_id in wanted
            if (cached := self._names.get(staff_id)) and now - cached[1] < _NAME_TTL_SECONDS
        }
        found = {staff_id: name for staff_id, name in known.items() if name}
        missing = [staff_id for staff_id in wanted if staff_id not in known]
        if not missing:
            return found
        try:
            looked_up = await asyncio.wait_for(
                asyncio.gather(*(self._lookup(staff_id) for staff_id in missing)), _NAMES_TIMEOUT_SECONDS
            )
        except (SendError, TimeoutError) as exc:
            log.warning("DingTalk contacts: cannot look up %d user names: %r", len(missing), exc)
            return found
        if len(self._names) + len(missing) > _NAME_CACHE_LIMIT:
            self._names.clear()
        for staff_id, name in zip(missing, looked_up, strict=True):
            self._names[staff_id] = (name or "", now)
            if name:
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
