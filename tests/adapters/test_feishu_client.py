"""FeishuClient against a respx-mocked Feishu at https://feishu.test, using the sample payloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from adapters.base import SendError
from adapters.feishu.cards import MAX_CONTENT_BYTES, content_size, render_parts
from adapters.feishu.client import FeishuClient, message_uuid
from adapters.models import Card, OutboundMessage, Text, UserRef
from tests.samples import load

BASE = "https://feishu.test"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
TOKEN = load("feishu", "tenant_access_token_internal_response")["tenant_access_token"]
SENT = load("feishu", "send_message_success_response")
SENT_ID = SENT["data"]["message_id"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(clock: FakeClock) -> AsyncIterator[FeishuClient]:
    feishu = FeishuClient(BASE, "cli_app", "app-secret", clock=clock)
    yield feishu
    await feishu.aclose()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(TOKEN_PATH, name="token").respond(
            json=load("feishu", "tenant_access_token_internal_response")
        )
        router.post("/open-apis/im/v1/messages", name="create").respond(json=SENT)
        router.post("/open-apis/im/v1/messages/om_parent/reply", name="reply").respond(json=SENT)
        yield router


def outbound(content: Text | Card | None = None, **fields: Any) -> OutboundMessage:
    defaults: dict[str, Any] = {
        "chat_id": "oc_84983ff6516d731e5b5f68d4ea2e1da5",
        "idempotency_key": "reply:evt_1:0",
    }
    return OutboundMessage(platform="feishu", content=content or Text("test content"), **(defaults | fields))


def body_of(call: Any) -> dict[str, Any]:
    return json.loads(call.request.content)


# --- token ------------------------------------------------------------------------------------------


async def test_token_is_fetched_once_for_concurrent_sends(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    ids = await asyncio.gather(*(client.send(outbound(idempotency_key=f"k{i}")) for i in range(5)))

    assert ids == [SENT_ID] * 5
    assert api["token"].call_count == 1
    assert (
        body_of(api["token"].calls[0]).keys() == load("feishu", "tenant_access_token_internal_request").keys()
    )
    assert body_of(api["token"].calls[0]) == {"app_id": "cli_app", "app_secret": "app-secret"}
    for call in api["create"].calls:
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_token_is_refreshed_five_minutes_before_expiry(
    client: FeishuClient, api: respx.MockRouter, clock: FakeClock
) -> None:
    api["token"].side_effect = [
        httpx.Response(200, json={"code": 0, "msg": "ok", "tenant_access_token": "t-first", "expire": 7200}),
        httpx.Response(200, json={"code": 0, "msg": "ok", "tenant_access_token": "t-second", "expire": 7200}),
    ]
    await client.send(outbound())
    clock.now += 7200 - 300 - 1
    await client.send(outbound())
    assert api["token"].call_count == 1
    clock.now += 1
    await client.send(outbound())

    assert api["token"].call_count == 2
    auth = [call.request.headers["Authorization"] for call in api["create"].calls]
    assert auth == ["Bearer t-first", "Bearer t-first", "Bearer t-second"]


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (400, False)])
async def test_token_fetch_failure_is_a_send_error(
    client: FeishuClient, api: respx.MockRouter, status: int, retryable: bool
) -> None:
    api["token"].respond(status, json={"code": 10014, "msg": "app secret invalid"})
    with pytest.raises(SendError) as error:
        await client.send(outbound())
    assert error.value.retryable is retryable
    assert not api["create"].called


# --- request shape ----------------------------------------------------------------------------------


async def test_create_sends_the_documented_body(client: FeishuClient, api: respx.MockRouter) -> None:
    assert await client.send(outbound()) == SENT_ID

    request = api["create"].calls.last.request
    assert request.url.params["receive_id_type"] == "chat_id"
    body = json.loads(request.content)
    expected = load("feishu", "send_message_request_text_chat_id")
    assert {k: body[k] for k in expected} == expected  # receive_id, msg_type, content (a JSON string)
    assert body.keys() == expected.keys() | {"uuid"}
    assert body["uuid"] == message_uuid("reply:evt_1:0")


async def test_a_message_to_a_user_goes_to_their_open_id(client: FeishuClient, api: respx.MockRouter) -> None:
    await client.send(outbound(chat_id="ou_user", extra={"to": "user"}))
    request = api["create"].calls.last.request
    assert request.url.params["receive_id_type"] == "open_id"
    assert json.loads(request.content)["receive_id"] == "ou_user"


async def test_reply_posts_to_the_reply_endpoint(client: FeishuClient, api: respx.MockRouter) -> None:
    assert await client.send(outbound(reply_to="om_parent")) == SENT_ID

    assert not api["create"].called
    body = body_of(api["reply"].calls.last)
    documented = load("feishu", "reply_message_request")
    assert body.keys() <= documented.keys()  # we leave reply_in_thread at Feishu's default (false)
    assert (body["content"], body["msg_type"]) == (documented["content"], documented["msg_type"])
    assert body["uuid"] == message_uuid("reply:evt_1:0")


async def test_text_mentions_render_as_at_tags(client: FeishuClient, api: respx.MockRouter) -> None:
    documented = load("feishu", "send_message_request_text_with_at")
    await client.send(outbound(Text("text content", mentions=(UserRef("feishu", "ou_xxxxxxx", "Tom"),))))
    body = body_of(api["create"].calls.last)
    assert json.loads(body["content"]) == json.loads(documented["content"])
    assert body["msg_type"] == documented["msg_type"]


async def test_card_is_sent_as_interactive_json_2(client: FeishuClient, api: respx.MockRouter) -> None:
    await client.send(outbound(Card("周报 Weekly", "**进度** 50%\n- a", color="orange")))
    body = body_of(api["create"].calls.last)
    assert body["msg_type"] == "interactive"
    assert json.loads(body["content"]) == {
        "schema": "2.0",
        "header": {"title": {"tag": "plain_text", "content": "周报 Weekly"}, "template": "orange"},
        "body": {"elements": [{"tag": "markdown", "content": "**进度** 50%\n- a"}]},
    }


async def test_uuid_is_stable_across_retries(client: FeishuClient, api: respx.MockRouter) -> None:
    api["create"].side_effect = [
        httpx.Response(500, json={"code": 500, "msg": "oops"}),
        httpx.Response(200, json=SENT),
    ]
    message = outbound(
        idempotency_key="daily-standup:project-42:oc_84983ff6516d731e5b5f68d4ea2e1da5:2026-05-06"
    )
    with pytest.raises(SendError):
        await client.send(message)
    await client.send(message)

    first, second = (body_of(call)["uuid"] for call in api["create"].calls)
    assert first == second
    assert len(first) <= 50
    assert message_uuid("another key") != first


# --- error mapping ----------------------------------------------------------------------------------


async def test_http_429_uses_the_ratelimit_reset_header(client: FeishuClient, api: respx.MockRouter) -> None:
    limited = load("feishu", "rate_limit_error_99991400_http")
    api["create"].respond(limited["status"], headers=limited["headers"], json=limited["body"])
    with pytest.raises(SendError) as error:
        await client.send(outbound())
    assert (error.value.retryable, error.value.retry_after) == (True, 52)


async def test_rate_limit_code_without_header_is_retryable(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    api["create"].respond(400, json=load("feishu", "rate_limit_error_99991400"))
    with pytest.raises(SendError) as error:
        await client.send(outbound())
    assert (error.value.retryable, error.value.retry_after) == (True, None)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(400, json={"code": 230020, "msg": "This operation triggers the frequency limit."}),
        httpx.Response(500, json={"code": 500, "msg": "internal error"}),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(503, json={}),
    ],
)
async def test_transient_failures_are_retryable(
    client: FeishuClient, api: respx.MockRouter, response: httpx.Response
) -> None:
    api["create"].mock(return_value=response)
    with pytest.raises(SendError) as error:
        await client.send(outbound(reply_to=None))
    assert error.value.retryable is True


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
@pytest.mark.parametrize("reply_to", [None, "om_parent"])
async def test_transport_errors_are_retryable(
    client: FeishuClient, api: respx.MockRouter, exc: Exception, reply_to: str | None
) -> None:
    api["create"].side_effect = exc
    api["reply"].side_effect = exc
    with pytest.raises(SendError) as error:
        await client.send(outbound(reply_to=reply_to))
    assert error.value.retryable is True


async def test_token_transport_error_is_retryable(client: FeishuClient, api: respx.MockRouter) -> None:
    api["token"].side_effect = httpx.ConnectTimeout("slow")
    with pytest.raises(SendError) as error:
        await client.send(outbound())
    assert error.value.retryable is True


@pytest.mark.parametrize("code", [99991663, 99991664, 99991661, 99991668])
async def test_rejected_token_is_dropped_and_refetched(
    client: FeishuClient, api: respx.MockRouter, code: int
) -> None:
    api["create"].side_effect = [
        httpx.Response(400, json={"code": code, "msg": "token invalid"}),
        httpx.Response(200, json=SENT),
    ]
    with pytest.raises(SendError) as error:
        await client.send(outbound())
    assert error.value.retryable is True
    assert await client.send(outbound()) == SENT_ID
    assert api["token"].call_count == 2


async def test_other_codes_are_permanent(client: FeishuClient, api: respx.MockRouter) -> None:
    api["create"].respond(400, json={"code": 230002, "msg": "Bot/User can NOT be out of the chat."})
    with pytest.raises(SendError) as error:
        await client.send(outbound())
    assert error.value.retryable is False
    assert "230002" in str(error.value)
    assert "out of the chat" in str(error.value)


async def test_success_without_message_id_is_an_error(client: FeishuClient, api: respx.MockRouter) -> None:
    api["create"].respond(json={"code": 0, "msg": "success", "data": {}})
    with pytest.raises(SendError, match="message_id"):
        await client.send(outbound())


# --- splitting --------------------------------------------------------------------------------------


async def test_huge_card_is_split_into_ordered_sends_within_the_limit(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    lines = [f'{i:04d} 任务 "{i}" 进度 {i % 100}% — owner <at:ou_{i}>' for i in range(3000)]
    ids = iter(f"om_part_{i}" for i in range(100))
    api["create"].side_effect = lambda request: httpx.Response(
        200, json={"code": 0, "data": {"message_id": next(ids)}}
    )

    last_id = await client.send(outbound(Card("Weekly report", "\n".join(lines))))

    bodies = [body_of(call) for call in api["create"].calls]
    assert len(bodies) > 1
    assert last_id == f"om_part_{len(bodies) - 1}"
    for call, body in zip(api["create"].calls, bodies, strict=True):
        assert content_size(body["content"]) <= MAX_CONTENT_BYTES
        assert len(call.request.content) < 30 * 1024
    cards = [json.loads(body["content"]) for body in bodies]
    assert {card["header"]["title"]["content"] for card in cards} == {"Weekly report"}
    markdown = [card["body"]["elements"][0]["content"] for card in cards]
    feishu_lines = [line.replace(f"<at:ou_{i}>", f"<at id=ou_{i}></at>") for i, line in enumerate(lines)]
    assert "\n".join(markdown).split("\n") == feishu_lines  # in order, split on line boundaries only
    uuids = [body["uuid"] for body in bodies]
    assert uuids == [message_uuid("reply:evt_1:0", part) for part in range(len(bodies))]
    assert len(set(uuids)) == len(uuids)


def test_small_reply_is_one_part() -> None:
    msg_type, parts = render_parts(Text("hello"))
    assert (msg_type, parts) == ("text", ['{"text":"hello"}'])


def test_long_text_keeps_mentions_on_the_first_part_only() -> None:
    tom = UserRef("feishu", "ou_tom", "Tom")
    text = "\n".join(f"第 {i} 行 line with some words" for i in range(200))
    msg_type, parts = render_parts(Text(text, mentions=(tom,)), limit=1_000)
    texts = [json.loads(part)["text"] for part in parts]

    assert msg_type == "text"
    assert all(content_size(part) <= 1_000 for part in parts)
    assert texts[0].startswith('<at user_id="ou_tom">Tom</at> ')
    assert not any("<at" in t for t in texts[1:])
    assert "\n".join([texts[0].removeprefix('<at user_id="ou_tom">Tom</at> '), *texts[1:]]) == text


def test_single_overlong_line_is_cut() -> None:
    body = "長" * 5_000 + '"quoted"\\' * 50
    _, parts = render_parts(Card("t", body), limit=2_000)
    assert len(parts) > 1
    assert all(content_size(part) <= 2_000 for part in parts)
    assert "".join(json.loads(part)["body"]["elements"][0]["content"] for part in parts) == body


def test_title_too_large_for_the_limit_cannot_render() -> None:
    with pytest.raises(ValueError):
        render_parts(Card("T" * 2_000, "x" * 2_000), limit=1_000)


async def test_unrenderable_message_is_a_permanent_send_error(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    with pytest.raises(SendError) as error:
        await client.send(outbound(Card("T" * 40_000, "body")))
    assert error.value.retryable is False


def test_content_size_is_the_escaped_size_in_the_request_body() -> None:
    content = '{"text":"say \\"hi\\"\\n中"}'
    request_body = json.dumps({"content": content}, ensure_ascii=False, separators=(",", ":")).encode()
    assert content_size(content) == len(request_body) - len('{"content":""}')


# --- bot identity -----------------------------------------------------------------------------------


async def test_bot_open_id_is_fetched_once_and_cached(client: FeishuClient, api: respx.MockRouter) -> None:
    info = api.get("/open-apis/bot/v3/info").respond(
        json={
            "code": 0,
            "msg": "ok",
            "bot": {"activate_status": 2, "app_name": "crosstrack", "open_id": "ou_bot"},
        }
    )
    assert await client.bot_open_id() == "ou_bot"
    assert await client.bot_open_id() == "ou_bot"
    assert info.call_count == 1
    assert info.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="oops"),
        httpx.Response(400, json={"code": 99991672, "msg": "Access denied"}),
        httpx.Response(200, json={"code": 0, "msg": "ok", "bot": {}}),
    ],
)
async def test_bot_open_id_failure_returns_none_and_is_retried_a_minute_later(
    client: FeishuClient, api: respx.MockRouter, clock: FakeClock, response: httpx.Response
) -> None:
    info = api.get("/open-apis/bot/v3/info")
    info.side_effect = [response, httpx.Response(200, json={"code": 0, "bot": {"open_id": "ou_bot"}})]
    assert await client.bot_open_id() is None
    clock.now += 59
    assert await client.bot_open_id() is None  # not asked again: webhooks call this on every request
    assert info.call_count == 1
    clock.now += 1
    assert await client.bot_open_id() == "ou_bot"


def test_neutral_mentions_render_as_feishu_mentions() -> None:
    from adapters.feishu.cards import render_parts
    from adapters.models import Card, Text

    assert render_parts(Text("请 <at:ou_1> 更新")) == (
        "text",
        ['{"text":"请 <at user_id=\\"ou_1\\"></at> 更新"}'],
    )
    msg_type, [card] = render_parts(Card("T", "负责人 <at:ou_2>"))
    assert msg_type == "interactive" and '"content":"负责人 <at id=ou_2></at>"' in card
