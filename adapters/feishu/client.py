"""Outbound Feishu API: tenant token, bot identity and message sending, mapped to SendError."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
import lark_oapi as lark

from adapters.base import DownloadError, SendError
from adapters.downloads import capped_get
from adapters.feishu.cards import render_parts, serialize
from adapters.models import Card, File, Image, InboundMessage, Message, OutboundMessage, card_in_words
from adapters.ratelimit import Limit, RateLimiter
from adapters.token_cache import CachedToken
from adapters.uploads import UploadCache

log = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 10.0
_RATE_LIMITED = 99991400  # app-wide frequency limit (HTTP 429)
_CHAT_RATE_LIMITED = 230020  # 5 QPS per chat / per user
_TOKEN_REJECTED = frozenset({99991661, 99991663, 99991664, 99991668})
# After a failed bot-info fetch, wait this long before asking again: callers ask on every webhook.
_BOT_INFO_RETRY_SECONDS = 60.0
# uuid5 namespace for Feishu's `uuid` dedupe field (≤ 50 chars; a uuid5 string is 36).
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "crosstrack:feishu:message")
# Feishu's send limits: 50 messages a second and 1000 a minute per app, 5 a second per chat or user.
APP_SEND_LIMITS = (Limit(50, 1.0), Limit(1000, 60.0))
RECEIVER_SEND_LIMITS = (Limit(5, 1.0),)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_limiter(**kwargs: Any) -> RateLimiter:
    """The limiter one FeishuClient (one app, one process) sends through; kwargs: clock, sleep."""
    return RateLimiter(APP_SEND_LIMITS, RECEIVER_SEND_LIMITS, **kwargs)


def message_uuid(idempotency_key: str, part: int = 0) -> str:
    """Feishu's per-send `uuid`: stable for a key and part, so a retried send is deduplicated."""
    return str(uuid.uuid5(_UUID_NAMESPACE, f"{idempotency_key}\x00{part}"))


class FeishuClient:
    """Calls the Feishu Open API with one pooled httpx client; the tenant token is cached, refreshed
    early and fetched once under a lock.

    Messages do not go through lark-oapi: its token fetch blocks the event loop (`requests`), and
    its async calls open a new httpx client per request, i.e. a new TLS context (~20 ms of CPU) and
    connection per message, which alone caps sending near Feishu's 50 messages a second.

    Every send waits for room under Feishu's limits (app-wide and per receiving chat or user).
    The limiter lives in this process: several sending processes together can exceed the app's
    limits, and then Feishu's 429s (honoured through `retry_after`) hold them back.
    """

    platform = "feishu"

    def __init__(
        self,
        domain: str,
        app_id: str,
        app_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
    ) -> None:
        domain = domain.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._clock = clock
        self._limiter = limiter or send_limiter()
        # Keep as many connections as sends may go out at once (a window's worth, see APP_SEND_LIMITS):
        # with httpx's default of 20, every burst would open, and TLS-handshake, new ones.
        keep = httpx.Limits(max_connections=100, max_keepalive_connections=APP_SEND_LIMITS[0].calls)
        self._http = httpx.AsyncClient(base_url=domain, timeout=_TIMEOUT_SECONDS, limits=keep)
        # For the Bitable writer (bitable.py), which sends little; it is given our tenant token.
        self._lark = (
            lark.Client.builder()
            .app_id(app_id)
            .app_secret(app_secret)
            .domain(domain)
            .enable_set_token(True)
            .timeout(_TIMEOUT_SECONDS)
            .build()
        )
        self._token = CachedToken(self._fetch_token, clock=clock)
        self._bot_open_id: str | None = None
        self._bot_info_retry_at = 0.0
        # Feishu keeps an uploaded image: the same picture to many chats is uploaded once.
        self._images = UploadCache(ttl_seconds=None, clock=clock)
        self._files = UploadCache(ttl_seconds=None, clock=clock)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def bot_open_id(self) -> str | None:
        """The bot's own open_id (to recognise its @mention), or None if it cannot be fetched now."""
        if self._bot_open_id is not None or self._clock() < self._bot_info_retry_at:
            return self._bot_open_id
        try:
            body = await self._get("/open-apis/bot/v3/info", what="bot info")
            bot = body.get("bot")
            open_id = bot.get("open_id") if isinstance(bot, dict) else None
            if not isinstance(open_id, str) or not open_id:
                raise SendError(f"bot info: no open_id in {body}", retryable=False)
        except SendError as exc:
            self._bot_info_retry_at = self._clock() + _BOT_INFO_RETRY_SECONDS
            log.warning(
                "cannot fetch the Feishu bot open_id (retry in %.0fs): %s", _BOT_INFO_RETRY_SECONDS, exc
            )
            return None
        self._bot_open_id = open_id
        return open_id

    async def send(self, message: OutboundMessage) -> str:
        """Send one message (several if it is too large, in order); returns the last message id.
        A picture, alone or in a card, is uploaded first (`im/v1/images`); alone, it is then sent as
        an image message, in a card the card names its key."""
        if isinstance(message.content, Image):
            image_key = await self._images.get(message.content.png, self._upload_image)
            content = serialize({"image_key": image_key})
            return await self._send_part(message, "image", content, message_uuid(message.idempotency_key))
        if isinstance(message.content, File):
            file = message.content
            file_key = await self._files.get(file.data, lambda data: self._upload_file(data, file.name))
            content = serialize({"file_key": file_key})
            return await self._send_part(message, "file", content, message_uuid(message.idempotency_key))
        reply: Message = message.content
        image_keys: list[str] = []
        if isinstance(reply, Card) and reply.images:
            reply, image_keys = await self._uploaded(reply)
        try:
            msg_type, contents = render_parts(reply, image_keys=image_keys)
        except ValueError as exc:
            raise SendError(f"cannot render message: {exc}", retryable=False) from exc
        message_id = ""
        for part, content in enumerate(contents):
            dedupe = message_uuid(message.idempotency_key, part)
            message_id = await self._send_part(message, msg_type, content, dedupe)
        return message_id

    async def _uploaded(self, card: Card) -> tuple[Card, list[str]]:
        """The card to send and the keys of its uploaded pictures. A picture Feishu refuses for good
        (too large, say) becomes its line of words, so the card still goes; a retryable failure
        raises, to try the whole message again."""
        kept: list[Image] = []
        refused: list[Image] = []
        keys: list[str] = []
        for picture in card.images:
            try:
                keys.append(await self._images.get(picture.png, self._upload_image))
                kept.append(picture)
            except SendError as exc:
                if exc.retryable:
                    raise
                log.warning("Feishu refused a card's picture, sent in words instead: %s", exc)
                refused.append(picture)
        in_words = card_in_words(replace(card, images=tuple(refused)))
        return replace(in_words, images=tuple(kept)), keys

    async def _send_part(self, message: OutboundMessage, msg_type: str, content: str, dedupe: str) -> str:
        body: dict[str, str] = {"msg_type": msg_type, "content": content, "uuid": dedupe}
        params: dict[str, str] = {}
        if message.reply_to:
            path = f"/open-apis/im/v1/messages/{quote(message.reply_to, safe='')}/reply"
        else:
            path = "/open-apis/im/v1/messages"
            params["receive_id_type"] = "open_id" if message.extra.get("to") == "user" else "chat_id"
            body["receive_id"] = message.chat_id
        token = await self._tenant_token()
        # A reply lands in the chat of the message it answers: the same per-chat limit.
        async with self._limiter.call(message.chat_id):
            answer = await self._request(
                "POST",
                path,
                what="send message",
                payload=body,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                token=token,
            )
        message_id = (answer.get("data") or {}).get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise SendError("send message: response without message_id", retryable=False)
        return message_id

    async def _upload_image(self, png: bytes) -> str:
        files = {"image": ("chart.png", png, "image/png")}
        return await self._upload("images", {"image_type": "message"}, files, key="image_key")

    async def _upload_file(self, data: bytes, name: str) -> str:
        """Feishu's file types know no xlsx: a workbook is an `xls`."""
        files = {"file": (name, data, XLSX_TYPE)}
        return await self._upload("files", {"file_type": "xls", "file_name": name}, files, key="file_key")

    async def _upload(
        self, kind: str, form: dict[str, str], files: dict[str, tuple[str, bytes, str]], *, key: str
    ) -> str:
        """`im/v1/images` or `im/v1/files`: the key a message then names."""
        token = await self._tenant_token()
        what = f"upload {kind}"
        answer = await self._request(
            "POST",
            f"/open-apis/im/v1/{kind}",
            what=what,
            form=form,
            files=files,
            headers={"Authorization": f"Bearer {token}"},
            token=token,
        )
        uploaded = (answer.get("data") or {}).get(key)
        if not isinstance(uploaded, str) or not uploaded:
            raise SendError(f"{what}: response without {key}", retryable=False)
        return uploaded

    async def download(self, message: InboundMessage, *, max_bytes: int) -> bytes:
        """The file of a file message: `im/v1/messages/{message_id}/resources/{file_key}?type=file`."""
        if message.file is None:
            raise DownloadError("not a file message")
        try:
            token = await self._tenant_token()
        except SendError as exc:
            raise DownloadError(f"download: {exc}") from exc
        path = (
            f"/open-apis/im/v1/messages/{quote(message.message_id, safe='')}"
            f"/resources/{quote(message.file.key, safe='')}?type=file"
        )
        status, body = await capped_get(
            self._http,
            path,
            max_bytes=max_bytes,
            what="download",
            headers={"Authorization": f"Bearer {token}"},
        )
        if status != 200:
            # An error is JSON with a code; a token Feishu rejects is fetched anew next time.
            with contextlib.suppress(SendError):
                self._check("download", status, {}, body, token)
            raise DownloadError(f"download: HTTP {status}")
        return body

    async def _tenant_token(self) -> str:
        return await self._token.get()

    async def _fetch_token(self) -> tuple[str, int]:
        body = await self._request(
            "POST",
            "/open-apis/auth/v3/tenant_access_token/internal",
            what="tenant token",
            payload={"app_id": self._app_id, "app_secret": self._app_secret},
        )
        token, expire = body.get("tenant_access_token"), body.get("expire")
        if not isinstance(token, str) or not token or not isinstance(expire, int):
            raise SendError("tenant token: response without token or expire", retryable=False)
        return token, expire

    async def _get(self, path: str, *, what: str) -> dict[str, Any]:
        token = await self._tenant_token()
        return await self._request(
            "GET", path, what=what, headers={"Authorization": f"Bearer {token}"}, token=token
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        payload: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        form: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(
                method, path, json=payload, params=params, headers=headers, data=form, files=files
            )
        except httpx.TransportError as exc:
            raise SendError(f"{what}: {exc!r}", retryable=True) from exc
        return self._check(what, response.status_code, response.headers, response.content, token)

    def _check(
        self, what: str, status: int, headers: Mapping[str, str], content: bytes, token: str | None
    ) -> dict[str, Any]:
        """The JSON body of a successful call; otherwise a SendError saying whether to retry."""
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}  # e.g. a gateway's HTML error page: the status alone decides
        code, msg = body.get("code"), body.get("msg")
        if code == 0 and 200 <= status < 300:
            return body
        detail = f"{what}: HTTP {status}, code {code}: {msg}"
        if status == 429 or code in (_RATE_LIMITED, _CHAT_RATE_LIMITED):
            raise SendError(detail, retryable=True, retry_after=_retry_after(headers))
        if code in _TOKEN_REJECTED:
            self._token.drop(token)
            raise SendError(detail, retryable=True)
        raise SendError(detail, retryable=status >= 500)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = httpx.Headers(headers).get("x-ogw-ratelimit-reset")  # case-insensitive lookup
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
