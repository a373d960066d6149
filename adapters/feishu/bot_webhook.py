"""Feishu custom bot ("自定义机器人", report-only groups): signed posts to the bot's webhook, at most
5 a second and 100 a minute per bot, bodies up to 20 KB, mapped to SendError.

No app credentials are involved: the webhook URL and the bot's signing secret come with each message
in `extra`, encrypted as stored with the project's binding, and are decrypted here with `unseal` only
for the request (adapters/base.py: webhook_credentials). Custom bots have no `uuid` dedupe, so a send
that timed out after Feishu accepted it is posted again when retried (at least once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.base import SendError, Unseal, webhook_credentials
from adapters.feishu.cards import render, with_feishu_mentions
from adapters.models import OutboundMessage, in_words
from adapters.ratelimit import Limit, RateLimiter

PLATFORM = "feishu-webhook"
_TIMEOUT_SECONDS = 10.0
# Per bot (one tenant): 100 a minute and 5 a second.
BOT_LIMITS = (Limit(5, 1.0), Limit(100, 60.0))
# "The request body may not exceed 20 KB" (custom bot guide).
MAX_BODY_BYTES = 20_000
# 11232: throttled under system load (the guide advises avoiding the full and half hour).
_THROTTLED = 11232
# 19021 sign or timestamp, 19022 IP not allowed, 19024 keywords missing, 9499 bad request: a person
# must fix the bot's settings or our request; trying again changes nothing.


def bot_limiter(**kwargs: Any) -> RateLimiter:
    """Per bot (keyed by its webhook URL); kwargs: clock, sleep."""
    return RateLimiter((), BOT_LIMITS, **kwargs)


def custom_bot_sign(timestamp: str, secret: str) -> str:
    """base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=b"")), as the custom bot guide defines it:
    the secret sits in the key and the message is empty."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def body_of(message: OutboundMessage, timestamp: str, secret: str) -> dict[str, Any]:
    msg_type, content = render(with_feishu_mentions(in_words(message.content)))
    # A card goes in `card` as an object; the other types in `content`.
    key = "card" if msg_type == "interactive" else "content"
    return {
        "timestamp": timestamp,
        "sign": custom_bot_sign(timestamp, secret),
        "msg_type": msg_type,
        key: content,
    }


class FeishuBotWebhook:
    """Sends to Feishu custom bots; needs no credentials of its own, so it is always enabled."""

    platform = PLATFORM

    def __init__(
        self,
        *,
        unseal: Unseal,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
    ) -> None:
        self._unseal = unseal
        self._now = now  # wall time, for the signed timestamp (seconds, within an hour of Feishu's)
        self._limiter = limiter or bot_limiter()
        self._http = httpx.AsyncClient(timeout=_TIMEOUT_SECONDS)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, message: OutboundMessage) -> str:
        """Post one message; custom bots return no message id, so "" on success."""
        url, secret = webhook_credentials(message, self._unseal, "custom bot")
        async with self._limiter.call(url):
            stamp = str(int(self._now().timestamp()))
            raw = json.dumps(
                body_of(message, stamp, secret), ensure_ascii=False, separators=(",", ":")
            ).encode()
            if len(raw) > MAX_BODY_BYTES:
                raise SendError(f"custom bot: message of {len(raw)} bytes is too large", retryable=False)
            try:
                response = await self._http.post(
                    url, content=raw, headers={"content-type": "application/json; charset=utf-8"}
                )
            except httpx.TransportError as exc:
                # The exception's text never holds the URL, itself a credential.
                raise SendError(f"custom bot: {type(exc).__name__}", retryable=True) from exc
        _check(response)
        return ""


def _check(response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("code", body.get("StatusCode")) if isinstance(body, dict) else None
    if 200 <= response.status_code < 300 and code == 0:
        return
    detail = f"custom bot: HTTP {response.status_code}"
    if isinstance(body, dict):
        detail += f", code {code}: {body.get('msg') or body.get('StatusMessage')}"
    if response.status_code == 429 or code == _THROTTLED:
        raise SendError(detail, retryable=True)
    raise SendError(detail, retryable=response.status_code >= 500)
