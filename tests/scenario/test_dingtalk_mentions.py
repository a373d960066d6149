"""A DingTalk message that @-mentions several people, through the signed webhook: the app looks their
names up once (the fake contacts API of tests/scenario/dingtalk.py) and reads each "@Name" as that
person; without names it cannot tell who is who and changes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Member, RaciAssignment, Task
from tests.scenario.dingtalk import OAPI_DOMAIN, Organisation, dingtalk_organisation


async def say(org: Organisation, sender: str, text: str, *mentioned: str) -> str:
    payload = org.message(sender, text, mentions={name: name for name in mentioned})
    assert (await org.deliver(payload)).status_code == 200
    await org.runtime.settle()
    [reply] = org.api.texts()
    org.api.sent.clear()
    return reply


async def raci(org: Organisation) -> list[tuple[str, str]]:
    async with org.runtime.factory() as session:
        rows = await session.execute(
            select(RaciAssignment.role, Member.platform_user_id)
            .join(Member, Member.id == RaciAssignment.member_id)
            .join(Task, Task.id == RaciAssignment.task_id)
            .where(Task.code == "1.1")
            .order_by(RaciAssignment.id)
        )
        return [(role, user) for role, user in rows]


async def test_several_people_are_read_by_their_names_looked_up_once(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        await say(org, "alice", "/项目 新建 新品发布")
        await say(org, "alice", "/阶段 添加 1 开发")
        await say(org, "alice", "/任务 添加 1.1 接口 @bob", "bob")
        assert org.api.looked_up == []  # one person: placed without a lookup

        reply = await say(org, "alice", "/责任 1.1 R=@bob A=@carol C=@dan、@bob", "bob", "carol", "dan")
        assert "A 负责：@carol" in reply
        assert await raci(org) == [("R", "bob"), ("A", "carol"), ("C", "dan"), ("C", "bob")]
        assert sorted(org.api.looked_up) == ["bob", "carol", "dan"]

        await say(org, "alice", "/责任 1.1 R=@dan A=@carol", "dan", "carol")
        assert await raci(org) == [("R", "dan"), ("A", "carol")]
        assert sorted(org.api.looked_up) == ["bob", "carol", "dan"]  # known names are kept


async def test_without_the_contacts_api_several_mentions_change_nothing(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:
        org.api.router.post(f"{OAPI_DOMAIN}/topapi/v2/user/get").respond(
            json={"errcode": 60011, "errmsg": "没有调用该接口的权限"}
        )
        await say(org, "alice", "/项目 新建 新品发布")
        await say(org, "alice", "/阶段 添加 1 开发")
        await say(org, "alice", "/任务 添加 1.1 接口 @bob", "bob")
        before = await raci(org)
        reply = await say(org, "alice", "/责任 1.1 R=@bob A=@carol", "bob", "carol")
        # The names stay text, so the command asks for real mentions (and the lookup is retried later).
        assert reply.startswith("「@bob」不是 @某人。")
        assert await raci(org) == before
