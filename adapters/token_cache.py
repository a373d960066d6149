"""An API access token shared by concurrent senders: fetched once under a lock, renewed early."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

# Renew this long before the platform says the token expires.
REFRESH_MARGIN_SECONDS = 300


class CachedToken:
    def __init__(
        self, fetch: Callable[[], Awaitable[tuple[str, int]]], *, clock: Callable[[], float]
    ) -> None:
        self._fetch = fetch  # returns (token, seconds until it expires)
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        async with self._lock:  # concurrent senders wait for one fetch instead of each fetching
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            token, expires_in = await self._fetch()
            self._token = token
            self._refresh_at = self._clock() + expires_in - REFRESH_MARGIN_SECONDS
            return token

    def drop(self, rejected: str | None) -> None:
        """Forget `rejected` after the platform refused it, unless another task already renewed it."""
        if rejected is not None and rejected == self._token:
            self._token = None
