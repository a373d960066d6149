"""DingTalk custom group robot ("自定义机器人", report-only groups): signed posts to the robot's
webhook, at most 20 a minute per robot, mapped to SendError.

No app credentials are involved: the webhook URL (with its access_token) and the robot's `SEC...`
secret come with each message in `extra`, encrypted as stored with the project's binding, and are
decrypted here with `unseal` only for the request (adapters/base.py: webhook_credentials). Custom robots
have no idempotency key, so a send that timed out after DingTalk accepted it is posted again when
retried: at least once, like any webhook without dedupe.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.base import SendError, Unseal, webhook_credentials
from adapters.dingtalk.client import render
from adapters.dingtalk.signing import custom_robot_sign
from adapters.models import OutboundMessage, in_words
from adapters.ratelimit import Limit, RateLimiter

PLATFORM = "dingtalk-webhook"
_TIMEOUT_SECONDS = 10.0
# 20 messages a minute per robot; one more and DingTalk blocks the robot for 10 minutes.
ROBOT_LIMITS = (Limit(20, 60.0),)
BLOCKED_SECONDS = 600.0
# 130101 "send too fast, exceed 20 times per minute"; 410100 "发送速度太快而限流" (current error table).
_THROTTLED = frozenset({"130101", "410100"})
# -1 "系统繁忙" is worth another try; 310000 (sign, timestamp, IP allow-list or keywords) and every
# other errcode need a person to fix the robot's settings.
_BUSY = "-1"
# DingTalk publishes no byte cap for custom robot messages; Feishu's custom bots take 20 KB. Jobs split
# reports below this, so a larger body is a bug rather than something to retry.
MAX_BODY_BYTES = 20_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def robot_limiter(**kwargs: Any) -> RateLimiter:
    """Per robot (keyed by its webhook URL); kwargs: clock, sleep."""
    return RateLimiter((), ROBOT_LIMITS, **kwargs)


def epoch_millis(moment: datetime) -> int:
    # Integer arithmetic: float timestamps can be a millisecond off, and the sign covers the value.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def body_of(message: OutboundMessage) -> dict[str, Any]:
    msg_type, fields, at_ids = render(in_words(message.content))
    body: dict[str, Any] = {"msgtype": msg_type, msg_type: fields}
    if at_ids:
        body["at"] = {"atUserIds": at_ids}
    return body


class DingTalkRobotWebhook:
    """Sends to DingTalk custom robots; needs no credentials of its own, so it is always enabled."""

    platform = PLATFORM

    def __init__(
        self,
        *,
        unseal: Unseal,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._unseal = unseal
        self._now = now  # wall time, for the signed timestamp
        self._clock = clock  # monotonic, for the 10-minute block
        self._limiter = limiter or robot_limiter(clock=clock)
        self._blocked_until: dict[str, float] = {}
        self._http = httpx.AsyncClient(timeout=_TIMEOUT_SECONDS)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, message: OutboundMessage) -> str:
        """Post one message; custom robots return no message id, so "" on success."""
        url, secret = webhook_credentials(message, self._unseal, "custom robot")
        raw = json.dumps(body_of(message), ensure_ascii=False, separators=(",", ":")).encode()
        if len(raw) > MAX_BODY_BYTES:
            raise SendError(f"custom robot: message of {len(raw)} bytes is too large", retryable=False)
        blocked = self._blocked_until.get(url, 0.0) - self._clock()
        if blocked > 0:  # asking again while blocked only costs another refusal
            raise SendError("custom robot: blocked for sending too fast", retryable=True, retry_after=blocked)
        async with self._limiter.call(url):
            stamp = str(epoch_millis(self._now()))
            # The sign is URL-encoded already; appended as is so it reaches DingTalk exactly so.
            joiner = "&" if "?" in url else "?"
            signed = f"{url}{joiner}timestamp={stamp}&sign={custom_robot_sign(stamp, secret)}"
            try:
                response = await self._http.post(
                    signed, content=raw, headers={"content-type": "application/json; charset=utf-8"}
                )
            except httpx.TransportError as exc:
                # The exception's text never holds the URL, whose access_token is a credential.
                raise SendError(f"custom robot: {type(exc).__name__}", retryable=True) from exc
        self._check(url, response)
        return ""

    def _check(self, url: str, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        errcode = str(body.get("errcode")) if isinstance(body, dict) else None
        if response.status_code == 200 and errcode == "0":
            return
        detail = f"custom robot: HTTP {response.status_code}"
        if isinstance(body, dict):
            detail += f", errcode {errcode}: {body.get('errmsg')}"
        if errcode in _THROTTLED:
            self._blocked_until[url] = self._clock() + BLOCKED_SECONDS
            raise SendError(detail, retryable=True, retry_after=BLOCKED_SECONDS)
        raise SendError(detail, retryable=errcode == _BUSY or response.status_code >= 500)
