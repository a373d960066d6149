"""The seam between the core and each platform: webhook results and the outbound sender protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.models import InboundEvent, OutboundMessage


class WebhookRejected(Exception):
    """A request that failed verification; answered 401 and never processed."""

    def __init__(self, reason: str, status_code: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


@dataclass(frozen=True)
class WebhookResult:
    """What a verified webhook request asks of us: answer `response` now, then process `events`."""

    response: dict[str, Any] = field(default_factory=dict)
    events: tuple[InboundEvent, ...] = ()


class SendError(Exception):
    """A failed send; `retryable` ones are tried again after `retry_after` seconds (or backoff)."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    platform: str

    async def send(self, message: OutboundMessage) -> str:
        """Deliver one message and return the platform's message id; raise SendError on failure."""
        ...
