"""Two first commands of one user at once (two projects created from two chats, on two replicas) both
set the user's 1:1 project: neither may fail on the user_contexts row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.models import ChatRef, UserRef
from bot.services import projects
from bot.services.audit import Actor
from storage.db import session_factory
from storage.models import UserContext

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
ALICE = UserRef("feishu", "ou_alice", "Alice")


async def test_two_projects_created_at_once_by_one_user_both_commit(engine: AsyncEngine) -> None:
    factory = session_factory(engine)
    first_inserted = asyncio.Event()

    async def create(chat: str, *, first: bool) -> int:
        async with factory() as session, session.begin():
            if not first:
                await first_inserted.wait()  # the other transaction holds its new row, uncommitted
            project = await projects.create(
                session=session,
                name=f"项目{chat}",
                start=None,
                end=None,
                chat=ChatRef("feishu", chat, "group"),
                creator=ALICE,
                actor=Actor("feishu", ALICE.user_id),
                timezone="Asia/Shanghai",
                locale="zh",
                now=NOW,
            )
            if first:
                first_inserted.set()
                await asyncio.sleep(0.2)  # the second one reaches its insert meanwhile (or waits)
            return project.id

    first, second = await asyncio.gather(create("oc_a", first=True), create("oc_b", first=False))
    async with factory() as session:
        chosen = await session.scalar(select(UserContext.project_id).where(UserContext.user_id == "ou_alice"))
    assert chosen in {first, second}
