"""A local fake of Feishu's message-sending API, for benchmarks and tests: it enforces Feishu's send
limits, injects failures at random, and records what arrived.

The limits count delivered messages over sliding windows: beyond 50 in any second or 1000 in any
minute per app, a send is answered HTTP 429, code 99991400; beyond 5 in any second to one chat or
user, HTTP 400, code 230020; both with `x-ogw-ratelimit-reset` (whole seconds until there is room).
On top of that, a share of sends fails at random with a 429 (reset 1 s) or a 5xx; a failed send
delivers nothing and does not count.

Unlike Feishu, the fake does not dedupe on `uuid`: a message sent twice shows up as a duplicate
instead of being hidden. `GET /_fake/state` reports what arrived (not counted against anything).

`serve()` runs it in a process of its own on 127.0.0.1, as the real API is not in our process:
sharing our event loop would slow both down and blur the timings."""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "t-fake-feishu"


@dataclass(frozen=True)
class Limits:
    app_per_second: int = 50
    app_per_minute: int = 1000
    receiver_per_second: int = 5


@dataclass(frozen=True)
class Delivery:
    uuid: str
    receive_id: str
    at: float  # time.monotonic() of the server, comparable across processes on one host


@dataclass(frozen=True)
class State:
    deliveries: list[Delivery]
    counts: Counter[str]  # requests, random 429 / 5xx, over the app / chat limit

    def delivered(self) -> Counter[str]:
        """How many times each uuid was delivered."""
        return Counter(delivery.uuid for delivery in self.deliveries)


class _Window:
    """Sliding window over the times of the deliveries."""

    def __init__(self, calls: int, seconds: float) -> None:
        self.calls, self.seconds = calls, seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return 0.0 if len(self.times) < self.calls else self.times[0] + self.seconds - now


@dataclass
class FakeFeishu:
    limits: Limits = field(default_factory=Limits)
    random_429: float = 0.0
    random_5xx: float = 0.0
    seed: int = 0
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._app = [_Window(self.limits.app_per_second, 1.0), _Window(self.limits.app_per_minute, 60.0)]
        self._receivers: dict[str, _Window] = {}
        self.deliveries: list[Delivery] = []
        self.counts: Counter[str] = Counter()
        self.app = Starlette(
            routes=[
                Route("/open-apis/auth/v3/tenant_access_token/internal", self._token, methods=["POST"]),
                Route("/open-apis/im/v1/messages", self._send, methods=["POST"]),
                Route("/_fake/state", self._state, methods=["GET"]),
            ]
        )

    async def _token(self, request: Request) -> Response:
        return JSONResponse({"code": 0, "msg": "ok", "tenant_access_token": TOKEN, "expire": 7200})

    async def _send(self, request: Request) -> Response:
        self.counts["requests"] += 1
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"code": 99991663, "msg": "Invalid access token"}, status_code=400)
        body = json.loads(await request.body())
        receive_id = body["receive_id"]
        if self._rng.random() < self.random_429:
            self.counts["random 429"] += 1
            return _limited(429, 99991400, 1.0)
        now = self.clock()
        receiver = self._receivers.setdefault(receive_id, _Window(self.limits.receiver_per_second, 1.0))
        if wait := max(window.wait(now) for window in self._app):
            self.counts["over the app limit"] += 1
            return _limited(429, 99991400, wait)
        if wait := receiver.wait(now):
            self.counts["over the chat limit"] += 1
            return _limited(400, 230020, wait)
        if self._rng.random() < self.random_5xx:
            self.counts["random 5xx"] += 1
            status = self._rng.choice([500, 503])
            return JSONResponse({"code": 1500, "msg": "internal error"}, status_code=status)
        for window in (*self._app, receiver):
            window.times.append(now)
        self.deliveries.append(Delivery(body["uuid"], receive_id, now))
        message_id = f"om_fake_{len(self.deliveries)}"
        return JSONResponse({"code": 0, "msg": "success", "data": {"message_id": message_id}})

    async def _state(self, request: Request) -> Response:
        if "count" in request.query_params:  # cheap, for polling
            return JSONResponse({"uuids": len({d.uuid for d in self.deliveries})})
        return JSONResponse(
            {"deliveries": [asdict(delivery) for delivery in self.deliveries], "counts": self.counts}
        )


def _limited(status: int, code: int, wait: float) -> Response:
    return JSONResponse(
        {"code": code, "msg": "request trigger frequency limit"},
        status_code=status,
        headers={"x-ogw-ratelimit-reset": str(max(1, math.ceil(wait)))},
    )


def _run(options: dict[str, Any], report: Connection) -> None:
    import socket

    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then; without it every
    # response on a kept-alive connection waits ~40 ms (Nagle's algorithm and delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    report.send(sock.getsockname()[1])
    fake = FakeFeishu(**options)
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", access_log=False, lifespan="off"))
    asyncio.run(server.serve(sockets=[sock]))


@asynccontextmanager
async def serve(**options: Any) -> AsyncIterator[str]:
    """Run a FakeFeishu(**options) in a child process on 127.0.0.1; yields its base URL."""
    context = multiprocessing.get_context("spawn")  # no fork of a process running an event loop
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(options, sending), daemon=True)
    process.start()
    try:
        if not await asyncio.to_thread(receiving.poll, 30):
            raise RuntimeError("the fake Feishu did not start")
        base_url = f"http://127.0.0.1:{receiving.recv()}"
        async with httpx.AsyncClient(base_url=base_url) as client:
            for _ in range(300):  # listening a moment after the port is bound
                try:
                    await client.get("/_fake/state", params={"count": 1})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.01)
        yield base_url
    finally:
        process.terminate()
        await asyncio.to_thread(process.join, 10)


async def delivered_count(client: httpx.AsyncClient) -> int:
    """How many distinct uuids arrived so far (`client` has the fake's base URL)."""
    response = await client.get("/_fake/state", params={"count": 1})
    return int(response.json()["uuids"])


async def state(client: httpx.AsyncClient) -> State:
    data = (await client.get("/_fake/state")).json()
    return State([Delivery(**delivery) for delivery in data["deliveries"]], Counter(data["counts"]))
