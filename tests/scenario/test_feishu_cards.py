"""Buttons on Feishu cards, every step a signed, encrypted delivery into the real app: the standup
prompt's form, the late-task and stale-risk buttons of the daily alert, and what a click may not do
(act without permission, count twice, pass a forged signature)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.render.i18n import t
from scheduler.jobs import JOBS_BY_NAME
from scheduler.runner import JobRunner
from storage.models import (
    ActionItem,
    AuditEntry,
    InboundEventRecord,
    OutboxMessage,
    ProgressUpdate,
    Risk,
    StandupReport,
    Task,
)
from tests.samples import load
from tests.scenario.feishu import VERIFICATION_TOKEN
from tests.scenario.feishu_cards import Clicker, Sent, card_tenant, click_payload, elements, tags

ALICE, CAROL, DAVE = "ou_alice", "ou_carol", "ou_dave"
PEOPLE = {"Carol": CAROL, "Dave": DAVE}
TEAM, CAROL_P2P, DAVE_P2P = "oc_team", "oc_p2p_carol", "oc_p2p_dave"
TZ = ZoneInfo("Asia/Shanghai")
SETUP = (
    "/项目 新建 新品发布 开始=2026-11-23 结束=2027-03-31",
    "/成员 添加 @Dave",
    "/阶段 添加 1 开发",
    "/任务 添加 1.1 后端接口 @Carol 开始=2026-11-23 截止=2026-12-02",
    "/任务 添加 1.2 前端页面 @Carol 开始=2026-12-10 截止=2026-12-20",
)


def local(day: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TZ)


@asynccontextmanager
async def project(engine: AsyncEngine, clock: time_machine.Traveller, *extra: str) -> AsyncIterator[Clicker]:
    """The project set up by Alice (its PM) in the team chat, with Carol's two tasks."""
    async with card_tenant(engine) as bot:
        for line in (*SETUP, *extra):
            replies = await bot.say(
                ALICE, line, mentions={n: i for n, i in PEOPLE.items() if f"@{n}" in line}
            )
            assert len(replies) == 1 and "抱歉" not in replies[0].text, replies
        yield bot


async def scan(bot: Clicker, clock: time_machine.Traveller, day: str) -> dict[str, Sent]:
    """Run the daily risk scan on `day`; the private digests it sent, by recipient."""
    clock.move_to(local(day, "11:30"))
    runner = JobRunner(bot.tenant.runtime.factory, lambda: datetime.now(UTC))
    outcomes = await runner.run_job(JOBS_BY_NAME["risk-scan"], at=local(day, "11:30"))
    assert [outcome.status for outcome in outcomes] == ["done"]
    await bot.tenant.runtime.settle()
    return {sent.target: sent for sent in bot.sent() if sent.target.startswith("ou_")}


async def counts(bot: Clicker) -> dict[str, Any]:
    """What a refused click must leave as it was."""
    async with bot.tenant.runtime.factory() as session:
        found: dict[str, Any] = {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (AuditEntry, InboundEventRecord, OutboxMessage, ProgressUpdate)
        }
        found["tasks"] = [(t.code, t.progress, t.status) for t in await session.scalars(select(Task))]
        stored = await session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id))
        found["cards"] = list(stored)
    return found


def buttons(card: dict[str, Any]) -> list[str]:
    return [element["text"]["content"] for element in elements(card) if element["tag"] == "button"]


async def test_standup_form_submits_a_standup_with_the_chosen_percent(engine: AsyncEngine) -> None:
    with time_machine.travel(local("2026-11-25", "09:45"), tick=True) as clock:
        async with project(engine, clock) as bot:
            [prompt] = await bot.say(CAROL, "/站会", chat=CAROL_P2P, chat_type="p2p")
            card = prompt.content
            assert card["body"]["elements"][0]["tag"] == "markdown"  # the body comes first
            assert prompt.text.startswith("〔新品发布 · 编号 1〕☀️ 站会 · 11-25\n你有 2 个未完成的任务：")
            selects = [e for e in elements(card) if e["tag"] == "select_static"]
            assert [s["name"] for s in selects] == ["g0_t0", "g0_t1"]  # 1.1, then 1.2 (by due date)
            assert [o["value"] for o in selects[0]["options"]] == [f"{p}%" for p in range(0, 101, 10)]
            assert buttons(card) == ["📤 提交站会", "👍 按计划，无卡点"]

            # Tapped twice: two callbacks (different event ids) for one submit.
            form = {"g0_t0": "80%", "g0_blockers": "等测试环境"}
            twice = await asyncio.gather(
                *(bot.click(CAROL, prompt, chat=CAROL_P2P, group=0, button=0, form_value=form) for _ in "12")
            )
            assert sorted(r.json()["toast"]["type"] for r in twice) == ["info", "success"]
            [response] = [r for r in twice if r.json()["toast"]["type"] == "success"]
            answer = response.json()
            assert answer["toast"] == {"type": "success", "content": "✅ 已记录你 11-25 的站会"}
            updated = answer["card"]["data"]
            assert updated["body"]["elements"][0]["content"].endswith(
                f"\n✅ <at id={CAROL}></at> 提交了站会 · 11-25 09:45"
            )
            assert "form" in tags(updated)  # a standup may be amended: the form stays

            await bot.tenant.runtime.settle()
            [reply] = bot.sent()
            assert reply.target == prompt.message_id  # answered in the thread of the card
            assert "📈 1.1 后端接口 0% → 80%" in reply.text and "卡点：等测试环境" in reply.text
            assert "1.2" not in reply.text

            async with bot.tenant.runtime.factory() as session:
                progress = dict((await session.execute(select(Task.code, Task.progress))).all())
                assert (progress["1.1"], progress["1.2"]) == (80, 0)
                report = await session.scalar(select(StandupReport))
                assert report is not None and report.parsed["blockers"] == "等测试环境"
                audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "task.progress"))
                assert audit is not None and audit.actor_user_id == CAROL and audit.after is not None
                assert audit.after["progress"] == 80

            # An empty form is not sent as a command.
            empty = await bot.click(CAROL, prompt, chat=CAROL_P2P, group=0, button=0)
            assert (
                empty.json()["toast"]["type"] == "warning" and "请先填写" in empty.json()["toast"]["content"]
            )


async def test_a_double_click_and_a_redelivery_are_applied_once(engine: AsyncEngine) -> None:
    with time_machine.travel(local("2026-11-25", "10:00"), tick=True) as clock:
        async with project(engine, clock) as bot:
            digest = (await scan(bot, clock, "2026-12-03"))[CAROL]
            assert "1.1 后端接口 已逾期 1 个工作日" in digest.text
            # Carol owns the task but may not move its date: done and blocked, no new due date.
            assert buttons(digest.content) == ["✅ 完成", "⛔ 卡住了"]
            before = await counts(bot)

            first = click_payload(CAROL, digest.message_id, chat=CAROL_P2P, group=0, button=0)
            second = click_payload(CAROL, digest.message_id, chat=CAROL_P2P, group=0, button=0)
            answers = await asyncio.gather(bot.post(first), bot.post(second))
            assert sorted(a.json()["toast"]["type"] for a in answers) == ["info", "success"]
            [applied] = [a.json() for a in answers if a.json()["toast"]["type"] == "success"]
            assert applied["toast"]["content"].startswith("🎉 1.1 后端接口")
            updated = applied["card"]["data"]
            assert updated["body"]["elements"][0]["content"].endswith(
                f"\n✅ <at id={CAROL}></at> 标记 1.1 已完成 · 12-03 11:30"
            )
            assert buttons(updated) == [] and "form" not in tags(updated)  # the item is finished

            redelivered = await bot.post(first)
            assert redelivered.json() == {"toast": {"type": "info", "content": "这个操作已经处理过了。"}}
            # The finished item's other button (still on a stale copy of the card) does nothing.
            stale = await bot.click(
                CAROL, digest, chat=CAROL_P2P, group=0, button=1, form_value={"g0_reason": "x"}
            )
            assert stale.json()["toast"]["content"] == "这个操作已经处理过了。"

            await bot.tenant.runtime.settle()
            assert len(bot.sent()) == 1  # one answer in the chat
            after = await counts(bot)
            assert after["progress_updates"] == before["progress_updates"] + 1
            assert after["audit_log"] == before["audit_log"] + 1
            assert ("1.1", 100, "done") in after["tasks"]


async def test_a_click_without_permission_is_refused_and_changes_nothing(engine: AsyncEngine) -> None:
    with time_machine.travel(local("2026-11-25", "10:00"), tick=True) as clock:
        async with project(engine, clock) as bot:
            digest = (await scan(bot, clock, "2026-12-03"))[CAROL]
            before = await counts(bot)
            # Dave is in the project but has nothing to do with 1.1 (as if the card reached him).
            refused = await bot.click(DAVE, digest, chat=DAVE_P2P, group=0, button=0)
            assert refused.status_code == 200
            refusal = t("zh", "error.permission", who=t("zh", "who.updater"))
            assert refused.json() == {"toast": {"type": "error", "content": refusal}}
            blocked = await bot.click(
                DAVE, digest, chat=DAVE_P2P, group=0, button=1, form_value={"g0_reason": "等接口"}
            )
            assert blocked.json()["toast"]["type"] == "error" and "card" not in blocked.json()
            await bot.tenant.runtime.settle()
            assert bot.sent() == []
            assert await counts(bot) == before  # no claim, no audit, no reply, the card as it was

            # The same click by the owner works: the refusal kept no claim on it.
            allowed = await bot.click(CAROL, digest, chat=CAROL_P2P, group=0, button=0)
            assert allowed.json()["toast"]["type"] == "success"


async def test_a_stale_risk_can_be_escalated_and_an_action_item_done_from_the_alert(
    engine: AsyncEngine,
) -> None:
    extra = ("/风险 添加 中 供应商可能延期 @Carol", "/行动 添加 @Carol 2026-11-30 准备评审材料")
    with time_machine.travel(local("2026-11-25", "10:00"), tick=True) as clock:
        async with project(engine, clock, *extra) as bot:
            digest = (await scan(bot, clock, "2026-12-03"))[CAROL]
            assert "风险 R1（中）已 8 天没有更新" in digest.text
            groups = [e["content"] for e in elements(digest.content) if e["tag"] == "markdown"][1:]
            risk_group, action_group = groups.index("**风险 R1**"), groups.index("**行动项 A1**")
            assert buttons(digest.content)[-4:] == ["✅ 已缓解", "🔁 仍存在", "⬆️ 升级", "✅ 完成"]

            response = await bot.click(CAROL, digest, chat=CAROL_P2P, group=risk_group, button=2)
            assert response.json()["toast"] == {
                "type": "success",
                "content": "⬆️ 风险 R1 已升级（中 → 高）：供应商可能延期",
            }
            await bot.tenant.runtime.settle()
            sent = {message.target: message for message in bot.sent()}
            assert sent[digest.message_id].text.endswith(f'<at user_id="{ALICE}"></at> 请关注。')
            notice = sent[TEAM]  # the project's chat hears of it too, with the PM mentioned
            assert notice.text.startswith("⬆️ 风险升级 · 新品发布\n")
            assert f"<at id={CAROL}></at> 升级了风险 R1（高）：供应商可能延期" in notice.text
            assert notice.text.endswith(f"<at id={ALICE}></at> 请关注。")
            async with bot.tenant.runtime.factory() as session:
                risk = await session.scalar(select(Risk))
                assert risk is not None and risk.level == "high"
                entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "risk.escalate"))
                assert entry is not None and entry.actor_user_id == CAROL
                assert (entry.before, entry.after) == ({"level": "medium"}, {"level": "high", "note": ""})

            done = await bot.click(CAROL, digest, chat=CAROL_P2P, group=action_group, button=0)
            assert done.json()["toast"]["type"] == "success"
            assert done.json()["card"]["data"]["body"]["elements"][0]["content"].endswith(
                f"✅ <at id={CAROL}></at> 完成了行动项 A1 · 12-03 11:30"
            )
            await bot.tenant.runtime.settle()
            [said] = bot.sent()
            assert said.target == digest.message_id and "A1" in said.text
            async with bot.tenant.runtime.factory() as session:
                assert await session.scalar(select(ActionItem.status)) == "done"

            # "Still open" typed by its owner: reviewed today, no longer stale.
            [reviewed] = await bot.say(CAROL, "/风险 R1 仍存在 还在谈", chat=CAROL_P2P, chat_type="p2p")
            assert reviewed.text == "〔新品发布 · 编号 1〕🔁 风险 R1（高）已复核：仍为「未缓解」"


async def test_a_slow_click_is_answered_in_progress_and_finishes_in_the_background(
    engine: AsyncEngine,
) -> None:
    with time_machine.travel(local("2026-11-25", "10:00"), tick=True) as clock:
        async with project(engine, clock) as bot:
            digest = (await scan(bot, clock, "2026-12-03"))[CAROL]
            bot.clicks.budget_seconds = 0  # no time to finish inline
            response = await bot.click(CAROL, digest, chat=CAROL_P2P, group=0, button=0)
            assert response.json() == {"toast": {"type": "info", "content": "处理中…结果稍后发到对话里。"}}
            await bot.tenant.runtime.settle()
            [reply] = bot.sent()
            assert reply.target == digest.message_id and "1.1 后端接口" in reply.text
            async with bot.tenant.runtime.factory() as session:
                assert await session.scalar(select(Task.status).where(Task.code == "1.1")) == "done"


async def test_callbacks_are_verified_like_events(engine: AsyncEngine) -> None:
    with time_machine.travel(local("2026-11-25", "10:00"), tick=True) as clock:
        async with project(engine, clock) as bot:
            [prompt] = await bot.say(CAROL, "/站会", chat=CAROL_P2P, chat_type="p2p")
            payload = click_payload(CAROL, prompt.message_id, chat=CAROL_P2P, group=0, button=1)
            raw, headers = bot.tenant.signed(payload)
            forged = {**headers, "X-Lark-Signature": "0" * 64}
            response = await bot.tenant.client.post("/webhooks/feishu/cards", content=raw, headers=forged)
            assert response.status_code == 401
            stale = await bot.post(payload, timestamp=int(datetime.now(UTC).timestamp()) - 3600)
            assert stale.status_code == 401
            # A message event is authentic but no click.
            message = await bot.post(bot.tenant.message_event(CAROL, "hi", chat=CAROL_P2P, chat_type="p2p"))
            assert message.status_code == 400
            # The URL check when the callback address is saved in the console.
            verification = {
                **load("feishu", "card_callback_legacy_url_verification"),
                "token": VERIFICATION_TOKEN,
            }
            check = await bot.post(verification)
            assert check.json() == {"challenge": "1b6aef1a-401f-406a-be41-f48911e00be7"}
            await bot.tenant.runtime.settle()
            assert bot.sent() == []
            async with bot.tenant.runtime.factory() as session:
                assert await session.scalar(select(func.count()).select_from(StandupReport)) == 0

            applied = await bot.post(payload)  # the genuine one
            assert applied.json()["toast"]["content"] == "✅ 已记录你 11-25 的站会"


async def test_a_click_acts_on_the_project_of_the_card_not_the_last_one_talked_about(
    engine: AsyncEngine,
) -> None:
    with time_machine.travel(local("2026-11-25", "10:00"), tick=True) as clock:
        async with project(engine, clock) as bot:
            digest = (await scan(bot, clock, "2026-12-03"))[CAROL]
            # Carol then joins another project with a task 1.1 of its own and makes her 1:1 chat about it.
            for line in (
                "/项目 新建 官网改版",
                "/阶段 添加 1 设计",
                "/任务 添加 1.1 首页 @Carol 截止=2026-12-31",
            ):
                [reply] = await bot.say(DAVE, line, chat="oc_web", mentions={"Carol": CAROL})
                assert "抱歉" not in reply.text, reply.text
            await bot.say(CAROL, "/项目 切换 官网改版", chat=CAROL_P2P, chat_type="p2p")
            [overview] = await bot.say(CAROL, "/我的任务", chat=CAROL_P2P, chat_type="p2p")
            assert "首页" in overview.text and "后端接口" not in overview.text

            response = await bot.click(CAROL, digest, chat=CAROL_P2P, group=0, button=0)
            assert response.json()["toast"]["content"].startswith("🎉 1.1 后端接口")
            async with bot.tenant.runtime.factory() as session:
                done = await session.execute(select(Task.title, Task.status).where(Task.code == "1.1"))
                assert sorted(done.all()) == [("后端接口", "done"), ("首页", "not_started")]
