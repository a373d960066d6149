"""DingTalkClient against a respx-mocked DingTalk (https://dingtalk-api.test, https://dingtalk-oapi.test),
using the sample payloads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from adapters.base import SendError
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.events import ReplyRoute
from adapters.models import Card, OutboundMessage, Text, UserRef
from tests.samples import load

API = "https://dingtalk-api.test"
OAPI = "https://dingtalk-oapi.test"
TOKEN_PATH = "/v1.0/oauth2/accessToken"
GROUP_PATH = "/v1.0/robot/groupMessages/send"
USER_PATH = "/v1.0/robot/oToMessages/batchSend"
TOKEN_RESPONSE = load("dingtalk", "oauth2_access_token_response.official-doc")
TOKEN = TOKEN_RESPONSE["accessToken"]
GROUP_REQUEST = load("dingtalk", "robot_group_messages_send_request.official-doc")
SENT = load("dingtalk", "robot_group_messages_send_response.official-doc")
APP_KEY = load("dingtalk", "oauth2_access_token_request.official-doc")["appKey"]
APP_SECRET = load("dingtalk", "oauth2_access_token_request.official-doc")["appSecret"]
ROBOT_CODE = GROUP_REQUEST["robotCode"]
CHAT = GROUP_REQUEST["openConversationId"]
SESSION_WEBHOOK = f"{OAPI}/robot/sendBySession?session=abc"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(clock: FakeClock) -> AsyncIterator[DingTalkClient]:
    dingtalk = DingTalkClient(
        API, APP_KEY, APP_SECRET, ROBOT_CODE, clock=clock, now=lambda: NOW, oapi_domain=OAPI
    )
    yield dingtalk
    await dingtalk.aclose()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}{TOKEN_PATH}", name="token").respond(json=TOKEN_RESPONSE)
        router.post(f"{API}{GROUP_PATH}", name="group").respond(json=SENT)
        router.post(f"{API}{USER_PATH}", name="user").respond(json=SENT)
        router.post(f"{OAPI}/topapi/v2/user/get", name="contacts").respond(
            json={"errcode": 0, "errmsg": "ok", "result": {"userid": "user123", "name": "张三"}}
        )
        router.post(SESSION_WEBHOOK, name="session").respond(
            json=load("dingtalk", "custom_robot_send_success_response")
        )
        yield router


def outbound(content: Text | Card | None = None, **fields: Any) -> OutboundMessage:
    defaults: dict[str, Any] = {
        "platform": "dingtalk",
        "chat_id": CHAT,
        "content": content or Text("钉钉，让进步发生"),
        "idempotency_key": "reply:dingtalk:msg1:0",
    }
    return OutboundMessage(**{**defaults, **fields})


def body(router: respx.MockRouter, name: str, call: int = -1) -> dict[str, Any]:
    return json.loads(router[name].calls[call].request.content)  # type: ignore[no-any-return]


async def test_group_text_is_sent_as_the_documented_request(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    assert await client.send(outbound()) == SENT["processQueryKey"]
    assert body(api, "token") == load("dingtalk", "oauth2_access_token_request.official-doc")
    request = api["group"].calls[0].request
    assert request.headers["x-acs-dingtalk-access-token"] == TOKEN
    expected = {key: value for key, value in GROUP_REQUEST.items() if key != "coolAppCode"}
    assert json.loads(request.content) == expected  # msgParam is the same JSON string


async def test_card_goes_as_sample_markdown_with_readable_mentions(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    await client.send(outbound(Card("周报", "- 进度 60%\n- 负责人 <at:user123>")))
    sent = body(api, "group")
    assert sent["msgKey"] == "sampleMarkdown"
    assert isinstance(sent["msgParam"], str)
    param = json.loads(sent["msgParam"])
    assert param["title"] == "周报"
    # The OpenAPI cannot @ anyone: the person's name, not their staffId, is what people read.
    assert "负责人 @张三" in param["text"] and "<at:" not in param["text"]
    assert api["contacts"].call_count == 1


async def test_without_a_name_the_staff_id_stays(client: DingTalkClient, api: respx.MockRouter) -> None:
    api["contacts"].respond(json={"errcode": 60121, "errmsg": "找不到该用户"})
    await client.send(outbound(Card("周报", "- 负责人 <at:user123>")))
    assert "负责人 @user123" in json.loads(body(api, "group")["msgParam"])["text"]


async def test_user_message_goes_through_batch_send(client: DingTalkClient, api: respx.MockRouter) -> None:
    await client.send(outbound(Text("请提交日报 <at:user123>"), chat_id="user123", extra={"to": "user"}))
    assert body(api, "user") == {
        "robotCode": ROBOT_CODE,
        "userIds": ["user123"],
        "msgKey": "sampleText",
        "msgParam": json.dumps({"content": "请提交日报 @张三"}, ensure_ascii=False, separators=(",", ":")),
    }
    assert not api["group"].called


async def test_token_is_cached_until_five_minutes_before_expiry(
    client: DingTalkClient, api: respx.MockRouter, clock: FakeClock
) -> None:
    await client.send(outbound())
    clock.now += TOKEN_RESPONSE["expireIn"] - 301
    await client.send(outbound())
    assert api["token"].call_count == 1
    clock.now += 2
    await client.send(outbound())
    assert api["token"].call_count == 2


async def test_reply_goes_to_a_fresh_session_webhook(client: DingTalkClient, api: respx.MockRouter) -> None:
    client.remember_route(CHAT, ReplyRoute(SESSION_WEBHOOK, NOW + timedelta(minutes=90)))
    reply = Text("已记录 <at:user123>", mentions=(UserRef("dingtalk", "user9"),))
    assert await client.send(outbound(reply, reply_to="msg1")) == ""
    shape = load("dingtalk", "session_webhook_reply_text.sdk-shape")
    sent = body(api, "session")
    assert sent.keys() == shape.keys() and sent["msgtype"] == shape["msgtype"]
    assert sent == {
        "msgtype": "text",
        "text": {"content": "@user9 已记录 @user123"},
        "at": {"atUserIds": ["user9", "user123"]},
    }
    assert not api["token"].called and not api["group"].called


async def test_card_reply_on_the_session_webhook_is_markdown(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    client.remember_route(CHAT, ReplyRoute(SESSION_WEBHOOK, NOW + timedelta(minutes=90)))
    await client.send(outbound(Card("风险", "**逾期** 2 项"), reply_to="msg1"))
    sent = body(api, "session")
    assert sent["msgtype"] == "markdown"
    assert sent["markdown"]["title"] == "风险" and "**逾期** 2 项" in sent["markdown"]["text"]


@pytest.mark.parametrize(
    ("expires_in", "fields"),
    [
        (timedelta(seconds=30), {"reply_to": "msg1"}),  # about to expire
        (timedelta(minutes=90), {}),  # not a reply (a job's message)
        (timedelta(minutes=90), {"reply_to": "msg1", "chat_id": "other-chat"}),
    ],
)
async def test_openapi_when_no_fresh_route_applies(
    client: DingTalkClient, api: respx.MockRouter, expires_in: timedelta, fields: dict[str, Any]
) -> None:
    client.remember_route(CHAT, ReplyRoute(SESSION_WEBHOOK, NOW + expires_in))
    await client.send(outbound(**fields))
    assert not api["session"].called and api["group"].call_count == 1


def _error_cases() -> list[Any]:
    return [
        pytest.param(429, {"code": "Throttling", "message": "x"}, True, None, id="http-429"),
        pytest.param(403, {"code": "Forbidden.AccessDenied.QpsLimitForApi"}, True, None, id="qps"),
        pytest.param(403, load("dingtalk", "openapi_ip_rate_limit_block.official-doc"), True, 5.0, id="ip"),
        pytest.param(
            403, load("dingtalk", "openapi_error_permission_denied.developerpedia"), False, None, id="perm"
        ),
        pytest.param(400, {"code": "InvalidParameter", "message": "bad"}, False, None, id="invalid"),
        pytest.param(502, {}, True, None, id="5xx"),
    ]


@pytest.mark.parametrize(("status", "answer", "retryable", "retry_after"), _error_cases())
async def test_openapi_errors_map_to_send_error(
    client: DingTalkClient,
    api: respx.MockRouter,
    status: int,
    answer: dict[str, Any],
    retryable: bool,
    retry_after: float | None,
) -> None:
    api["group"].respond(status, json=answer)
    with pytest.raises(SendError) as caught:
        await client.send(outbound())
    assert caught.value.retryable is retryable and caught.value.retry_after == retry_after


async def test_session_webhook_throttling_is_retryable(client: DingTalkClient, api: respx.MockRouter) -> None:
    client.remember_route(CHAT, ReplyRoute(SESSION_WEBHOOK, NOW + timedelta(minutes=90)))
    api["session"].respond(json=load("dingtalk", "custom_robot_error_rate_limit_130101.observed"))
    with pytest.raises(SendError) as caught:
        await client.send(outbound(reply_to="msg1"))
    assert caught.value.retryable


async def test_rejected_token_is_dropped_and_retryable(client: DingTalkClient, api: respx.MockRouter) -> None:
    await client.send(outbound())
    api["group"].respond(400, json=load("dingtalk", "openapi_error_invalid_access_token.observed"))
    with pytest.raises(SendError) as caught:
        await client.send(outbound())
    assert caught.value.retryable
    api["group"].respond(json=SENT)
    await client.send(outbound())
    assert api["token"].call_count == 2


async def test_transport_error_is_retryable(client: DingTalkClient, api: respx.MockRouter) -> None:
    api["group"].mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(SendError) as caught:
        await client.send(outbound())
    assert caught.value.retryable


async def test_token_failure_is_permanent_when_credentials_are_wrong(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    api["token"].respond(
        400, json={"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"}
    )
    with pytest.raises(SendError) as caught:
        await client.send(outbound())
    assert not caught.value.retryable and not api["group"].called


async def test_refused_session_webhook_falls_back_to_the_openapi(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    client.remember_route(CHAT, ReplyRoute(SESSION_WEBHOOK, NOW + timedelta(minutes=90)))
    # Any refusal other than throttling (this errcode is illustrative: none is documented for it).
    api["session"].respond(json={"errcode": 300001, "errmsg": "session 不存在"})
    assert await client.send(outbound(reply_to="msg1")) == SENT["processQueryKey"]
    await client.send(outbound(reply_to="msg2"))
    assert api["session"].call_count == 1 and api["group"].call_count == 2


def big_card(lines: int = 900) -> Card:
    """A weekly-report-sized card: about 40 KB of markdown, three times msgParam's 15,000 bytes."""
    body = "\n".join(f"- 任务 {index}：后端接口联调，进度 {index % 100}%" for index in range(lines))
    return Card("📊 周报 · 新品发布", body)


async def test_an_oversized_card_goes_in_parts_that_each_fit_msg_param(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    card = big_card()
    await client.send(outbound(card))
    params = [json.loads(body(api, "group", call)["msgParam"]) for call in range(api["group"].call_count)]
    assert len(params) >= 3
    for param in params:
        assert len(json.dumps(param, ensure_ascii=False, separators=(",", ":")).encode()) <= 15_000
        assert param["title"] == card.title and param["text"].startswith(f"### {card.title}\n\n")
    # Nothing lost, nothing repeated, in order.
    shown = [param["text"].removeprefix(f"### {card.title}\n\n") for param in params]
    assert "\n".join(shown) == card.body


async def test_a_retry_after_a_failed_part_sends_only_the_parts_not_yet_sent(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    answers = iter([httpx.Response(200, json=SENT), httpx.Response(503, json={"code": "ServiceUnavailable"})])
    api["group"].mock(side_effect=lambda request: next(answers, httpx.Response(200, json=SENT)))
    message = outbound(big_card())
    with pytest.raises(SendError) as failed:
        await client.send(message)
    assert failed.value.retryable and api["group"].call_count == 2
    await client.send(message)  # the outbox retries the message
    texts = [
        json.loads(body(api, "group", call)["msgParam"])["text"] for call in range(api["group"].call_count)
    ]
    assert texts[2] == texts[1]  # the failed part again, not the first one
    assert len(set(texts)) == len(texts) - 1


async def test_a_name_never_replaces_the_front_of_a_longer_id(
    client: DingTalkClient, api: respx.MockRouter
) -> None:
    def contacts(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["userid"] == "user123":
            return httpx.Response(200, json={"errcode": 0, "result": {"userid": "user123", "name": "张三"}})
        return httpx.Response(200, json={"errcode": 60121, "errmsg": "找不到该用户"})

    api["contacts"].mock(side_effect=contacts)
    await client.send(outbound(Card("周报", "<at:user123> <at:user1234>")))
    assert "@张三 @user1234" in json.loads(body(api, "group")["msgParam"])["text"]
    # Nobody is asked twice within the hour, found or not.
    await client.send(outbound(Card("周报", "<at:user123> <at:user1234>"), idempotency_key="k2"))
    assert api["contacts"].call_count == 2
