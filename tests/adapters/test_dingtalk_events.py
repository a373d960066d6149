"""DingTalk robot messages -> InboundMessage, against the real payloads in platform_samples/dingtalk."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.base import WebhookRejected
from adapters.dingtalk.events import ReplyRoute, parse_message
from adapters.models import ChatRef, InboundMessage, UserRef
from tests.samples import load

NOW = datetime(2026, 5, 6, 9, 30, tzinfo=UTC)
HTTP_GROUP = "http_group_message_at_bot.receive-message-doc"
STREAM_GROUP = "robot_msg_group_at_bot.from_stream_frame_data.developerpedia"
P2P_TEXT = "robot_msg_single_chat_text.developerpedia"
BOT = "$:LWCP_v1:$Cxxxxx"  # chatbotUserId of the HTTP group sample


def sample(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = load("dingtalk", name)
    return payload


def parse(
    payload: dict[str, Any], *, robot_code: str | None = None
) -> tuple[InboundMessage, ReplyRoute | None]:
    return parse_message(payload, robot_code=robot_code, now=NOW)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def test_http_group_message_that_ats_the_bot() -> None:
    message, route = parse(sample(HTTP_GROUP))
    assert message == InboundMessage(
        platform="dingtalk",
        event_id="msg0xxxxx",
        message_id="msg0xxxxx",
        chat=ChatRef("dingtalk", "xxx", "group", name="机器人测试-TEST"),
        sender=UserRef("dingtalk", "user123", "杨xx"),
        # The space the bot's mention left is gone; the masked "xxx" user (see below) shows no
        # "@Name", so it is appended as a mention whose name DingTalk dropped.
        text="你好 <at:xxx>",
        sent_at=ms(1613630252678),
        message_type="text",
        # The doc masks every id as "xxx", so the bot's own atUsers entry (surely the one @-ed here)
        # no longer matches chatbotUserId and reads as a user with staffId "xxx".
        mentions=(UserRef("dingtalk", "xxx"),),
        to_bot=True,
    )
    assert route == ReplyRoute(
        "https://oapi.dingtalk.com/robot/sendBySession?session=xxxxx", ms(1613635652738)
    )


def test_stream_frame_data_parses_like_the_http_body() -> None:
    frame = sample("stream_callback_frame_chatbot_group_at_bot.developerpedia")
    message, route = parse(json.loads(frame["data"]))
    assert (message, route) == parse(sample(STREAM_GROUP))
    assert message.chat == ChatRef("dingtalk", "cidAsXSBLnA==", "group", name="测试群")
    assert message.sender == UserRef("dingtalk", "16650***698", "用户")
    assert (message.event_id, message.message_id) == ("msgLICYe****HgY4JtMQw==",) * 2
    assert message.text == "测试数据"
    assert message.to_bot
    # atUsers holds only a dingtalkId (the bot's, masked differently from chatbotUserId): no member.
    assert message.mentions == ()
    # The doc's "createA" typo means no createAt: the receive time stands in.
    assert message.sent_at == NOW
    assert route is not None and route.expires_at == ms(1690367502152)


def test_one_to_one_text() -> None:
    message, route = parse(sample(P2P_TEXT))
    assert message.chat == ChatRef("dingtalk", "cide****4g=", "p2p")
    assert message.sender == UserRef("dingtalk", "042***297", "张三")
    assert (message.text, message.message_type, message.mentions) == ("hello DingTalk!", "text", ())
    assert message.sent_at == ms(1695283635765)
    assert message.to_bot and not message.sender_is_bot
    assert route == ReplyRoute(
        "https://oapi.dingtalk.com/robot/sendBySession?session=79b48****4d4b", ms(1695289035996)
    )


@pytest.mark.parametrize(
    ("name", "message_type", "text"),
    [
        ("robot_msg_single_chat_picture.developerpedia", "picture", ""),
        ("robot_msg_unknown_type.developerpedia", "unknownMsgType", ""),
        # Text parts joined line by line (the picture between them dropped); the type stays
        # richText, so the core answers with its text-only hint until it learns to read them.
        (
            "robot_msg_single_chat_richtext.developerpedia",
            "richText",
            "这个问题示例图如下：\n通过以上示意图可以明白完整的交互流程",
        ),
    ],
)
def test_non_text_messages_keep_their_type(name: str, message_type: str, text: str) -> None:
    message, _ = parse(sample(name))
    assert (message.message_type, message.text) == (message_type, text)
    assert message.chat.chat_type == "p2p" and message.to_bot
    assert message.sender.user_id.startswith("042")


def group(content: str, at_users: list[dict[str, str]], **changes: Any) -> dict[str, Any]:
    """The HTTP group sample with the bot recognisable in atUsers and the given text and mentions."""
    payload = copy.deepcopy(sample(HTTP_GROUP))
    payload["text"]["content"] = content
    payload["atUsers"] = [{"dingtalkId": BOT}, *at_users]
    payload.update(changes)
    return payload


BOB = {"dingtalkId": "$:LWCP_v1:$bob", "staffId": "bob01"}
AMY = {"dingtalkId": "$:LWCP_v1:$amy", "staffId": "amy02"}
GUEST = {"dingtalkId": "$:LWCP_v1:$guest"}  # another organisation's user: no staffId


def test_the_one_visible_mention_of_the_one_other_user_becomes_a_token() -> None:
    message, _ = parse(group(" /owner 1.1 @鲍勃 ", [BOB]))
    assert message.text == "/owner 1.1 <at:bob01>"
    assert message.mentions == (UserRef("dingtalk", "bob01"),)


def test_a_user_mentioned_twice_by_the_same_name_is_still_unambiguous() -> None:
    message, _ = parse(group(" @鲍勃 和 @鲍勃", [BOB, BOB]))
    assert message.text == "<at:bob01> 和 <at:bob01>"
    assert message.mentions == (UserRef("dingtalk", "bob01"),)


@pytest.mark.parametrize(
    ("content", "at_users", "mentions"),
    [
        (" /raci 1.1 R=@Bob A=@Amy", [BOB, AMY], ("bob01", "amy02")),  # which is which: unknown
        (" @Bob @Guest", [BOB, GUEST], ("bob01",)),  # two users, one without a staffId
        (" 通知 @鲍勃", [BOB, GUEST], ("bob01",)),  # one name for two users: whose is it?
        (" 通知 @Bob @Ghost", [BOB], ("bob01",)),  # more visible names than users
    ],
)
def test_ambiguous_mentions_leave_the_text_as_written(
    content: str, at_users: list[dict[str, str]], mentions: tuple[str, ...]
) -> None:
    message, _ = parse(group(content, at_users))
    assert message.text == content.strip()
    assert message.mentions == tuple(UserRef("dingtalk", staff_id) for staff_id in mentions)


def test_group_message_not_addressed_to_the_bot() -> None:
    payload = group(" 大家好", [], isInAtList=False)
    payload["atUsers"] = []
    message, _ = parse(payload)
    assert not message.to_bot


def test_the_bot_in_at_users_addresses_it_even_without_is_in_at_list() -> None:
    payload = group(" 进度", [])
    del payload["isInAtList"]
    assert parse(payload)[0].to_bot


def test_sender_falls_back_to_sender_id_and_spaces_are_tidied() -> None:
    payload = sample(P2P_TEXT)
    del payload["senderStaffId"]
    payload["text"]["content"] = "  完成  1.1\n  明天   继续 "
    message, _ = parse(payload)
    assert message.sender == UserRef("dingtalk", "$:LWC****PA==", "张三")
    assert message.text == "完成 1.1\n明天 继续"


@pytest.mark.parametrize(
    "webhook",
    [
        "https://attacker.example/robot/sendBySession?session=1",
        "https://oapi.dingtalk.com.attacker.example/robot/sendBySession?session=1",
        "http://oapi.dingtalk.com/robot/sendBySession?session=1",
        None,
    ],
)
def test_a_session_webhook_off_the_dingtalk_domain_gives_no_reply_route(webhook: str | None) -> None:
    payload = sample(P2P_TEXT)
    payload["sessionWebhook"] = webhook
    assert parse(payload)[1] is None


def test_a_session_webhook_on_a_configured_domain() -> None:
    payload = sample(P2P_TEXT)
    payload["sessionWebhook"] = "https://oapi.example.cn/robot/sendBySession?session=1"
    _, route = parse_message(payload, robot_code=None, now=NOW, oapi_domain="https://oapi.example.cn/")
    assert route is not None and route.session_webhook == payload["sessionWebhook"]


def test_a_message_for_another_robot_is_rejected() -> None:
    payload = sample(P2P_TEXT)
    assert parse(payload, robot_code="ding****c6gk")[0].text == "hello DingTalk!"
    with pytest.raises(WebhookRejected, match="another robot") as rejected:
        parse(payload, robot_code="dingOTHER")
    assert rejected.value.status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        {"msgId": None},
        {"conversationId": ""},
        {"conversationType": "3"},
        {"msgtype": None},
        {"senderStaffId": None, "senderId": None},
        {"createAt": "yesterday"},
        {"createAt": 10**30},
        {"text": "not an object"},
    ],
)
def test_malformed_messages_are_rejected_with_400(change: dict[str, Any]) -> None:
    payload = sample(P2P_TEXT)
    payload.update(change)
    with pytest.raises(WebhookRejected, match="malformed") as rejected:
        parse(payload)
    assert rejected.value.status_code == 400
