"""The seam between the core and each platform: webhook results, the outbound sender and table writer
protocols."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from adapters.models import InboundEvent, InboundMessage, OutboundMessage

# Hands verified inbound events to the core (Runtime.accept), which claims each one durably.
Accept = Callable[[Sequence[InboundEvent]], Awaitable[None]]


@dataclass(frozen=True)
class RequestNonce:
    """A single-use value a request carries (e.g. a DingTalk callback's timestamp/sign pair): the first
    `owner` (the event it brought) to claim it keeps it until `expires_at`."""

    scope: str
    nonce: str
    owner: str
    expires_at: datetime


class AcceptOnce(Protocol):
    """Runtime.accept with the request's nonce: claimed in the same transaction as the events, and a
    nonce held by another owner refuses the request (WebhookRejected) with nothing stored."""

    def __call__(
        self, events: Sequence[InboundEvent], *, nonce: RequestNonce | None = None
    ) -> Awaitable[None]: ...


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


# Decrypts a value stored encrypted (storage/secretbox.py: SecretBox.open); raises ValueError when it
# cannot (no key configured, or not the key it was sealed with).
Unseal = Callable[[str], str]


def webhook_credentials(message: OutboundMessage, unseal: Unseal, what: str) -> tuple[str, str]:
    """A custom robot message's webhook URL and secret, from the encrypted `sealed_url` and
    `sealed_secret` of its `extra`; a message without them, or whose key is gone, is not retried."""
    url, secret = message.extra.get("sealed_url"), message.extra.get("sealed_secret")
    if not url or not secret:
        raise SendError(f"{what}: no webhook URL or secret with the message", retryable=False)
    try:
        return unseal(url), unseal(secret)
    except ValueError as exc:
        raise SendError(f"{what}: {exc}", retryable=False) from exc


class Sender(Protocol):
    platform: str

    async def send(self, message: OutboundMessage) -> str:
        """Deliver one message and return the platform's message id; raise SendError on failure."""
        ...


class DownloadError(Exception):
    """A file that could not be fetched: `too_large` when it is over the cap (nothing of it kept),
    else the platform refused or could not be reached."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@runtime_checkable
class Downloader(Protocol):
    """A platform client that can fetch the file of a file message (InboundMessage.file)."""

    platform: str

    async def download(self, message: InboundMessage, *, max_bytes: int) -> bytes:
        """The file's bytes, at most `max_bytes` (DownloadError past that, checked while reading)."""
        ...


# A cell value of a shared table: text, number, or a date-time (the writer converts to its platform's
# form); None empties the cell.
TableValue = str | int | float | bool | datetime | None


def table_fields(row: Mapping[str, TableValue]) -> dict[str, Any]:
    """A row in the write form both Bitable and the AI table take: date-times as epoch milliseconds,
    empty cells left out (lark-oapi strips None anyway, so both tables read the same)."""
    return {
        name: int(value.timestamp() * 1000) if isinstance(value, datetime) else value
        for name, value in row.items()
        if value is not None
    }


def stable_uuid4(text: str) -> str:
    """A UUIDv4-formatted idempotency token (the format Bitable's `client_token` and the AI table's
    `clientToken` accept) derived from `text`, so a retried call carries the same one."""
    return str(uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4))


@runtime_checkable
class TableWriter(Protocol):
    """A shared table (Feishu Bitable, DingTalk AI table) that jobs write rows to, one batch per call.

    Rows are {column name: value}. Calls to one table must not overlap (the platforms refuse
    concurrent writes); failures raise SendError, `retryable` when trying again later may succeed.
    `operator` is the platform user a write is made as where the platform wants one (a DingTalk AI
    table: the staff id of the member who bound it); writers that write as the app ignore it.
    """

    platform: str
    max_batch: int  # rows per call

    async def create_rows(
        self,
        base: str,
        table: str,
        rows: Sequence[Mapping[str, TableValue]],
        *,
        idempotency_key: str,
        operator: str | None = None,
    ) -> list[str]:
        """Add rows and return their record ids in the same order. Repeating a call with the same
        key and rows adds nothing (it answers the same ids)."""
        ...

    async def update_rows(
        self,
        base: str,
        table: str,
        rows: Sequence[tuple[str, Mapping[str, TableValue]]],
        *,
        operator: str | None = None,
    ) -> None:
        """Overwrite the given columns of existing records: (record id, row) pairs."""
        ...
