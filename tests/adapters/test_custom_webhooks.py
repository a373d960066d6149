"""Report-only groups' custom robot webhooks against respx: DingTalk's custom robot and Feishu's custom
bot, signed as the sample vectors say, rate-limited on a virtual clock (no waiting), errors mapped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from adapters.base import SendError
from adapters.dingtalk.robot_webhook import DingTalkRobotWebhook, robot_limiter
from adapters.feishu.bot_webhook import FeishuBotWebhook, bot_limiter, custom_bot_sign
from adapters.models import Card, OutboundMessage, Text
from bot.services import integrations
from storage.secretbox import SecretBox, new_key
from tests.samples import load
from tests.scenario import SECRET_KEY

DINGTALK_VECTOR = load("dingtalk", "hmac_sign_test_vectors.self-computed")["vectors"][1]
FEISHU_VECTOR = load("feishu", "custom_bot_sign_vector_computed")
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
DINGTALK_URL = f"https://dingtalk-oapi.test/robot/send?access_token={TOKEN}"
FEISHU_URL = "https://feishu.test/open-apis/bot/v2/hook/2c6a3c4e-8f7b-4d5e-9a1b-0c2d3e4f5a6b"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BOX = SecretBox([SECRET_KEY])


class VirtualTime:
    """The limiters' clock: waiting moves it on at once, so limits hold but cost no time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(url__startswith=DINGTALK_URL, name="dingtalk").respond(
            json=load("dingtalk", "custom_robot_send_success_response")
        )
        router.post(FEISHU_URL, name="feishu").respond(
            json=load("feishu", "custom_bot_webhook_success_response")
        )
        yield router


@pytest.fixture
async def dingtalk(time: VirtualTime) -> AsyncIterator[DingTalkRobotWebhook]:
    at = EPOCH + timedelta(milliseconds=int(DINGTALK_VECTOR["timestamp"]))
    sender = DingTalkRobotWebhook(
        unseal=BOX.open, now=lambda: at, clock=time, limiter=robot_limiter(clock=time, sleep=time.sleep)
    )
    yield sender
    await sender.aclose()


@pytest.fixture
async def feishu(time: VirtualTime) -> AsyncIterator[FeishuBotWebhook]:
    at = EPOCH + timedelta(seconds=int(FEISHU_VECTOR["timestamp"]))
    sender = FeishuBotWebhook(
        unseal=BOX.open, now=lambda: at, limiter=bot_limiter(clock=time, sleep=time.sleep)
    )
    yield sender
    await sender.aclose()


def message(platform: str, content: Text | Card, **extra: str) -> OutboundMessage:
    url, secret = (
        (DINGTALK_URL, DINGTALK_VECTOR["secret"])
        if platform == "dingtalk-webhook"
        else (FEISHU_URL, FEISHU_VECTOR["secret"])
    )
    return OutboundMessage(
        platform,
        "webhook:1",
        content,
        "weekly-report:1:chat:webhook:1:2026-11-27",
        extra={"to": "chat", "sealed_url": BOX.seal(url), "sealed_secret": BOX.seal(secret), **extra},
    )


def sent(router: respx.MockRouter, name: str, call: int = -1) -> dict[str, Any]:
    return json.loads(router[name].calls[call].request.content)  # type: ignore[no-any-return]


# --- DingTalk custom robot ------------------------------------------------------------------------------


async def test_dingtalk_posts_markdown_signed_as_the_vector_says(
    dingtalk: DingTalkRobotWebhook, api: respx.MockRouter
) -> None:
    assert await dingtalk.send(message("dingtalk-webhook", Card("周报 11-23 ~ 11-29", "- 进度 60%"))) == ""
    url = api["dingtalk"].calls[0].request.url
    # The sign is the vector's, URL-encoded once, after the robot's own access_token.
    assert url.query.decode() == (
        f"access_token={TOKEN}&timestamp={DINGTALK_VECTOR['timestamp']}"
        f"&sign={DINGTALK_VECTOR['sign_urlencoded_quote_plus']}"
    )
    assert url.params["sign"] == DINGTALK_VECTOR["sign_base64"]
    assert sent(api, "dingtalk") == {
        "msgtype": "markdown",
        "markdown": {"title": "周报 11-23 ~ 11-29", "text": "### 周报 11-23 ~ 11-29\n\n- 进度 60%"},
    }


async def test_dingtalk_text_has_the_documented_shape(
    dingtalk: DingTalkRobotWebhook, api: respx.MockRouter
) -> None:
    shape = load("dingtalk", "custom_robot_send_text_request.official-doc")
    await dingtalk.send(message("dingtalk-webhook", Text(shape["text"]["content"])))
    assert sent(api, "dingtalk") == shape


async def test_dingtalk_holds_to_20_messages_a_minute_per_robot(
    dingtalk: DingTalkRobotWebhook, api: respx.MockRouter, time: VirtualTime
) -> None:
    moments: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        moments.append(time.now)
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    api["dingtalk"].side_effect = answer
    for _ in range(21):
        await dingtalk.send(message("dingtalk-webhook", Text("x")))
    assert moments == [0.0] * 20 + [60.0]


@pytest.mark.parametrize(
    "sample",
    [
        "custom_robot_error_rate_limit_130101.observed",
        "custom_robot_error_310000_sign_not_match",  # so the same errcode family is not mistaken for it
    ],
)
async def test_dingtalk_throttle_blocks_the_robot_for_ten_minutes(
    dingtalk: DingTalkRobotWebhook, api: respx.MockRouter, time: VirtualTime, sample: str
) -> None:
    api["dingtalk"].respond(json=load("dingtalk", sample))
    with pytest.raises(SendError) as error:
        await dingtalk.send(message("dingtalk-webhook", Text("x")))
    throttled = sample.startswith("custom_robot_error_rate_limit")
    assert error.value.retryable is throttled
    assert error.value.retry_after == (600.0 if throttled else None)
    time.now += 599
    api["dingtalk"].respond(json={"errcode": 0, "errmsg": "ok"})
    if throttled:  # still blocked: refused here, without asking DingTalk again
        with pytest.raises(SendError) as again:
            await dingtalk.send(message("dingtalk-webhook", Text("x")))
        assert again.value.retryable and again.value.retry_after == pytest.approx(1.0)
        assert api["dingtalk"].call_count == 1
        time.now += 1
    assert await dingtalk.send(message("dingtalk-webhook", Text("x"))) == ""


@pytest.mark.parametrize(
    "sample",
    [
        "custom_robot_error_310000_keywords_not_in_content",
        "custom_robot_error_310000_invalid_timestamp",
        "custom_robot_error_310000_sign_not_match_verbose.observed",
        "custom_robot_error_310000_ip_not_in_whitelist",
    ],
)
async def test_dingtalk_security_refusals_are_not_retried(
    dingtalk: DingTalkRobotWebhook, api: respx.MockRouter, sample: str
) -> None:
    api["dingtalk"].respond(json=load("dingtalk", sample))
    with pytest.raises(SendError) as error:
        await dingtalk.send(message("dingtalk-webhook", Text("x")))
    assert not error.value.retryable and "310000" in str(error.value)


@pytest.mark.parametrize(
    ("response", "retryable"),
    [
        (httpx.Response(200, json={"errcode": -1, "errmsg": "系统繁忙"}), True),
        (httpx.Response(502, text="<html>bad gateway</html>"), True),
        (httpx.Response(200, json={"errcode": 300001, "errmsg": "token is not exist"}), False),
    ],
)
async def test_dingtalk_other_answers(
    dingtalk: DingTalkRobotWebhook, api: respx.MockRouter, response: httpx.Response, retryable: bool
) -> None:
    api["dingtalk"].mock(return_value=response)
    with pytest.raises(SendError) as error:
        await dingtalk.send(message("dingtalk-webhook", Text("x")))
    assert error.value.retryable is retryable


async def test_a_dropped_connection_is_retryable_and_never_shows_the_token(
    dingtalk: DingTalkRobotWebhook, api: respx.MockRouter
) -> None:
    api["dingtalk"].side_effect = httpx.ConnectError(f"cannot reach {DINGTALK_URL}")
    with pytest.raises(SendError) as error:
        await dingtalk.send(message("dingtalk-webhook", Text("x")))
    assert error.value.retryable and TOKEN not in str(error.value)


@pytest.mark.parametrize("platform", ["dingtalk-webhook", "feishu-webhook"])
async def test_oversized_or_credential_less_messages_are_refused_unsent(
    dingtalk: DingTalkRobotWebhook, feishu: FeishuBotWebhook, api: respx.MockRouter, platform: str
) -> None:
    sender = dingtalk if platform == "dingtalk-webhook" else feishu
    with pytest.raises(SendError) as large:
        await sender.send(message(platform, Card("周报", "进度" * 4000)))  # 24 000 bytes of text
    with pytest.raises(SendError) as bare:
        await sender.send(message(platform, Text("x"), sealed_url="", sealed_secret=""))
    # Sealed under a key this instance does not have (rotated out too early, or another instance's).
    foreign = SecretBox([new_key()])
    with pytest.raises(SendError) as unreadable:
        await sender.send(message(platform, Text("x"), sealed_secret=foreign.seal("x" * 20)))
    assert "CROSSTRACK_SECRET_KEY" in str(unreadable.value)
    assert not large.value.retryable and not bare.value.retryable and not unreadable.value.retryable
    assert not api["dingtalk"].called and not api["feishu"].called


# --- Feishu custom bot ----------------------------------------------------------------------------------


def test_feishu_sign_matches_the_vector() -> None:
    assert (
        custom_bot_sign(FEISHU_VECTOR["timestamp"], FEISHU_VECTOR["secret"])
        == FEISHU_VECTOR["expected_sign_computed_locally"]
    )


async def test_feishu_text_is_the_documented_signed_request(
    feishu: FeishuBotWebhook, api: respx.MockRouter
) -> None:
    shape = load("feishu", "custom_bot_webhook_request_signed")
    assert await feishu.send(message("feishu-webhook", Text(shape["content"]["text"]))) == ""
    assert sent(api, "feishu") == {**shape, "sign": FEISHU_VECTOR["expected_sign_computed_locally"]}


async def test_feishu_card_goes_in_the_card_field(feishu: FeishuBotWebhook, api: respx.MockRouter) -> None:
    await feishu.send(message("feishu-webhook", Card("周报", "- 进度 60%", color="green")))
    body = sent(api, "feishu")
    assert body["msg_type"] == "interactive" and "content" not in body
    assert body["card"]["header"] == {"title": {"tag": "plain_text", "content": "周报"}, "template": "green"}
    assert body["card"]["body"]["elements"] == [{"tag": "markdown", "content": "- 进度 60%"}]
    assert body["timestamp"] == FEISHU_VECTOR["timestamp"]


async def test_feishu_holds_to_5_a_second_and_100_a_minute(
    feishu: FeishuBotWebhook, api: respx.MockRouter, time: VirtualTime
) -> None:
    moments: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        moments.append(time.now)
        return httpx.Response(200, json={"code": 0, "msg": "success", "data": {}})

    api["feishu"].side_effect = answer
    for _ in range(101):
        await feishu.send(message("feishu-webhook", Text("x")))
    assert moments[:6] == [0.0] * 5 + [1.0]
    assert moments[99] == 19.0 and moments[100] == 60.0
    for index, start in enumerate(moments):
        assert sum(start <= m < start + 1 for m in moments[index:]) <= 5
        assert sum(start <= m < start + 60 for m in moments[index:]) <= 100


@pytest.mark.parametrize(
    ("response", "retryable"),
    [
        (httpx.Response(200, json=load("feishu", "custom_bot_webhook_sign_fail_19021")), False),
        (httpx.Response(400, json=load("feishu", "custom_bot_webhook_bad_request_9499")), False),
        (httpx.Response(200, json={"code": 19024, "msg": "Key Words Not Found"}), False),
        (httpx.Response(200, json={"code": 11232, "msg": "frequency limited"}), True),
        (httpx.Response(429, json={"code": 11232, "msg": "frequency limited"}), True),
        (httpx.Response(500, text="oops"), True),
    ],
)
async def test_feishu_errors_say_whether_to_retry(
    feishu: FeishuBotWebhook, api: respx.MockRouter, response: httpx.Response, retryable: bool
) -> None:
    api["feishu"].mock(return_value=response)
    with pytest.raises(SendError) as error:
        await feishu.send(message("feishu-webhook", Text("x")))
    assert error.value.retryable is retryable


def test_the_core_names_the_senders_by_their_own_platform() -> None:
    # bot/ does not import platform modules, so it spells the senders' platforms itself.
    assert (
        DingTalkRobotWebhook.platform,
        FeishuBotWebhook.platform,
    ) == (integrations.DINGTALK_WEBHOOK, integrations.FEISHU_WEBHOOK)
