"""DingTalk request signing (pure): the robot callback's `timestamp` + `sign` headers and the
custom robot's `sign` query parameter share one algorithm.

sign = base64(HMAC-SHA256(key=secret, msg=timestamp_ms + "\\n" + secret)). It covers the timestamp
only, never the body: a captured pair would let anyone post any body inside the window, so the
webhook makes each pair single-use (the first msgId to claim it keeps it) and still treats body fields
as untrusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

from adapters.base import WebhookRejected

_TIMESTAMP = "timestamp"
_SIGN = "sign"
# ASCII digits only (str.isdigit takes "１２３"), and few enough that int() stays cheap.
_MILLIS = re.compile(r"[0-9]{1,16}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def callback_sign(timestamp_ms: str, app_secret: str) -> str:
    """The Base64 signature DingTalk puts in a robot callback's `sign` header."""
    digest = hmac.new(app_secret.encode(), f"{timestamp_ms}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def custom_robot_sign(timestamp_ms: str, secret: str) -> str:
    """The `sign` query parameter of a custom robot webhook URL: the same signature, URL-encoded."""
    return quote_plus(callback_sign(timestamp_ms, secret))


@dataclass(frozen=True)
class SignedPair:
    """A verified callback's `timestamp`/`sign` pair as a single-use value: `nonce` names it and
    `expires_at` is when its window closes (after that the pair is refused anyway)."""

    nonce: str
    expires_at: datetime


def verify_callback(
    headers: Mapping[str, str], *, app_secret: str, now: datetime, window_seconds: int = 3600
) -> SignedPair:
    """Accept a robot callback signed with `app_secret` less than `window_seconds` ago (either way,
    so a future timestamp cannot stretch the window); raise WebhookRejected otherwise. Headers only:
    the body is not read before this passes."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp, received = lowered.get(_TIMESTAMP), lowered.get(_SIGN)
    if not timestamp or not received:
        raise WebhookRejected("missing timestamp or sign header")
    if not _MILLIS.fullmatch(timestamp):
        raise WebhookRejected("timestamp header is not epoch milliseconds")
    if abs(now.timestamp() * 1000 - int(timestamp)) > window_seconds * 1000:
        raise WebhookRejected("stale or future timestamp (possible replay)")
    expected = callback_sign(timestamp, app_secret)
    # Bytes, because compare_digest refuses non-ASCII str and the header is attacker-controlled.
    if not hmac.compare_digest(expected.encode(), received.encode()):
        raise WebhookRejected("bad signature")
    return SignedPair(
        nonce=hashlib.sha256(f"{timestamp}\n{received}".encode()).hexdigest(),
        expires_at=_EPOCH + timedelta(milliseconds=int(timestamp), seconds=window_seconds),
    )
