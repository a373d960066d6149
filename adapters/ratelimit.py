"""Client-side send limits: at most N messages in any window of T seconds, app-wide and per key.

Each window counts the calls in flight plus those that ended less than T ago: a call reaches the
platform before we see its answer, so counting from the answer never lets N + 1 calls into any
window of T seconds on the platform's side, whatever the delays (a token or leaky bucket such as
aiolimiter counts from the start and lets a full bucket through at once: up to twice the limit in
the first window). A call that fails delivered nothing and gives its place back. Clock and sleep
are parameters, so tests need no waiting."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

# Drop the windows of keys (chats) idle for a whole period once this many are tracked.
_PRUNE_AT = 1024
# The least wait before counting again (the window may have ended while we counted).
_NEXT_WINDOW_SECONDS = 1e-6
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
        budget: SharedBudget | None = None,
    ) -> None:
        self._budget = budget  # counted after this process's own windows let the call through
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
            if self._budget is not None:
                await self._budget.take(key)
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


# -- one budget for every process ----------------------------------------------------------------


class CounterStore(Protocol):
    async def hit(self, scope: str, key: str, window_start: float) -> int:
        """Count one call in the fixed window starting at `window_start` (epoch seconds); returns the
        window's count including it."""
        ...


class SharedBudget:
    """App-wide limits shared by every sending process: fixed windows counted in a store they all
    reach (the database's rate_counters), on their wall clocks (NTP keeps hosts within milliseconds).

    A call takes a place in each window, shortest first, and waits for the next window when one is
    full; a place taken in a window that has ended before the call could start is worthless, so it
    takes another. Each process's RateLimiter still paces its own calls in sliding windows, and the
    platforms' 429s remain the last word; this keeps several replicas from adding up to N times the
    budget. `keyed`: each limiter key has a budget of its own (DingTalk's are per API)."""

    def __init__(
        self,
        store: CounterStore,
        name: str,
        limits: Sequence[Limit],
        *,
        keyed: bool = False,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._name = name
        self._limits = sorted(limits, key=lambda limit: limit.seconds)
        self._keyed = keyed
        self._clock = clock
        self._sleep = sleep

    async def take(self, key: str) -> None:
        while (wait := await self._try(key)) is not None:
            await self._sleep(wait)

    async def _try(self, key: str) -> float | None:
        """None when a place in every window is ours (and those windows are still current), else the
        seconds to wait before trying again."""
        starts = []
        for limit in self._limits:
            start = math.floor(self._clock() / limit.seconds) * limit.seconds
            counter = f"{self._name}:{limit.calls}/{limit.seconds:g}s" + (f":{key}" if self._keyed else "")
            if await self._store.hit("send", counter, start) > limit.calls:
                return max(_NEXT_WINDOW_SECONDS, start + limit.seconds - self._clock())
            starts.append(start)
        now = self._clock()
        if any(now >= start + limit.seconds for start, limit in zip(starts, self._limits, strict=True)):
            return _NEXT_WINDOW_SECONDS  # a window ended while we counted: count in the current one
        return None
