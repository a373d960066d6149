"""Parsing `card.action.trigger` callbacks (the documented samples), verified like events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from adapters.base import WebhookRejected
from adapters.feishu.card_actions import parse_callback
from adapters.feishu.crypto import encrypt, signature
from adapters.models import CardClick, UserRef
from tests.samples import load

TOKEN = "vt-0123456789"
KEY = "ek-0123456789"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def signed(payload: dict[str, object], *, stamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps({"encrypt": encrypt(KEY, json.dumps(payload))}).encode()
    timestamp = str(stamp if stamp is not None else int(NOW.timestamp()))
    return raw, {
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": "n1",
        "X-Lark-Signature": signature(timestamp, "n1", KEY, raw),
    }


def parse(raw: bytes, headers: dict[str, str]) -> CardClick | dict[str, str]:
    return parse_callback(
        headers, raw, verification_token=TOKEN, encrypt_key=KEY, now=NOW, replay_window_seconds=300
    )


def documented(**value: object) -> dict[str, object]:
    payload = copy.deepcopy(load("feishu", "card_action_trigger_callback_doc"))
    payload["header"]["token"] = TOKEN
    if value:
        payload["event"]["action"]["value"] = value
    return payload


def test_the_documented_callback_is_a_click_with_its_group_inputs() -> None:
    payload = documented(g=1, b=2)
    form = payload["event"]["action"]["form_value"]  # type: ignore[index]
    form.update({"g1_due": "2026-12-09 +0800", "g1_reason": "等运维", "g0_due": "other group"})
    click = parse(*signed(payload))
    assert click == CardClick(
        platform="feishu",
        event_id="f7984f25108f8137722bb63c*****",
        card_message_id="om_574d639e4a44e4dd646eaf628e2*****",
        chat_id="oc_e4d2605ca917e695f54f11aaf56*****",
        operator=UserRef("feishu", "ou_3c14f3a59eaf2825dbe25359f15*****"),
        group=1,
        button=2,
        values={"due": "2026-12-09", "reason": "等运维"},
        clicked_at=datetime(2020, 10, 29, 13, 14, 58, tzinfo=UTC),
    )


def test_a_button_that_is_not_ours_is_a_click_nobody_can_place() -> None:
    click = parse(*signed(documented()))  # value {"key": "value"}
    assert isinstance(click, CardClick) and (click.group, click.button) == (-1, -1)


def test_the_url_check_is_answered_with_its_challenge() -> None:
    check = {**load("feishu", "card_callback_legacy_url_verification"), "token": TOKEN}
    assert parse(*signed(check)) == {"challenge": "1b6aef1a-401f-406a-be41-f48911e00be7"}


@pytest.mark.parametrize(
    "tamper",
    ["signature", "stale", "token", "plain"],
)
def test_unauthenticated_callbacks_are_refused(tamper: str) -> None:
    payload = documented(g=0, b=0)
    if tamper == "token":
        payload["header"]["token"] = "someone else's"  # type: ignore[index]
    raw, headers = signed(payload, stamp=int(NOW.timestamp()) - 3600 if tamper == "stale" else None)
    if tamper == "signature":
        headers["X-Lark-Signature"] = "0" * 64
    if tamper == "plain":
        raw = json.dumps(payload).encode()
    with pytest.raises(WebhookRejected) as rejected:
        parse(raw, headers)
    assert rejected.value.status_code == 401


def test_an_authentic_request_that_is_no_click_is_a_bad_request() -> None:
    legacy = {**load("feishu", "card_callback_legacy_v1_request"), "token": TOKEN}
    with pytest.raises(WebhookRejected):
        parse(*signed(legacy))  # the old callback format is not configured (nor accepted)
    event = load("feishu", "im_message_receive_v1_group_mention")
    event["header"]["token"] = TOKEN
    with pytest.raises(WebhookRejected) as rejected:
        parse(*signed(event))
    assert rejected.value.status_code == 400
