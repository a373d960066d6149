"""Send limits on a fake clock: the RateLimiter's windows, and the FeishuClient pacing its sends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from adapters.base import SendError
from adapters.feishu.client import APP_SEND_LIMITS, RECEIVER_SEND_LIMITS, FeishuClient, send_limiter
from adapters.models import OutboundMessage, Text
from adapters.ratelimit import Limit, RateLimiter
from bench.fake_feishu import TOKEN as FAKE_TOKEN
from bench.fake_feishu import FakeFeishu, Limits
from bench.fanout import run as fanout
from bench.fanout import theoretical_minimum
from tests.samples import load

BASE = "https://feishu.test"


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def limiter(fake_time: FakeTime, shared: tuple[Limit, ...], per_key: tuple[Limit, ...] = ()) -> RateLimiter:
    return RateLimiter(shared, per_key, clock=fake_time, sleep=fake_time.sleep)


async def calls(rate: RateLimiter, fake_time: FakeTime, keys: list[str]) -> list[float]:
    """Make one instant call per key, one after another; returns when each started."""
    started = []
    for key in keys:
        async with rate.call(key):
            started.append(fake_time.now - 1_000.0)
    return started


async def test_app_limits_let_a_window_through_then_wait_for_the_next(fake_time: FakeTime) -> None:
    started = await calls(limiter(fake_time, APP_SEND_LIMITS), fake_time, ["c"] * 120)
    assert started[:50] == [0.0] * 50
    assert started[50:100] == [pytest.approx(1.0)] * 50
    assert started[100:] == [pytest.approx(2.0)] * 20


async def test_minute_limit_holds_the_thousand_and_first_for_a_minute(fake_time: FakeTime) -> None:
    started = await calls(limiter(fake_time, APP_SEND_LIMITS), fake_time, [f"c{i}" for i in range(1001)])
    assert started[999] == pytest.approx(19.0)  # 50 a second
    assert started[1000] == pytest.approx(60.0)  # the first call's minute is over


async def test_per_chat_limit_holds_only_that_chat(fake_time: FakeTime) -> None:
    rate = limiter(fake_time, APP_SEND_LIMITS, RECEIVER_SEND_LIMITS)
    started = await calls(rate, fake_time, ["a"] * 5 + ["b"])
    assert started == [0.0] * 6
    assert await calls(rate, fake_time, ["a"]) == [pytest.approx(1.0)]


async def test_a_call_counts_from_when_it_ended(fake_time: FakeTime) -> None:
    rate = limiter(fake_time, (Limit(1, 1.0),))
    async with rate.call("a"):
        fake_time.now += 0.5  # the platform answers half a second later
    assert await calls(rate, fake_time, ["a"]) == [pytest.approx(1.5)]


async def test_a_failed_call_gives_its_place_back(fake_time: FakeTime) -> None:
    rate = limiter(fake_time, (Limit(2, 1.0),))
    with pytest.raises(SendError):
        async with rate.call("a"):
            raise SendError("503", retryable=True)
    assert await calls(rate, fake_time, ["a", "a"]) == [0.0, 0.0]
    assert await calls(rate, fake_time, ["a"]) == [pytest.approx(1.0)]


async def test_calls_in_flight_fill_the_window_too(fake_time: FakeTime) -> None:
    rate = limiter(fake_time, (Limit(1, 1.0),))
    entered = asyncio.Event()
    leave = asyncio.Event()

    async def slow() -> None:
        async with rate.call("a"):
            entered.set()
            await leave.wait()

    first = asyncio.create_task(slow())
    await entered.wait()
    second = asyncio.create_task(calls(rate, fake_time, ["b"]))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not second.done()  # the window is full of a call still in flight
    leave.set()
    await first
    [started] = await second
    assert started >= 1.0


# --- the client ----------------------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/open-apis/auth/v3/tenant_access_token/internal").respond(
            json=load("feishu", "tenant_access_token_internal_response")
        )
        yield router


@pytest.fixture
async def client(fake_time: FakeTime) -> AsyncIterator[FeishuClient]:
    feishu = FeishuClient(
        BASE, "cli_app", "app-secret", limiter=send_limiter(clock=fake_time, sleep=fake_time.sleep)
    )
    yield feishu
    await feishu.aclose()


def to(chat_id: str, key: str) -> OutboundMessage:
    return OutboundMessage(platform="feishu", chat_id=chat_id, content=Text("hi"), idempotency_key=key)


async def test_client_paces_sends_to_one_chat(
    client: FeishuClient, api: respx.MockRouter, fake_time: FakeTime
) -> None:
    sent: list[tuple[str, float]] = []

    def create(request: httpx.Request) -> httpx.Response:
        sent.append((json.loads(request.content)["receive_id"], fake_time.now - 1_000.0))
        return httpx.Response(200, json={"code": 0, "data": {"message_id": f"om_{len(sent)}"}})

    api.post("/open-apis/im/v1/messages").mock(side_effect=create)
    for i in range(6):
        await client.send(to("oc_a", f"k{i}"))
    await client.send(to("oc_b", "k6"))

    assert sent[:5] == [("oc_a", 0.0)] * 5
    assert sent[5] == ("oc_a", pytest.approx(1.0))  # Feishu allows 5 a second to one chat
    assert sent[6] == ("oc_b", pytest.approx(1.0))  # another chat waits only for the app limits


async def test_chat_limit_error_honours_the_reset_header(client: FeishuClient, api: respx.MockRouter) -> None:
    api.post("/open-apis/im/v1/messages").respond(
        400,
        json={"code": 230020, "msg": "This operation triggers the frequency limit."},
        headers={"x-ogw-ratelimit-reset": "2"},
    )
    with pytest.raises(SendError) as error:
        await client.send(to("oc_a", "k"))
    assert (error.value.retryable, error.value.retry_after) == (True, 2)


# --- the fake Feishu the fan-out benchmark measures against -------------------------------------


async def fake_send(api: httpx.AsyncClient, chat: str, uuid: str) -> httpx.Response:
    return await api.post(
        "/open-apis/im/v1/messages",
        params={"receive_id_type": "chat_id"},
        json={"receive_id": chat, "msg_type": "text", "content": '{"text":"hi"}', "uuid": uuid},
        headers={"Authorization": f"Bearer {FAKE_TOKEN}"},
    )


async def test_fake_feishu_enforces_the_send_limits(fake_time: FakeTime) -> None:
    fake = FakeFeishu(clock=fake_time)
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as api:
        answers = [await fake_send(api, "oc_a", f"a{i}") for i in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [400]
        assert answers[5].json()["code"] == 230020 and answers[5].headers["x-ogw-ratelimit-reset"] == "1"
        answers = [await fake_send(api, f"oc_{i}", f"u{i}") for i in range(46)]
        assert [a.status_code for a in answers] == [200] * 45 + [429]  # 50 delivered this second
        assert answers[45].json()["code"] == 99991400
        fake_time.now += 1
        assert (await fake_send(api, "oc_a", "a5")).status_code == 200
    assert fake.counts["over the chat limit"] == 1 and fake.counts["over the app limit"] == 1
    assert len(fake.deliveries) == 51


def test_theoretical_minimum_is_set_by_the_busiest_limit() -> None:
    limits = Limits()
    assert theoretical_minimum(1000, 200, limits) == 19.0  # 50 at once, then 50 a second
    assert theoretical_minimum(1001, 200, limits) == 60.0  # the 1001st waits for the minute to pass
    assert theoretical_minimum(951, 200, limits) == 19.0
    assert theoretical_minimum(1000, 1000, limits) == 19.0  # one message a chat: the chat limit idles
    assert theoretical_minimum(100, 1, limits) == 19.0  # 5 a second to the one chat


async def test_fanout_through_the_fake_feishu_loses_and_duplicates_nothing() -> None:
    result = await fanout(60, 12, random_429=0.05, random_5xx=0.05, seed=3, time_limit=60)
    assert (result.duplicates, result.lost, result.out_of_order) == (0, 0, 0)
    assert result.statuses == {"sent": 60}
    assert result.server["over the app limit"] == result.server["over the chat limit"] == 0
