"""Client-side send limits: at most N messages in any window of T seconds, app-wide and per key.

Each window counts the calls in flight plus those that ended less than T ago: a call reaches the
platform before we see its answer, so counting from the answer never lets N + 1 calls into any
window of T seconds on the platform's side, whatever the delays (a token or leaky bucket such as
aiolimiter counts from the start and lets a full bucket through at once: up to twice the limit in
the first window). A call that fails delivered nothing and gives its place back. Clock and sleep
are parameters, so tests need no waiting."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

# Drop the windows of keys (chats) idle for a whole period once this many are tracked.
_PRUNE_AT = 1024
# When a window is full of calls still in flight, look again this often.
_IN_FLIGHT_POLL_SECONDS = 0.01


@dataclass(frozen=True)
class Limit:
    calls: int
    seconds: float


class _Window:
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.in_flight = 0
        self.ended: deque[float] = deque()  # when counted calls ended, oldest first

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        self._forget(now)
        if self.in_flight + len(self.ended) < self.limit.calls:
            return 0.0
        if self.ended:
            return self.ended[0] + self.limit.seconds - now
        return _IN_FLIGHT_POLL_SECONDS

    def idle(self, now: float) -> bool:
        self._forget(now)
        return self.in_flight == 0 and not self.ended

    def _forget(self, now: float) -> None:
        """Stop counting the calls that ended a whole window ago."""
        while self.ended and self.ended[0] <= now - self.limit.seconds:
            self.ended.popleft()


class RateLimiter:
    """`async with limiter.call(key):` waits until every limit that applies has room, and counts the
    call in all of them: until it ends, then for a window's length after, unless it raised."""

    def __init__(
        self,
        shared: Sequence[Limit],
        per_key: Sequence[Limit] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._shared = [_Window(limit) for limit in shared]
        self._per_key_limits = tuple(per_key)
        self._keys: dict[str, list[_Window]] = {}
        self._turn = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep

    @asynccontextmanager
    async def call(self, key: str) -> AsyncIterator[None]:
        windows = await self._enter(key)
        try:
            yield
        except BaseException:
            for window in windows:
                window.in_flight -= 1
            raise
        now = self._clock()
        for window in windows:
            window.in_flight -= 1
            window.ended.append(now)

    async def _enter(self, key: str) -> list[_Window]:
        while True:
            keyed = self._key_windows(key)
            await self._room_in(keyed)
            # One caller at a time, first come first served, waits for the shared windows: the others
            # sleep on the lock instead of all waking up for every place that frees.
            async with self._turn:
                await self._room_in(self._shared)
                # Our key's windows were looked up before we slept: still the same, and still room?
                if self._keys.get(key) is keyed and all(w.wait(self._clock()) == 0 for w in keyed):
                    windows = [*self._shared, *keyed]
                    for window in windows:  # no await since the check: the places are ours
                        window.in_flight += 1
                    return windows

    async def _room_in(self, windows: Sequence[_Window]) -> None:
        while (delay := max((window.wait(self._clock()) for window in windows), default=0.0)) > 0:
            await self._sleep(delay)

    def _key_windows(self, key: str) -> list[_Window]:
        windows = self._keys.get(key)
        if windows is None:
            if len(self._keys) >= _PRUNE_AT:
                now = self._clock()
                self._keys = {k: ws for k, ws in self._keys.items() if not all(w.idle(now) for w in ws)}
            windows = self._keys[key] = [_Window(limit) for limit in self._per_key_limits]
        return windows
