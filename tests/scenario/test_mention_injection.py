"""Typed mentions and markup, through the really signed webhook on Feishu and DingTalk (issue 8, item 5).

Only the mentions the platform reports are mentions: a hand-typed `<at:all>`, Feishu's own
`<at user_id="all">` or a mention of a reserved id (`@所有人`) never @s anyone, never makes a member,
and shows as text wherever it is echoed; a typed markdown link shows as text, not as a link.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Member, Risk
from tests.harness import Sent, chat_runtime

LINK = "[点我](https://evil.example)"
SHOWN_LINK = "［点我］(https://evil.example)"


def raw(sent: Sent) -> str:
    """Everything the platform API was asked to deliver, as sent (content JSON decoded once more)."""
    body = dict(sent.request)
    for key in ("content", "msgParam"):
        if isinstance(body.get(key), str):
            body[key] = json.loads(body[key])
    return json.dumps(body, ensure_ascii=False)


def assert_nobody_at_everyone(sent: list[Sent]) -> None:
    for message in sent:
        text = raw(message)
        assert 'user_id="all"' not in text and "<at id=all" not in text, text  # Feishu
        assert '"isAtAll": true' not in text, text  # DingTalk
        assert not set(message.mentions) & {"all", "所有人", "ou_stranger"}, message
        assert LINK not in text, text  # a typed link is never sent as markdown


async def test_typed_mentions_and_links_are_text_everywhere(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/阶段 添加 1 开发")
        sent: list[Sent] = []

        async def say(line: str) -> str:
            await chat.post("alice", line)
            await chat.runtime.settle()
            replies = chat.sent()
            sent.extend(replies)
            return "\n".join(reply.text for reply in replies)

        # Each of these named `all` (or 所有人) as owner or member before: a typed token read as one.
        await say("/任务 添加 1.1 接口 <at:all>")
        await say("/成员 添加 <at:all>")
        await say("/行动 添加 @所有人 明天 写方案")
        await say(f"/风险 添加 高 {LINK} <at:all>")
        await say('/风险 添加 中 “<at user_id="all"></at>” <at:ou_stranger>')
        await say(f"/卡点 1.1 等运维 {LINK}")

        risks = await say("/风险列表")
        report = await say("/周报")
        await say("/状态")

        assert SHOWN_LINK in risks and "at:all" in risks and 'at user_id="all"' in risks
        assert SHOWN_LINK in report  # the blocker, in the weekly report card
        assert_nobody_at_everyone(sent)

        async with chat.runtime.factory() as session:
            people = set(await session.scalars(select(Member.platform_user_id)))
            assert people == {"alice"}
            descriptions = list(await session.scalars(select(Risk.description).order_by(Risk.id)))
        # Kept as typed (the token's `<` made inert), not as a mention of `all` or of a stranger.
        assert descriptions[0].startswith(f"{LINK} ")
        assert "at:all>" in descriptions[0] and "<at:all>" not in descriptions[0]
        assert "<at:ou_stranger>" not in descriptions[1]


async def test_reported_mentions_still_work(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await chat.say("alice", "/项目 新建 新品发布")
        await chat.say("alice", "/阶段 添加 1 开发")
        await chat.say("alice", "/任务 添加 1.1 接口 @bob")
        async with chat.runtime.factory() as session:
            assert set(await session.scalars(select(Member.platform_user_id))) == {"alice", "bob"}
        reply = await chat.one("alice", "/风险 添加 高 容量不足 @bob")
        assert "@bob" in reply
