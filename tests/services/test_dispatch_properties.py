"""Property: whatever anyone types, the bot answers with a reply (or stays quiet) and never crashes.

Runs the real dispatcher and SQL (SQLite) on a seeded project; each example is rolled back."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import shell
from adapters.models import Card, Text
from bot.commands.all import build_registry
from bot.dispatcher import Defaults, dispatch
from storage.db import create_engine, session_factory
from tests.harness import chat_runtime

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
REGISTRY = build_registry()
FORMS = sorted({form for form, _ in REGISTRY._forms})
SEED = [
    "/项目 新建 属性测试",
    "/部门 添加 研发 @dora",
    "/成员 添加 @bob 研发",
    "/阶段 添加 1 设计",
    "/任务 添加 1.1 接口 @bob 截止=12-10",
    "/风险 添加 高 服务器不足",
    "/行动 添加 @bob 周五 写文档",
]
FRAGMENTS = st.sampled_from(
    [
        "1",
        "1.1",
        "1.1.1",
        "2.1",
        "9.9.9.9",
        "0",
        "80",
        "８０％",
        "120",
        "-5",
        "80.5",
        "高",
        "low",
        "R1",
        "A1",
        "@bob",
        "@alice",
        "@ghost",
        "R=@bob",
        "A=@bob,@alice",
        "C=",
        "due=12-01",
        "截止=明天",
        "start=下周一",
        "end=2026-02-30",
        "after=1.1",
        "after=1.1,1.1",
        "dept=研发",
        "dept=无",
        "mitigation=扩容",
        "x=y",
        "：",
        "，",
        '"',
        "“引号",
        "title=",
        "done",
        "clear",
        "解除",
        "all",
        "\n",
        "　",
        "<at:bob>",
        "<at:>",
        "%",
        "=",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda slash, form, parts: f"{slash}{form} {' '.join(parts)}",
        st.sampled_from(["/", "", "／"]),
        st.sampled_from(FORMS),
        st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=6),
    ),
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def seeded(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, loop: asyncio.AbstractEventLoop
) -> Iterator[AsyncEngine]:
    path = tmp_path_factory.mktemp("prop") / "seeded.db"
    shutil.copy(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")

    async def seed() -> None:
        async with chat_runtime(engine, now=NOW) as chat:
            for line in SEED:
                await chat.say("alice", line)

    loop.run_until_complete(seed())
    yield engine
    loop.run_until_complete(engine.dispose())


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TEXTS, user=st.sampled_from(["alice", "bob", "dora", "stranger"]), p2p=st.booleans())
def test_any_text_gets_an_answer_never_a_crash(
    seeded: AsyncEngine, loop: asyncio.AbstractEventLoop, text: str, user: str, p2p: bool
) -> None:
    message = shell.message(
        text, user=user, chat="dm" if p2p else "team", now=NOW, chat_type="p2p" if p2p else "group"
    )

    async def run() -> list[Text | Card]:
        async with session_factory(seeded)() as session, session.begin():
            replies = await dispatch(
                session, message, registry=REGISTRY, defaults=Defaults("Asia/Shanghai", "zh"), now=NOW
            )
            await session.rollback()
            return replies

    replies = loop.run_until_complete(run())
    assert replies, "a message to the bot always gets an answer"
    for reply in replies:
        shown = reply.text if isinstance(reply, Text) else reply.title + reply.body
        assert shown.strip() and "Traceback" not in shown
        # No catalog placeholder left unfilled (unless the user typed it).
        assert all(hole in text for hole in re.findall(r"\{[a-z_]+\}", shown))
