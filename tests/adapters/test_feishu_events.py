"""Feishu webhook parsing against the real payloads in shared/platform-samples/feishu."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.base import WebhookRejected, WebhookResult
from adapters.feishu.crypto import encrypt, signature
from adapters.feishu.events import parse_webhook
from adapters.models import BotAddedToChat, ChatRef, InboundMessage, UserRef
from tests.samples import load

NOW = datetime(2026, 5, 6, 9, 30, tzinfo=UTC)
KEY = "test-encrypt-key"
WINDOW = 300
GROUP_TOKEN = "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"  # header.token of the group-mention sample
TOM = "ou_84aad35d084aa403a838cf73ee18467"  # the user the group-mention sample @-mentions


def sample(name: str, *, token: str | None = None) -> dict[str, Any]:
    """A Feishu sample; `token` fills header.token, which the larksuite/cli samples leave out."""
    payload: dict[str, Any] = load("feishu", name)
    if token is not None:
        payload["header"]["token"] = token
    return payload


def parse(
    body: dict[str, Any] | bytes,
    *,
    token: str = GROUP_TOKEN,
    key: str | None = KEY,
    bot: str | None = None,
    headers: dict[str, str] | None = None,
) -> WebhookResult:
    """Parse as the app does with encrypt key `key` (None: CROSSTRACK_FEISHU_ALLOW_UNSIGNED). A payload
    (not bytes) is sent as Feishu would: encrypted and signed with the key, plain without one."""
    raw, sent_headers = body, {}
    if not isinstance(body, bytes):
        raw, sent_headers = sealed(body, key=key) if key else (json.dumps(body).encode(), {})
    assert isinstance(raw, bytes)
    return parse_webhook(
        sent_headers if headers is None else headers,
        raw,
        verification_token=token,
        encrypt_key=key,
        bot_open_id=bot,
        now=NOW,
        replay_window_seconds=WINDOW,
    )


def sealed(payload: dict[str, Any], *, key: str = KEY, at: datetime = NOW) -> tuple[bytes, dict[str, str]]:
    """An encrypted body with the signature headers Feishu sends (lowercase, as Starlette gives them)."""
    raw = json.dumps({"encrypt": encrypt(key, json.dumps(payload, ensure_ascii=False))}).encode()
    timestamp, nonce = str(int(at.timestamp())), "n0nce"
    return raw, {
        "x-lark-request-timestamp": timestamp,
        "x-lark-request-nonce": nonce,
        "x-lark-signature": signature(timestamp, nonce, key, raw),
    }


def only(result: WebhookResult) -> Any:
    assert result.response == {}
    assert len(result.events) == 1
    return result.events[0]


def ms(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)


# --- url_verification -------------------------------------------------------------------------------


def test_plain_url_verification_echoes_the_challenge() -> None:
    result = parse(sample("url_verification_plain"), token="xxxxxx", key=None)
    assert result.response == load("feishu", "url_verification_response")
    assert result.events == ()


def test_encrypted_url_verification_needs_no_signature_headers() -> None:
    raw, _ = sealed(sample("url_verification_plain"))
    result = parse(raw, token="xxxxxx", key=KEY)
    assert result.response == {"challenge": "ajls384kdjxxxx"}


def test_encrypted_url_verification_with_signature_headers() -> None:
    raw, headers = sealed(sample("url_verification_plain"))
    assert parse(raw, token="xxxxxx", key=KEY, headers=headers).response == {"challenge": "ajls384kdjxxxx"}


@pytest.mark.parametrize("key", [None, KEY])
def test_url_verification_with_wrong_token_is_rejected(key: str | None) -> None:
    body: dict[str, Any] | bytes = sample("url_verification_plain")
    if key:
        body, _ = sealed(sample("url_verification_plain"))
    with pytest.raises(WebhookRejected) as rejected:
        parse(body, token="another-token", key=key)
    assert rejected.value.status_code == 401


@pytest.mark.parametrize(
    "name", ["url_verification_encrypted_placeholder", "encrypted_event_doc_example_no_key"]
)
def test_doc_placeholder_ciphertexts_are_rejected(name: str) -> None:
    with pytest.raises(WebhookRejected, match="decrypt"):
        parse(json.dumps(sample(name)).encode(), token="xxxxxx", key=KEY)


# --- message events ---------------------------------------------------------------------------------


def test_group_mention_sample_with_unknown_bot_id_treats_the_leading_mention_as_the_bot() -> None:
    message = only(parse(sample("im_message_receive_v1_group_mention")))
    assert message == InboundMessage(
        platform="feishu",
        event_id="5e3702a84e847582be8db7fb73283c02",
        message_id="om_5ce6d572455d361153b7cb51da133945",
        chat=ChatRef("feishu", "oc_5ce6d572455d361153b7xx51da133945", "group"),
        sender=UserRef("feishu", TOM),
        text="hello",
        sent_at=ms(1609073151345),
        message_type="text",
        mentions=(),
        to_bot=True,
        sender_is_bot=False,
        reply_to="om_5ce6d572455d361153b7cb5xxfsdfsdfdsf",
    )
    assert message.sent_at == datetime(2020, 12, 27, 12, 45, 51, 345000, tzinfo=UTC)


def test_group_mention_of_the_known_bot_is_stripped() -> None:
    message = only(parse(sample("im_message_receive_v1_group_mention"), bot=TOM))
    assert (message.text, message.mentions, message.to_bot) == ("hello", (), True)


def test_group_mention_of_another_user_is_tokenised_and_not_addressed_to_the_bot() -> None:
    message = only(parse(sample("im_message_receive_v1_group_mention"), bot="ou_the_bot"))
    assert message.text == f"<at:{TOM}> hello"
    assert message.mentions == (UserRef("feishu", TOM, "Tom"),)
    assert message.mentioned(TOM) == UserRef("feishu", TOM, "Tom")
    assert message.to_bot is False


def test_p2p_sample() -> None:
    message = only(parse(sample("im_message_receive_v1_p2p_larksuite_cli_test", token=GROUP_TOKEN)))
    assert message == InboundMessage(
        platform="feishu",
        event_id="ev_test_text",
        message_id="om_text_001",
        chat=ChatRef("feishu", "oc_chat", "p2p"),
        sender=UserRef("feishu", "ou_sender"),
        text="hello there",
        sent_at=ms(1776409468987),
        to_bot=True,
        reply_to=None,
    )


@pytest.mark.parametrize("bot", [None, "ou_the_bot"])
def test_p2p_sample_with_mention_of_another_user(bot: str | None) -> None:
    payload = sample("im_message_receive_v1_p2p_with_mention_larksuite_cli_test", token=GROUP_TOKEN)
    message = only(parse(payload, bot=bot))
    assert message.text == "hello <at:ou_mentioned>"
    assert message.mentions == (UserRef("feishu", "ou_mentioned", "Alice"),)
    assert message.to_bot is True  # p2p is always addressed to the bot
    assert message.reply_to == "om_parent_001"


def text_message(
    text: str, mentions: list[tuple[str, str, str]], *, chat_type: str = "group"
) -> dict[str, Any]:
    payload = sample("im_message_receive_v1_group_mention")
    message = payload["event"]["message"]
    message["chat_type"] = chat_type
    message["content"] = json.dumps({"text": text}, ensure_ascii=False)
    message["mentions"] = [{"key": k, "id": {"open_id": o}, "name": n} for k, o, n in mentions]
    return payload


def test_bot_mention_anywhere_is_removed_and_other_mentions_become_tokens() -> None:
    payload = text_message(
        "assign @_user_1  task 3 to @_user_10   and @_user_2",
        [("@_user_1", "ou_bot", "Bot"), ("@_user_10", "ou_ten", "Ten"), ("@_user_2", "ou_two", "Two")],
    )
    message = only(parse(payload, bot="ou_bot"))
    assert message.text == "assign task 3 to <at:ou_ten> and <at:ou_two>"
    assert message.mentions == (UserRef("feishu", "ou_ten", "Ten"), UserRef("feishu", "ou_two", "Two"))
    assert message.to_bot is True


def test_unknown_bot_id_drops_only_the_leading_mention() -> None:
    payload = text_message("@_user_1 @_user_2 done", [("@_user_1", "ou_x", "Bot"), ("@_user_2", "ou_y", "Y")])
    message = only(parse(payload))
    assert message.text == "<at:ou_y> done"
    assert message.mentions == (UserRef("feishu", "ou_y", "Y"),)


def test_line_breaks_survive_while_spaces_collapse() -> None:
    payload = text_message("@_user_1  task A\t 50%\n\n  task B   done  ", [("@_user_1", "ou_bot", "Bot")])
    assert only(parse(payload, bot="ou_bot")).text == "task A 50%\n\ntask B done"


def test_messages_from_bots_are_flagged() -> None:
    payload = sample("im_message_receive_v1_p2p_larksuite_cli_test", token=GROUP_TOKEN)
    payload["event"]["sender"]["sender_type"] = "app"
    assert only(parse(payload)).sender_is_bot is True


def test_image_message_keeps_its_type_with_empty_text() -> None:
    payload = sample("im_message_receive_v1_p2p_larksuite_cli_test", token=GROUP_TOKEN)
    payload["event"]["message"].update(message_type="image", content='{"image_key":"img_v2_xxx"}')
    message = only(parse(payload))
    assert (message.message_type, message.text, message.to_bot) == ("image", "", True)


def test_group_post_mentioning_someone_else_is_not_for_the_bot() -> None:
    payload = sample("im_message_receive_v1_group_mention")
    payload["event"]["message"].update(message_type="post", content='{"title":"","content":[]}')
    message = only(parse(payload, bot="ou_the_bot"))
    assert (message.message_type, message.text, message.to_bot) == ("post", "", False)


def test_malformed_but_authentic_message_event_is_a_400() -> None:
    payload = sample("im_message_receive_v1_group_mention")
    del payload["event"]["message"]["message_id"]
    with pytest.raises(WebhookRejected) as rejected:
        parse(payload)
    assert rejected.value.status_code == 400


# --- other events -----------------------------------------------------------------------------------


def test_bot_added_sample() -> None:
    added = only(parse(sample("im_chat_member_bot_added_v1")))
    assert added == BotAddedToChat(
        platform="feishu",
        event_id="5e3702a84e847582be8db7fb73283c02",
        chat=ChatRef("feishu", "oc_413871888e0d5492e25b173f0812efb7", "group", name="群名称测试"),
        operator=UserRef("feishu", TOM),
        occurred_at=ms(1608725989000),
    )


def test_microsecond_create_time_from_the_generic_envelope_is_understood() -> None:
    payload = sample("im_chat_member_bot_added_v1")
    payload["header"]["create_time"] = "1603977298000000"  # as in event_v2_envelope_doc_example
    assert only(parse(payload)).occurred_at == datetime(2020, 10, 29, 13, 14, 58, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("event_v2_envelope_doc_example", "066zT6pS4QCbgj5Do145GfDbbagCHGgF"),
        ("card_action_trigger_callback_doc", "066zT6pS4QCbgj5Do145GfDbbag*****"),
        ("event_v1_envelope_doc_example", "41a9425ea7df4536a7623e38fa321bae"),
    ],
)
def test_other_events_are_verified_then_ignored(name: str, token: str) -> None:
    assert parse(sample(name), token=token) == WebhookResult()
    with pytest.raises(WebhookRejected, match="token"):
        parse(sample(name), token="another-token")


def test_go_sdk_encrypted_event_is_decrypted_verified_and_ignored() -> None:
    vector = load("feishu", "decrypt_vector_go_sdk_test_event")
    raw = json.dumps(vector["body"]).encode()
    timestamp, nonce = str(int(NOW.timestamp())), "abc"
    headers = {
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": signature(timestamp, nonce, vector["encrypt_key"], raw),
    }
    result = parse(raw, token=vector["verification_token"], key=vector["encrypt_key"], headers=headers)
    assert result == WebhookResult()  # contact.user.created_v3: not ours
    with pytest.raises(WebhookRejected, match="missing signature"):
        parse(raw, token=vector["verification_token"], key=vector["encrypt_key"])


# --- signed and encrypted events --------------------------------------------------------------------


def test_signed_encrypted_message_event() -> None:
    raw, headers = sealed(sample("im_message_receive_v1_group_mention"))
    message = only(parse(raw, key=KEY, bot=TOM, headers=headers))
    assert message.text == "hello"


def test_header_names_are_case_insensitive() -> None:
    raw, headers = sealed(sample("im_message_receive_v1_group_mention"))
    shouted = {name.upper(): value for name, value in headers.items()}
    assert isinstance(only(parse(raw, key=KEY, headers=shouted)), InboundMessage)


def test_go_sdk_signature_vector_is_accepted_but_its_timestamp_is_not_a_time() -> None:
    vector = load("feishu", "signature_vector_go_sdk_test")
    with pytest.raises(WebhookRejected, match="timestamp"):
        parse(vector["raw_body"].encode(), token="v", key=vector["encrypt_key"], headers=vector["headers"])


def test_bad_signature_is_rejected() -> None:
    raw, headers = sealed(sample("im_message_receive_v1_group_mention"))
    headers["x-lark-signature"] = signature(headers["x-lark-request-timestamp"], "other", KEY, raw)
    with pytest.raises(WebhookRejected, match="bad signature"):
        parse(raw, key=KEY, headers=headers)


def test_tampered_body_is_rejected() -> None:
    raw, headers = sealed(sample("im_message_receive_v1_group_mention"))
    with pytest.raises(WebhookRejected, match="bad signature"):
        parse(raw.replace(b'"}', b'" }'), key=KEY, headers=headers)


@pytest.mark.parametrize("skew", [-WINDOW - 1, WINDOW + 1, -86_400])
def test_stale_or_future_timestamp_is_rejected(skew: int) -> None:
    raw, headers = sealed(sample("im_message_receive_v1_group_mention"), at=NOW + timedelta(seconds=skew))
    with pytest.raises(WebhookRejected, match="stale"):
        parse(raw, key=KEY, headers=headers)


@pytest.mark.parametrize("skew", [-WINDOW, WINDOW])
def test_timestamp_at_the_edge_of_the_window_is_accepted(skew: int) -> None:
    raw, headers = sealed(sample("im_message_receive_v1_group_mention"), at=NOW + timedelta(seconds=skew))
    assert isinstance(only(parse(raw, key=KEY, headers=headers)), InboundMessage)


def test_missing_signature_headers_are_rejected_for_events() -> None:
    raw, _ = sealed(sample("im_message_receive_v1_group_mention"))
    with pytest.raises(WebhookRejected, match="missing signature"):
        parse(raw, key=KEY)


@pytest.mark.parametrize("dropped", ["x-lark-request-timestamp", "x-lark-request-nonce", "x-lark-signature"])
def test_incomplete_signature_headers_are_rejected(dropped: str) -> None:
    raw, headers = sealed(sample("url_verification_plain"))
    del headers[dropped]
    with pytest.raises(WebhookRejected, match="incomplete"):
        parse(raw, token="xxxxxx", key=KEY, headers=headers)


def test_wrong_token_inside_a_validly_signed_event_is_rejected() -> None:
    raw, headers = sealed(sample("im_message_receive_v1_group_mention"))
    with pytest.raises(WebhookRejected, match="token"):
        parse(raw, token="another-token", key=KEY, headers=headers)


def test_event_without_header_token_is_rejected() -> None:
    # The larksuite/cli samples carry no header.token; real deliveries do, and we insist on it.
    with pytest.raises(WebhookRejected, match="token"):
        parse(sample("im_message_receive_v1_p2p_larksuite_cli_test"))


def test_plain_body_when_a_key_is_configured_is_rejected() -> None:
    payload = sample("im_message_receive_v1_group_mention")
    raw = json.dumps(payload).encode()
    timestamp, nonce = str(int(NOW.timestamp())), "n"
    headers = {
        "x-lark-request-timestamp": timestamp,
        "x-lark-request-nonce": nonce,
        "x-lark-signature": signature(timestamp, nonce, KEY, raw),
    }
    with pytest.raises(WebhookRejected, match="plain body"):
        parse(raw, key=KEY, headers=headers)


def test_encrypted_body_without_a_configured_key_is_rejected() -> None:
    raw, _ = sealed(sample("url_verification_plain"))
    with pytest.raises(WebhookRejected, match="no encrypt key"):
        parse(raw, token="xxxxxx", key=None)


def test_encrypted_garbage_that_is_not_json_is_rejected() -> None:
    raw = json.dumps({"encrypt": encrypt(KEY, "not json")}).encode()
    with pytest.raises(WebhookRejected, match="JSON"):
        parse(raw, key=KEY)


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100_000, b'{"type": "other"}']
)
@pytest.mark.parametrize("key", [None, KEY])
def test_garbage_bodies_are_rejected(raw: bytes, key: str | None) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        parse(raw, key=key)
    assert rejected.value.status_code == 401
