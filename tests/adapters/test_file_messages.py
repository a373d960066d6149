"""File messages at the edge: the documented DingTalk file message and Feishu file content read into
InboundMessage.file; downloads through the real clients against fake platform APIs refuse what is
too large while it streams (with or without a declared length), a DingTalk URL that is not https,
and a redirect, which is never followed; a download that trickles is given up at its deadline."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from adapters import downloads
from adapters.base import DownloadError
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.events import parse_message
from adapters.feishu.client import FeishuClient
from adapters.feishu.events import parse_event
from adapters.models import ChatRef, FileRef, InboundMessage, UserRef
from tests.samples import load
from tests.scenario import dingtalk, feishu

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def test_the_documented_dingtalk_file_message_names_its_file() -> None:
    payload = load("dingtalk", "robot_msg_single_chat_file.developerpedia")
    message, _ = parse_message(payload, robot_code=None, now=NOW)
    assert message.message_type == "file" and message.to_bot and message.text == ""
    assert message.file == FileRef("LJYY****bw==", "foobar.zip")


def test_a_feishu_file_message_names_its_file_and_reaches_the_bot_in_a_group() -> None:
    event = copy.deepcopy(load("feishu", "im_message_receive_v1_group_mention"))
    content = load("feishu", "received_message_content_file")
    event["event"]["message"].update(message_type="file", content=json.dumps(content), mentions=[])
    [message] = parse_event(event, bot_open_id=feishu.BOT_OPEN_ID)
    assert isinstance(message, InboundMessage) and message.to_bot
    assert message.file == FileRef("75235e0c-4f92-430a-a99b-8446610223cg", "test.txt")


def file_message(platform: str, key: str) -> InboundMessage:
    return InboundMessage(
        platform, "e1", "om_1", ChatRef(platform, "c1"), UserRef(platform, "alice"), "", NOW,
        message_type="file", file=FileRef(key, "计划.xlsx"),
    )  # fmt: skip


async def chunks(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 1024):
        yield b"\0" * 1024


def served(declared: bool) -> httpx.Response:
    """8 KB: with its length declared, or streamed in chunks without one."""
    if declared:
        return httpx.Response(200, content=b"\0" * 8192)
    return httpx.Response(200, content=chunks(8192))


@pytest.mark.parametrize("declared", [True, False])
async def test_feishu_refuses_a_file_over_the_cap(declared: bool) -> None:
    async with feishu.feishu_api() as api:
        api.router.routes["resource"].mock(side_effect=lambda request, **_: served(declared))
        client = FeishuClient(feishu.DOMAIN, "cli_app", "app-secret")
        try:
            assert len(await client.download(file_message("feishu", "k"), max_bytes=8192)) == 8192
            with pytest.raises(DownloadError) as refused:
                await client.download(file_message("feishu", "k"), max_bytes=4096)
        finally:
            await client.aclose()
    assert refused.value.too_large


@pytest.mark.parametrize(
    ("url", "answer"),
    [
        ("http://dingtalk-files.test/x.file", None),  # not https: not fetched at all
        (
            f"{dingtalk.FILES_HOST}/moved.file",
            httpx.Response(302, headers={"location": "file:///etc/passwd"}),
        ),
    ],
)
async def test_dingtalk_fetches_only_an_https_url_and_follows_no_redirect(
    url: str, answer: httpx.Response | None
) -> None:
    async with dingtalk.dingtalk_api() as api:
        api.inbox["code1"] = b"PK\x03\x04"
        api.download_urls["code1"] = url
        fetched = api.router.routes["stored_file"].mock(return_value=answer)
        client = DingTalkClient(
            dingtalk.API_DOMAIN, "key", "secret", dingtalk.ROBOT_CODE, oapi_domain=dingtalk.OAPI_DOMAIN
        )
        try:
            with pytest.raises(DownloadError) as refused:
                await client.download(file_message("dingtalk", "code1"), max_bytes=1024)
        finally:
            await client.aclose()
    assert not refused.value.too_large and api.downloads == ["code1"]
    assert fetched.call_count == (0 if answer is None else 1)  # the redirect is not followed


async def test_a_download_that_trickles_past_the_deadline_is_given_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        while True:
            yield b"\0"
            await asyncio.sleep(0.05)

    monkeypatch.setattr(downloads, "TIMEOUT_SECONDS", 0.3)
    async with feishu.feishu_api() as api:
        api.router.routes["resource"].mock(
            side_effect=lambda request, **_: httpx.Response(200, content=trickle())
        )
        client = FeishuClient(feishu.DOMAIN, "cli_app", "app-secret")
        try:
            with pytest.raises(DownloadError, match="seconds") as refused:
                await client.download(file_message("feishu", "k"), max_bytes=1024)
        finally:
            await client.aclose()
    assert not refused.value.too_large
