"""Limits on every inbound HTTP request, before any route sees it: bodies are capped and must
arrive in time, and only so many requests run at once. A pure ASGI middleware (not Starlette's
BaseHTTPMiddleware, which would buffer and re-wrap the body): it wraps `receive`, so a body is
refused the moment it passes the cap and the app never holds more than the cap.

Every refusal is one log line, never a traceback: an unauthenticated flood must not fill the log."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Cheap and bounded, and must answer while the app is saturated (a liveness probe failing under
# load would get a busy process restarted).
UNLIMITED_PATHS = frozenset({"/livez", "/readyz", "/healthz"})
RETRY_AFTER_SECONDS = 1


@dataclass
class HttpLimits:
    max_body_bytes: int
    max_concurrent: int
    body_timeout_seconds: float
    in_flight: int = 0  # requests being handled now (for the concurrency limit, and to observe it)


class _Refused(Exception):
    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


class _ClientGone(Exception):
    """The client closed the connection before its body was complete."""


class RequestLimits:
    def __init__(self, app: ASGIApp, *, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        limits = self.limits
        if limits.in_flight >= limits.max_concurrent:
            reason = f"{limits.in_flight} requests in flight"
            await self._refuse(scope, receive, send, _Refused(503, reason))
            return
        declared = _content_length(scope)
        if declared is not None and declared > limits.max_body_bytes:
            reason = f"Content-Length {declared} over {limits.max_body_bytes}"
            await self._refuse(scope, receive, send, _Refused(413, reason))
            return

        limits.in_flight += 1
        try:
            await self._handle(scope, receive, send)
        finally:
            limits.in_flight -= 1

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.limits
        deadline = asyncio.get_running_loop().time() + limits.body_timeout_seconds
        received = 0
        body_done = False
        refusal: _Refused | _ClientGone | None = None
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, refusal
            if refusal is not None:  # the app caught the first refusal and reads on
                raise refusal
            if body_done:  # e.g. waiting for a disconnect while streaming a response: no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                refusal = _Refused(408, f"body not received within {limits.body_timeout_seconds:g} s")
                raise refusal from None
            if message["type"] == "http.disconnect":
                refusal = _ClientGone(f"client disconnected after {received} bytes of the body")
                raise refusal
            received += len(message.get("body", b""))
            if received > limits.max_body_bytes:
                refusal = _Refused(413, f"body over {limits.max_body_bytes} bytes")
                raise refusal
            body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (_Refused, _ClientGone):
            pass  # answered below
        except ClientDisconnect:  # the app saw the disconnect on its own (after the body)
            refusal = _ClientGone("client disconnected")
        if isinstance(refusal, _ClientGone):
            log.info("%s: %s", _describe(scope), refusal)
        elif refusal is not None:
            if response_started:  # the app answered the refusal itself; still one line
                log.warning("refused %s: %s", _describe(scope), refusal.reason)
            else:
                await self._refuse(scope, receive, send, refusal)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, refusal: _Refused) -> None:
        log.warning("refused %s (%d): %s", _describe(scope), refusal.status_code, refusal.reason)
        # The rest of the body is not read, so the connection cannot be reused.
        headers = {"Connection": "close"}
        if refusal.status_code == 503:
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        error = {408: "request body timeout", 413: "request body too large", 503: "busy, retry later"}
        response = JSONResponse({"error": error[refusal.status_code]}, refusal.status_code, headers)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # servers refuse these before the app; count the body instead
                return None
    return None


def _describe(scope: Scope) -> str:
    client = scope.get("client")
    peer = f"{client[0]}:{client[1]}" if client else "?"
    return f"{scope['method']} {scope['path']} from {peer}"


def uvicorn_options(max_concurrent_requests: int) -> dict[str, Any]:
    """The server's own limits, for what happens before the app is called (`crosstrack serve`)."""
    return {
        # h11, because httptools ignores the header-size cap below; throughput is not our bottleneck.
        "http": "h11",
        # A request line plus headers above 16 KiB is refused with 400 (platform callbacks send < 2 KiB).
        "h11_max_incomplete_event_size": 16 * 1024,
        # Idle keep-alive connections are closed after 5 s: each one counts against limit_concurrency.
        "timeout_keep_alive": 5,
        # Backstop counting connections (ours counts requests): one still sending its headers never
        # reaches the middleware, so uvicorn answers 503 beyond this many.
        "limit_concurrency": 2 * max_concurrent_requests,
    }
