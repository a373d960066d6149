"""Uploaded pictures by content: a weekly report posts the same chart to every chat of a project, so
each platform client uploads a picture once and reuses its key (until the platform forgets it)."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable

MAX_ENTRIES = 256


class UploadCache:
    def __init__(self, *, ttl_seconds: float | None, clock: Callable[[], float]) -> None:
        self._ttl = ttl_seconds  # None: the platform keeps uploads for good
        self._clock = clock
        self._keys: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = asyncio.Lock()

    async def get(self, data: bytes, upload: Callable[[bytes], Awaitable[str]]) -> str:
        """The platform's key for `data`, uploading it unless a fresh key is known. One upload at a
        time: two chats sending the same new picture at once upload it once."""
        digest = hashlib.sha256(data).hexdigest()
        async with self._lock:
            known = self._keys.get(digest)
            if known is not None and (self._ttl is None or self._clock() - known[1] < self._ttl):
                self._keys.move_to_end(digest)
                return known[0]
            key = await upload(data)
            self._keys[digest] = (key, self._clock())
            self._keys.move_to_end(digest)
            while len(self._keys) > MAX_ENTRIES:
                self._keys.popitem(last=False)
            return key
