"""/dashboard through really signed webhooks on Feishu and DingTalk, SQLite and PostgreSQL: the
member gets a personal link privately (the group hears only that it was sent), the link opens the
project's page in the app, `/dashboard revoke` makes it refuse (audited), a PM revokes anyone's and
nobody else can; the page shows the seeded plan, filters it, escapes typed text and sends strict
headers. The plan is tests/services/test_plan_commands.py's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan

PUBLIC_URL = "https://crosstrack.example.com"
SECRET = "dashboard-test-secret-0123456789abcdef"
_LINK = re.compile(re.escape(PUBLIC_URL) + r"(/d/[A-Za-z0-9_-]+)")
_URL = re.compile(r"https?://[^\s\"'<>)]+")
REFUSED = "链接无效或已过期"


@pytest.fixture(autouse=True)
def dashboard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """As an admin switches the dashboard on: the two settings in the environment."""
    monkeypatch.setenv("CROSSTRACK_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("CROSSTRACK_DASHBOARD_SECRET", SECRET)


async def link_of(chat: Chat, user: str, line: str = "/看板") -> str:
    """`user` asks in the group; the path of the link they were sent privately."""
    await chat.post(user, line)
    await chat.runtime.settle()
    sent = chat.sent()
    private = [s for s in sent if s.kind == "user"]
    assert [s.text for s in sent if s.kind != "user"] == ["已私信你一个看板链接，7 天内有效。"], sent
    assert [s.target for s in private] == [user], sent
    found = _LINK.search(private[0].text)
    assert found is not None, private[0].text
    return found[1]


async def test_the_link_is_sent_privately_and_opens_the_page(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        path = await link_of(chat, "bob")
        page = await chat.http.get(path)
        assert page.status_code == 200, page.text
        assert "新品发布" in page.text
        # In a 1:1 chat the answer is the link itself.
        direct = await chat.one("erin", "/看板", chat="p2p-erin", chat_type="p2p")
        found = _LINK.search(direct)
        assert found is not None and (await chat.http.get(found[1])).status_code == 200
