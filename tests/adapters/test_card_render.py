"""Cards with actions: their round trip through the outbox JSON, and how Feishu (forms and callback
buttons) and DingTalk (action cards whose links send the command) render them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.codec import reply_from_json, reply_to_json
from adapters.dingtalk.cards import MAX_BUTTON_TITLE, send_message_link
from adapters.dingtalk.client import render as dingtalk_render
from adapters.feishu.card_actions import answer
from adapters.feishu.cards import MAX_CONTENT_BYTES, content_size, render, render_parts
from adapters.models import ActionGroup, Button, Card, Field, Image
from bot.card_clicks import ClickResult

LATE = ActionGroup(
    "2.1 后端接口",
    (
        Button("✅ 完成", "/完成 2.1", "primary", done="标记 2.1 已完成"),
        Button("📅 改期", "/任务 修改 2.1 截止={due}", hint="📅 改期：发送 /任务 修改 2.1 截止=<日期>"),
        Button("⛔ 卡住了", "/卡点 2.1 {reason}", "danger", hint="⛔ 卡住了：发送 /卡点 2.1 <原因>"),
    ),
    (Field("due", "新的截止日期", "date"), Field("reason", "卡在哪里？")),
)
RISK = ActionGroup(
    "风险 R3", (Button("✅ 已缓解", "/风险 R3 已缓解"), Button("⬆️ 升级", "/风险 R3 升级", "danger"))
)
STANDUP = ActionGroup(
    "⚡ 一键填报",
    (Button("📤 提交站会", "/站会 {t0}{blockers}", "primary", final=False),),
    (
        Field("t0", "2.1 后端接口", "select", (("0%", "0%"), ("50%", "50%")), "现在 20%", "2.1 {}；", False),
        Field("blockers", "卡点", fill="卡点：{}；", required=False),
    ),
)
CARD = Card("⚠️ 今日提醒", "🔴 2.1 后端接口 已逾期 1 天", "red", (LATE, RISK, STANDUP))


def feishu_elements(card: Card) -> list[dict[str, Any]]:
    msg_type, content = render(card)
    assert msg_type == "interactive" and content["schema"] == "2.0"
    elements: list[dict[str, Any]] = content["body"]["elements"]
    return elements


def walk(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for element in elements:
        found.append(element)
        found += walk(element.get("elements", []))
        found += walk(element.get("columns", []))
    return found


def test_cards_with_actions_round_trip_and_old_rows_still_load() -> None:
    stored = json.loads(json.dumps(reply_to_json(CARD)))
    assert reply_from_json(stored) == CARD
    old = {"kind": "card", "title": "📋 站会小结", "body": "✅ 已汇报 1/2", "color": "green"}
    assert reply_from_json(old) == Card("📋 站会小结", "✅ 已汇报 1/2", "green")


def test_a_card_without_actions_is_its_markdown_body_alone() -> None:
    assert feishu_elements(Card("t", "body")) == [{"tag": "markdown", "content": "body"}]


def test_feishu_buttons_call_back_with_their_place_and_inputs_sit_in_a_form() -> None:
    elements = feishu_elements(CARD)
    assert elements[0] == {"tag": "markdown", "content": CARD.body}
    assert elements[1] == {"tag": "hr"}
    titles = [e["content"] for e in elements if e["tag"] == "markdown"][1:]
    assert titles == ["**2.1 后端接口**", "**风险 R3**", "**⚡ 一键填报**"]
    late_form, risk_row, standup_form = (e for e in elements[2:] if e["tag"] != "markdown")
    assert late_form["tag"] == "form" and risk_row["tag"] == "column_set"
    inside = walk(late_form["elements"])
    assert [(e["tag"], e["name"]) for e in inside if e["tag"] in ("date_picker", "input")] == [
        ("date_picker", "g0_due"),
        ("input", "g0_reason"),
    ]
    late_buttons = [e for e in inside if e["tag"] == "button"]
    assert [b["behaviors"] for b in late_buttons] == [
        [{"type": "callback", "value": {"g": 0, "b": number}}] for number in range(3)
    ]
    assert {b["form_action_type"] for b in late_buttons} == {"submit"}
    risk_buttons = [e for e in walk([risk_row]) if e["tag"] == "button"]
    assert [(b["type"], "form_action_type" in b) for b in risk_buttons] == [
        ("default", False),
        ("danger", False),
    ]
    [select] = [e for e in walk(standup_form["elements"]) if e["tag"] == "select_static"]
    assert select["name"] == "g2_t0" and select["placeholder"]["content"] == "现在 20%"
    assert select["options"][1] == {"text": {"tag": "plain_text", "content": "50%"}, "value": "50%"}
    names = [e["name"] for e in walk(elements) if "name" in e]
    assert len(names) == len(set(names))  # names are unique within a card


def test_a_finished_group_shows_nothing_but_keeps_its_place() -> None:
    done = Card(CARD.title, CARD.body, CARD.color, (ActionGroup(LATE.title, ()), RISK, STANDUP))
    elements = feishu_elements(done)
    assert "**2.1 后端接口**" not in [e.get("content") for e in elements]
    values = [b["behaviors"][0]["value"] for b in walk(elements) if b["tag"] == "button"]
    assert values[0] == {"g": 1, "b": 0}


def test_an_oversized_card_is_split_with_its_actions_on_the_last_part_only() -> None:
    body = "\n".join(f"{n:05d} " + "进度说明" * 40 for n in range(400))
    msg_type, parts = render_parts(Card("周报", body, actions=(LATE,)))
    assert msg_type == "interactive" and len(parts) > 2
    assert all(content_size(part) <= MAX_CONTENT_BYTES for part in parts)
    with_buttons = ["button" in part for part in parts]
    assert with_buttons == [False] * (len(parts) - 1) + [True]
    rebuilt = "\n".join(json.loads(part)["body"]["elements"][0]["content"] for part in parts)
    assert rebuilt == body


def test_a_cards_pictures_follow_its_text_on_the_last_part_only() -> None:
    pictures = (Image(b"gantt", "甘特图"), Image(b"burndown", "燃尽图"))
    body = "\n".join(f"{n:05d} " + "进度说明" * 40 for n in range(400))
    _, parts = render_parts(Card("周报", body, images=pictures), image_keys=["img_1", "img_2"])
    elements = [json.loads(part)["body"]["elements"] for part in parts]
    assert [[e["tag"] for e in part] for part in elements] == [["markdown"]] * (len(parts) - 1) + [
        ["markdown", "img", "img"]
    ]
    assert [(e["img_key"], e["alt"]["content"]) for e in elements[-1][1:]] == [
        ("img_1", "甘特图"),
        ("img_2", "燃尽图"),
    ]
    with pytest.raises(ValueError):
        render(Card("周报", "总体", images=pictures), ["img_1"])  # a picture not uploaded


def test_the_callback_answer_is_a_toast_and_the_card_to_show() -> None:
    assert answer(ClickResult("refused", "抱歉")) == {"toast": {"type": "error", "content": "抱歉"}}
    shown = answer(ClickResult("applied", "已完成", Card("t", "b\n✅ <at:ou_a> 完成", actions=(RISK,))))
    assert shown["toast"] == {"type": "success", "content": "已完成"}
    assert shown["card"]["type"] == "raw"
    assert shown["card"]["data"]["body"]["elements"][0]["content"] == "b\n✅ <at id=ou_a></at> 完成"


def command_of(url: str) -> str:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("dtmd", "dingtalkclient", "/sendMessage")
    [command] = parse_qs(parts.query)["content"]
    return command


def test_dingtalk_one_to_one_cards_are_action_cards_whose_links_send_the_commands() -> None:
    msg_type, fields, _ = dingtalk_render(CARD, buttons=True)
    # Tappable: done, and the risk's two; the others need input and become hint lines.
    assert msg_type == "sampleActionCard3"
    assert [fields[f"actionTitle{n}"] for n in (1, 2, 3)] == [
        "✅ 完成 2.1 后端接口",
        "✅ 已缓解 风险 R3",
        "⬆️ 升级 风险 R3",
    ]
    assert [command_of(fields[f"actionURL{n}"]) for n in (1, 2, 3)] == [
        "/完成 2.1",
        "/风险 R3 已缓解",
        "/风险 R3 升级",
    ]
    assert fields["title"] == CARD.title
    assert fields["text"].endswith(
        "📅 改期：发送 /任务 修改 2.1 截止=<日期>\n⛔ 卡住了：发送 /卡点 2.1 <原因>"
    )
    assert "actionTitle4" not in fields


def test_dingtalk_action_card_layouts_and_limits() -> None:
    one = Card(
        "站会",
        "body",
        actions=(STANDUP, ActionGroup("x", (Button("👍 按计划，无卡点", "/站会 按计划进行；卡点：无"),))),
    )
    msg_type, fields, _ = dingtalk_render(one, buttons=True)
    assert msg_type == "sampleActionCard"
    assert command_of(fields["singleURL"]) == "/站会 按计划进行；卡点：无"
    many = Card(
        "t",
        "b",
        actions=tuple(
            ActionGroup(f"任务 {n} 一个很长很长很长的标题", (Button("✅ 完成", f"/完成 {n}"),))
            for n in range(1, 8)
        ),
    )
    msg_type, fields, _ = dingtalk_render(many, buttons=True)
    assert msg_type == "sampleActionCard5"  # five at most
    assert all(len(fields[f"actionTitle{n}"]) <= MAX_BUTTON_TITLE for n in range(1, 6))
    assert len(send_message_link("/完成 1")) < 500


@pytest.mark.parametrize("card", [CARD, Card("t", "b", actions=(STANDUP,))])
def test_dingtalk_group_cards_stay_markdown_with_the_hints(card: Card) -> None:
    msg_type, fields, _ = dingtalk_render(card)
    assert msg_type == "markdown" and set(fields) == {"title", "text"}
    assert "dtmd://" not in fields["text"]
