"""Resource requests (issue 9) through the real webhook path on both platforms and both databases: a
standup's "需协调资源：…" / "need: …" or /资源 添加 stores a request, sends it privately to the
requester's department head (else the PMs), and the reply says so; /资源 lists and /资源 处理 marks
them handled (the requester is told); refusals change nothing; the standup summary and the weekly
report list them until handled. The plan is the one of tests/scheduler/test_standup_jobs.py
(alice is the PM; bob: 1.2, 2.1; erin: 2.3); here bob is in 研发部 (head: frank) and erin in 测试部,
which has no head."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import AuditEntry, Blocker, Department, Member, OutboxMessage, ResourceRequest, Task
from tests.harness import IMAGE_TEXT, Sent
from tests.scheduler.test_standup_jobs import Standup, local, standup_day
from tests.services.test_standup_replies import count, report

DAY = "2026-11-25"  # a Wednesday


async def departments(day: Standup) -> None:
    """bob in 研发部, headed by frank; erin in 测试部, which has no head."""
    async with day.chat.runtime.factory() as s, s.begin():
        people = {m.platform_user_id: m for m in await s.scalars(select(Member))}
        dev = Department(project_id=day.project_id, name="研发部", head_member_id=people["frank"].id)
        qa = Department(project_id=day.project_id, name="测试部")
        s.add_all([dev, qa])
        await s.flush()
        people["bob"].department_id, people["erin"].department_id = dev.id, qa.id


async def send(
    day: Standup, user: str, text: str, *, time: str = "09:45", on: str = DAY, group: bool = False
) -> tuple[str, list[Sent]]:
    """The answer in the chat the text was sent in, and the private messages to other people."""
    day.clock.now = local(on, time)
    chat = "team" if group else f"dm-{user}"
    await day.chat.post(user, text, chat=chat, chat_type="group" if group else "p2p")
    await day.chat.runtime.settle()
    sent = day.chat.sent()
    [answer] = [s.text for s in sent if s.kind == "reply" and s.target == chat]
    return answer, [s for s in sent if s.kind == "user"]


async def requests(day: Standup) -> list[ResourceRequest]:
    async with day.chat.runtime.factory() as s:
        return list(await s.scalars(select(ResourceRequest).order_by(ResourceRequest.number)))


async def member_id(day: Standup, name: str) -> int:
    return (await day.member(name)).id


def state(rows: list[ResourceRequest]) -> list[tuple[Any, ...]]:
    return [(r.number, r.status, r.handled_by_member_id, r.handled_at, r.handled_note) for r in rows]


async def test_a_standup_request_is_stored_sent_to_the_department_head_and_the_reply_says_so(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await departments(day)
        answer, private = await send(day, "bob", "昨天：2.1 80%\n需协调资源：需要测试服务器 2台\n卡点：无")
        assert "需协调资源：需要测试服务器 2台\n🙋 资源需求 N1 已转给 @frank（研发部负责人）" in answer
        assert "📈 2.1 后端接口 20% → 80%" in answer
        [request] = await requests(day)
        assert (request.number, request.text, request.source, request.status) == (
            1,
            "需要测试服务器 2台",
            "standup",
            "open",
        )
        assert request.requester_member_id == await member_id(day, "bob")
        assert request.routed_to_member_id == await member_id(day, "frank")
        assert request.department_id is not None and request.task_id is None
        assert str(request.business_date) == DAY
        assert [(s.target, s.text) for s in private] == [
            (
                "frank",
                "🙋 新品发布 · 资源需求 N1\nbob（研发部）：需要测试服务器 2台\n"
                "处理后发送 /资源 处理 N1 [说明]",
            )
        ]
        assert await count(day, Blocker) == 0  # a request is no blocker
        assert await count(day, AuditEntry, AuditEntry.action == "need.open") == 1
        assert (await report(day, "bob")).parsed["needs"] == "需要测试服务器 2台"

        # An amended standup that repeats it adds nothing and tells nobody again; a new one is N2.
        again, private = await send(day, "bob", "需协调资源：需要测试服务器 2台", time="10:00")
        assert "🙋 资源需求 N1 今天已提过，未重复提交" in again and private == []
        other, private = await send(day, "bob", "需协调资源：2.1 需要 UI 设计师半天", time="10:10")
        assert "🙋 资源需求 N2 已转给 @frank（研发部负责人）" in other and [s.target for s in private] == [
            "frank"
        ]
        first, second = await requests(day)
        async with day.chat.runtime.factory() as s:
            t21 = await s.scalar(select(Task).where(Task.code == "2.1"))
        assert t21 is not None and (first.task_id, second.task_id) == (None, t21.id)
        assert "任务：2.1 后端接口" in private[0].text


async def test_an_english_need_goes_to_the_pms_when_the_department_has_no_head(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        await departments(day)
        answer, private = await send(
            day, "erin", "Yesterday: wrote cases\nneed: a test server\nBlockers: none"
        )
        assert "Need: a test server\n🙋 Resource request N1 sent to @alice (project manager)" in answer
        [request] = await requests(day)
        assert (request.text, request.routed_to_member_id) == ("a test server", await member_id(day, "alice"))
        assert [(s.target, s.text) for s in private] == [
            (
                "alice",
                "🙋 Launch · resource request N1\nerin (测试部): a test server\n"
                "Once handled, send /need done N1 [note]",
            )
        ]


async def test_none_as_the_answer_is_no_request(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        answer, private = await send(day, "bob", "昨天：联调\n需协调资源：无\n卡点：无")
        assert "🙋" not in answer and private == [] and await requests(day) == []


async def test_add_list_and_handle_by_command_and_refusals_change_nothing(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await departments(day)
        added, private = await send(day, "bob", "/资源 添加 2.1 需要测试服务器 2台", group=True)
        assert added == "🙋 资源需求 N1 已转给 @frank（研发部负责人）"
        assert [s.target for s in private] == ["frank"]
        [request] = await requests(day)
        assert (request.text, request.source) == ("2.1 需要测试服务器 2台", "command")
        assert request.task_id is not None

        listed, _ = await send(day, "carol", "/资源", time="10:00", on="2026-11-27", group=True)
        assert listed == "\n".join(
            [
                "【🙋 未处理的资源需求（1 个）】",
                "• N1 2.1 需要测试服务器 2台（@bob · 研发部 · 2 个工作日）→ @frank",
                "处理：/资源 处理 <编号> [说明]",
            ]
        )

        # carol is neither the person it went to, a head, a PM nor the requester.
        audits, outbox = await count(day, AuditEntry), await count(day, OutboxMessage)
        before = state(await requests(day))
        refused, private = await send(day, "carol", "/资源 处理 N1 已买", time="10:05", group=True)
        assert refused.startswith(
            "抱歉，只有需求转给的人、提出人的部门负责人、项目经理或提出人本人可以这样做。"
        )
        assert private == [] and state(await requests(day)) == before
        assert (await count(day, AuditEntry), await count(day, OutboxMessage)) == (
            audits,
            outbox + 1,
        )  # the reply

        handled, private = await send(day, "frank", "/资源 处理 N1 已申请到两台", time="10:10", group=True)
        assert (
            handled == "✅ 资源需求 N1 已处理：2.1 需要测试服务器 2台（说明：已申请到两台）\n已私信告知 @bob"
        )
        assert [(s.target, s.text) for s in private] == [
            (
                "bob",
                "✅ 你在 新品发布 提的资源需求 N1「2.1 需要测试服务器 2台」"
                "已由 frank 处理（说明：已申请到两台）",
            )
        ]
        [request] = await requests(day)
        assert (request.status, request.handled_by_member_id, request.handled_note) == (
            "handled",
            await member_id(day, "frank"),
            "已申请到两台",
        )
        assert await count(day, AuditEntry, AuditEntry.action == "need.handle") == 1
        twice, _ = await send(day, "alice", "/资源 处理 N1", time="10:15", group=True)
        assert twice.startswith("资源需求 N1 已经处理过了，未改动。")
        empty, _ = await send(day, "carol", "/资源", time="10:20", group=True)
        assert empty == "没有未处理的资源需求。提需求：/资源 添加 <内容>"


async def test_english_commands_and_the_requester_handling_their_own(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform, english=True) as day:
        await day.update(locale="en")
        added, private = await send(day, "bob", "/need add a test server", group=True)
        # bob has no department: the PM is told.
        assert added == "🙋 Resource request N1 sent to @alice (project manager)"
        assert [s.target for s in private] == ["alice"]
        listed, _ = await send(day, "bob", "/needs", time="10:00", group=True)
        assert "• N1 a test server (@bob · no department · 0 workdays) → @alice" in listed
        done, private = await send(day, "bob", "/need done N1 found one", time="10:05", group=True)
        assert done == "✅ Resource request N1 handled: a test server (note: found one)" and private == []
        missing, _ = await send(day, "bob", "/need done N7", time="10:10", group=True)
        assert missing.startswith("There is no resource request N7.")


async def test_too_long_is_refused_and_stores_nothing(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await departments(day)
        refused, private = await send(day, "bob", "/资源 添加 " + "服" * 501, group=True)
        assert "501" in refused and "500" in refused and private == [] and await requests(day) == []
        answer, private = await send(day, "bob", "昨天：联调\n需协调资源：" + "服" * 501, time="10:00")
        assert "资源需求太长（501 字，最多 500 字），未记录，请精简后再发。" in answer
        assert private == [] and await requests(day) == []
        assert (await report(day, "bob")).parsed["yesterday"] == "联调"  # the standup itself is kept


async def test_the_summary_and_the_weekly_report_list_open_requests_until_handled(
    engine: AsyncEngine, platform: str
) -> None:
    async with standup_day(engine, platform) as day:
        await departments(day)
        await send(day, "bob", "昨天：联调\n需协调资源：需要测试服务器 2台", time="09:40")
        await send(day, "erin", "/资源 添加 法务审合同", time="09:50", group=True)
        summary = _team(await day.run("standup-summary", DAY, "11:00"))
        assert (
            "🙋 待处理的资源需求：\n"
            "• N1 需要测试服务器 2台（@bob · 研发部 · 0 个工作日）→ @frank\n"
            "• N2 法务审合同（@erin · 测试部 · 0 个工作日）→ @alice\n"
        ) in summary

        # Still open the next day, one workday older; N1 handled on Thursday.
        next_day = _team(await day.run("standup-summary", "2026-11-26", "11:00"))
        assert "• N1 需要测试服务器 2台（@bob · 研发部 · 1 个工作日）→ @frank" in next_day
        await send(day, "frank", "/资源 处理 N1", time="15:00", on="2026-11-26", group=True)

        weekly = JobRunner(day.chat.runtime.factory, day.clock, jobs=(JOBS_BY_NAME["weekly-report"],))
        day.clock.now = local("2026-11-27", "17:00")
        outcomes = await weekly.run_job(
            JOBS_BY_NAME["weekly-report"], at=day.clock.now, project_id=day.project_id
        )
        assert [outcome.status for outcome in outcomes] == ["done"]
        card = _team(await day.delivered())
        assert (
            "🙋 资源需求 未处理 1 · 本周已处理 1\n"
            "• N2 法务审合同（@erin · 测试部 · 2 个工作日）\n"
            "• ✅ N1 需要测试服务器 2台（@bob）"
        ) in card

        friday = _team(await day.run("standup-summary", "2026-11-27", "11:00"))
        assert "N1" not in friday and "• N2 法务审合同（@erin · 测试部 · 2 个工作日）→ @alice" in friday
        await send(day, "alice", "/资源 处理 N2", time="11:30", on="2026-11-27", group=True)
        monday = _team(await day.run("standup-summary", "2026-11-30", "11:00"))
        assert "🙋" not in monday


def _team(sent: list[tuple[str, str, str]]) -> str:
    """What the team chat was sent, but the weekly report's pictures (image messages on DingTalk)."""
    [text] = [t for kind, target, t in sent if (kind, target) == ("chat", "team") and t != IMAGE_TEXT]
    return text


async def test_requests_are_numbered_per_project(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        for number in (1, 2, 3):
            answer, _ = await send(day, "bob", f"/资源 添加 第{number}个", time=f"10:0{number}", group=True)
            assert answer.startswith(f"🙋 资源需求 N{number} ")
        assert [r.number for r in await requests(day)] == [1, 2, 3]


async def test_a_head_asking_goes_to_the_pms_not_to_themself(engine: AsyncEngine, platform: str) -> None:
    async with standup_day(engine, platform) as day:
        await departments(day)
        async with day.chat.runtime.factory() as s, s.begin():
            frank = await s.scalar(select(Member).where(Member.platform_user_id == "frank"))
            bob = await s.scalar(select(Member).where(Member.platform_user_id == "bob"))
            assert frank is not None and bob is not None
            frank.department_id = bob.department_id
        added, private = await send(day, "frank", "/资源 添加 再招一个测试", group=True)
        assert added == "🙋 资源需求 N1 已转给 @alice（项目经理）" and [s.target for s in private] == [
            "alice"
        ]
