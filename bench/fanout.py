"""Fan-out benchmark: standup prompts to many chats through the real outbox sender and Feishu client,
against a local fake Feishu (bench/fake_feishu.py) that enforces the send limits and injects 429s
and 5xx. Prints the total time, the theoretical minimum, their ratio, duplicates and lost messages.

    python -m bench.fanout [--messages 1000] [--chats 200]

Everything is local: a temporary SQLite database and the fake on 127.0.0.1. The messages are
queued first (as a job run would), then the sender starts and the clock runs until the fake has
received every one of them; it exits 1 on a duplicate, a lost message or a chat's messages out of
order."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from adapters.codec import reply_to_json
from adapters.feishu.client import FeishuClient, message_uuid
from adapters.models import Card
from bench.fake_feishu import Limits, State, delivered_count, serve, state
from scheduler.outbox import OutboxWorker
from storage import idempotency
from storage.db import create_engine, session_factory, unit_of_work
from storage.migrate import upgrade
from storage.models import OutboxMessage

BUSINESS_DATE = "2026-11-25"


@dataclass(frozen=True)
class Result:
    messages: int
    chats: int
    seconds: float  # until the last message arrived
    seconds_99: float  # until 99% had arrived: the throughput, without the tail of the unlucky last retries
    minimum: float
    duplicates: int
    lost: int
    out_of_order: int  # chats whose messages arrived in another order than queued
    statuses: Counter[str]  # outbox rows by status when the run ended
    server: Counter[str]  # what the fake saw: requests, random 429 / 5xx, over the limits

    @property
    def ratio(self) -> float:
        return self.seconds / self.minimum if self.minimum else math.inf


def theoretical_minimum(messages: int, chats: int, limits: Limits) -> float:
    """The earliest the last message can get through: a limit of W calls per T seconds lets W
    through at once and W more every T seconds, so m messages under it need (ceil(m/W) - 1) * T
    seconds. The busiest limit decides (per chat: the chat with the most messages)."""
    busiest_chat = math.ceil(messages / chats)
    bounds = (
        (messages, limits.app_per_second, 1.0),
        (messages, limits.app_per_minute, 60.0),
        (busiest_chat, limits.receiver_per_second, 1.0),
    )
    return max((math.ceil(m / calls) - 1) * seconds for m, calls, seconds in bounds)


def _key(index: int, chats: int) -> tuple[str, str]:
    """The index-th message: project-major order, as one job run per project queues them."""
    project, chat = divmod(index, chats)
    chat_id = f"oc_bench_{chat:04d}"
    return f"standup-prompt:{project + 1}:chat:{chat_id}:{BUSINESS_DATE}", chat_id


async def _queue(url: str, messages: int, chats: int) -> dict[str, str]:
    """Queue the prompts; returns the Feishu uuid of each message's key."""
    now = datetime.now(UTC)
    uuids = {}
    async with unit_of_work(session_factory(engine := create_engine(url))) as session:
        for index in range(messages):
            key, chat_id = _key(index, chats)
            prompt = Card(
                f"今日站会 · 项目 {index // chats + 1}",
                "请在 **11:00** 前回复：\n1. 昨天完成\n2. 今天计划\n3. 卡点（没有就写“无”）",
            )
            await idempotency.enqueue(
                session,
                idempotency_key=key,
                platform="feishu",
                chat_id=chat_id,
                payload={"content": reply_to_json(prompt), "extra": {"to": "chat"}},
                now=now,
            )
            uuids[message_uuid(key)] = key
    await engine.dispose()
    return uuids


async def run(
    messages: int = 1000,
    chats: int = 200,
    *,
    random_429: float = 0.02,
    random_5xx: float = 0.02,
    seed: int = 1,
    time_limit: float = 300.0,
) -> Result:
    limits = Limits()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'fanout.db'}"
        await asyncio.to_thread(upgrade, url)
        uuids = await _queue(url, messages, chats)
        options = {"limits": limits, "random_429": random_429, "random_5xx": random_5xx, "seed": seed}
        async with serve(**options) as base_url, httpx.AsyncClient(base_url=base_url) as fake:
            engine = create_engine(url)
            client = FeishuClient(base_url, "cli_bench", "bench-secret")
            worker = OutboxWorker(session_factory(engine), {"feishu": client}, lambda: datetime.now(UTC))
            stop = asyncio.Event()
            started = time.monotonic()
            sending = asyncio.create_task(worker.run(stop))
            # Only these messages are queued: every uuid the fake sees is one of them.
            while time.monotonic() - started < time_limit:
                if await delivered_count(fake) >= messages:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await sending
            await client.aclose()
            arrived = await state(fake)
            async with session_factory(engine)() as session:
                rows = await session.execute(select(OutboxMessage.status, func.count()).group_by("status"))
                statuses: Counter[str] = Counter({status: count for status, count in rows})
            await engine.dispose()
    delivered = arrived.delivered()
    first: dict[str, float] = {}
    for delivery in arrived.deliveries:
        first.setdefault(delivery.uuid, delivery.at)
    # The server's clock is time.monotonic() too: the same clock on one host.
    arrivals = sorted(first.values()) + [time.monotonic()] * (messages - len(first))
    return Result(
        messages=messages,
        chats=chats,
        seconds=arrivals[-1] - started,
        seconds_99=arrivals[math.ceil(0.99 * messages) - 1] - started,
        minimum=theoretical_minimum(messages, chats, limits),
        duplicates=sum(count - 1 for count in delivered.values()),
        lost=len(uuids.keys() - delivered.keys()),
        out_of_order=_chats_out_of_order(arrived, uuids),
        statuses=statuses,
        server=arrived.counts,
    )


def _chats_out_of_order(arrived: State, uuids: dict[str, str]) -> int:
    projects: dict[str, list[int]] = {}
    for delivery in arrived.deliveries:
        projects.setdefault(delivery.receive_id, []).append(int(uuids[delivery.uuid].split(":")[1]))
    return sum(order != sorted(order) for order in projects.values())


def report(result: Result, limits: Limits) -> str:
    server = result.server
    return "\n".join(
        [
            f"fan-out: {result.messages} standup prompts to {result.chats} chats, fake Feishu allowing "
            f"{limits.app_per_second}/s and {limits.app_per_minute}/min per app, "
            f"{limits.receiver_per_second}/s per chat",
            f"total time           {result.seconds:7.2f} s   (99% after {result.seconds_99:.2f} s)",
            f"theoretical minimum  {result.minimum:7.2f} s",
            f"ratio                {result.ratio:7.3f}   (target <= 1.10)",
            f"duplicates           {result.duplicates:4d}",
            f"lost                 {result.lost:4d}",
            f"chats out of order   {result.out_of_order:4d}",
            f"requests {server['requests']}: {server['random 429']} random 429, {server['random 5xx']} "
            f"random 5xx, {server['over the app limit']} over the app limit, "
            f"{server['over the chat limit']} over a chat limit; outbox rows: "
            + ", ".join(f"{count} {status}" for status, count in sorted(result.statuses.items())),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--random-429", type=float, default=0.02, help="share of requests answered 429")
    parser.add_argument("--random-5xx", type=float, default=0.02, help="share of requests answered 5xx")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = asyncio.run(
        run(args.messages, args.chats, random_429=args.random_429, random_5xx=args.random_5xx, seed=args.seed)
    )
    print(report(result, Limits()))
    if result.duplicates or result.lost or result.out_of_order:
        sys.exit(1)


if __name__ == "__main__":
    main()
