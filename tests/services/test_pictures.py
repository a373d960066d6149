"""/gantt and /burndown through really signed webhooks on Feishu and DingTalk, SQLite and PostgreSQL:
the picture is drawn from the plan, uploaded and sent as an image message (decoded here from what the
fake platform received), pages by phase, refuses a phase that does not exist, and says so when
nothing is dated; the JSON API serves the same chart as PNG and SVG.

The plan is tests/services/test_plan_commands.py's: phases 1 and 2, tasks 1.1, 1.2, 2.1 (with 2.1.1,
2.1.2) and 2.2, and milestone 1 linked to 1.1 and 1.2.
"""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.render import burndown, charts, gantt
from storage.models import Project
from tests.harness import IMAGE_TEXT, Chat, chat_runtime
from tests.services.test_api import AUTH, api_client
from tests.services.test_plan_commands import build_plan, said


async def picture(chat: Chat, user: str, line: str) -> Image.Image:
    await chat.post(user, line)
    await chat.runtime.settle()
    [sent] = chat.sent()
    assert sent.text == IMAGE_TEXT and sent.image is not None, sent
    return Image.open(io.BytesIO(sent.image))


def gantt_height(rows: int) -> float:
    return (gantt.HEADER_INCHES + gantt.FOOTER_INCHES + rows * gantt.ROW_INCHES) * charts.DPI


async def test_gantt_and_burndown_in_chat(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await chat.say("alice", "/项目 新建 空项目", chat="other")
        assert await chat.one("alice", "/甘特图", chat="other") == (
            "计划里还没有带日期的任务，画不出图：先用 /任务 修改 1.1 截止=12-20 加上日期。"
        )
        await build_plan(chat)

        whole = await picture(chat, "bob", "/甘特图")
        # Eight tasks and phases, then the milestone's row.
        assert whole.width == charts.WIDTH_PX and abs(whole.height - gantt_height(9)) <= 2

        # Phase 2 alone: 2, 2.1, 2.1.1, 2.1.2, 2.2; the milestone belongs to phase 1's tasks.
        assert abs((await picture(chat, "carol", "/甘特图 2")).height - gantt_height(5)) <= 2

        await said(chat, "carol", "/甘特图 9", "没有阶段 9（现有阶段：1, 2）", "用法：/甘特图 [阶段编号]")

        chart = await picture(chat, "erin", "/燃尽图")
        assert (chart.width, chart.height) == (charts.WIDTH_PX, round(burndown.HEIGHT_INCHES * charts.DPI))


async def test_the_api_serves_the_gantt_chart(engine: AsyncEngine, database_url: str) -> None:
    async with chat_runtime(engine) as chat:
        await build_plan(chat)
        async with chat.runtime.factory() as session:
            project_id = await session.scalar(select(Project.id))
    async with api_client(database_url) as client:
        png = await client.get(f"/api/projects/{project_id}/gantt.png", headers=AUTH)
        svg = await client.get(f"/api/projects/{project_id}/gantt.svg?phase=1", headers=AUTH)
        missing = await client.get(f"/api/projects/{project_id}/gantt.png?phase=7", headers=AUTH)
        refused = await client.get(f"/api/projects/{project_id}/gantt.png")
    assert png.headers["content-type"] == "image/png"
    assert abs(Image.open(io.BytesIO(png.content)).height - gantt_height(9)) <= 2
    assert svg.headers["content-type"] == "image/svg+xml" and svg.content.lstrip().startswith(b"<?xml")
    assert missing.status_code == 404 and refused.status_code == 401
