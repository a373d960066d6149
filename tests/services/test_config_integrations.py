"""/config webhook (report-only groups) and /config aitable (the DingTalk AI table) end to end, on SQLite
and PostgreSQL: typed lines through the real runtime (the shell harness), and signed DingTalk callbacks
for the AI table, which is bound as the DingTalk user who sets it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import idempotency
from storage.models import AuditEntry, OutboxMessage, Project, ReportWebhook
from storage.secretbox import SecretBox
from tests.harness import Chat, chat_runtime
from tests.scenario import SECRET_KEY
from tests.scenario.dingtalk import Organisation, dingtalk_organisation

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
DINGTALK = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
HOOK_ID = "2c6a3c4e-8f7b-4d5e-9a1b-0c2d3e4f5a6b"
FEISHU = f"https://open.feishu.cn/open-apis/bot/v2/hook/{HOOK_ID}"
FEISHU_SECRET = "qLkU7mZ2nP4rS8tV1wX3yA"
SHOWN_DINGTALK = "oapi.dingtalk.com/robot/send?access_token=a1b2…8f90"
SHOWN_FEISHU = "open.feishu.cn/…/hook/2c6a…5a6b"
WARNING = "⚠️ 地址和密钥刚才发在了群里，群成员都能看到。建议在机器人设置里重置密钥，再私聊我重新设置。"


async def make_project(chat: Chat) -> int:
    """alice is the PM of 新品发布, bound to the group "team"; bob is a member."""
    await chat.say("alice", "/项目 新建 新品发布")
    await chat.say("alice", "/成员 添加 @bob")
    async with chat.runtime.factory() as s:
        project = await s.scalar(select(Project))
        assert project is not None
        return project.id


BOX = SecretBox([SECRET_KEY])


async def webhooks(chat: Chat) -> list[tuple[str, str, str]]:
    """The bindings, decrypted with the test key (stored encrypted: see test_secrets_at_rest.py)."""
    async with chat.runtime.factory() as s:
        rows = await s.scalars(select(ReportWebhook).order_by(ReportWebhook.id))
        return [(row.platform, BOX.open(row.url_sealed), BOX.open(row.secret_sealed)) for row in rows]


async def audit_of(chat: Chat, prefix: str) -> list[AuditEntry]:
    async with chat.runtime.factory() as s:
        rows = await s.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id)
        )
        return list(rows)


async def test_a_pm_binds_both_kinds_and_sees_only_masked_credentials(engine: AsyncEngine) -> None:
    async with chat_runtime(engine, now=NOW) as chat:
        await make_project(chat)
        # Pasted from the robot settings with the sign parameters of a test call still on it.
        added = await chat.one("alice", f"/设置 群机器人 {DINGTALK}&timestamp=1&sign=x {SECRET}")
        assert added == (
            f"✅ 已添加钉钉群机器人 {SHOWN_DINGTALK}（密钥 SEC0…abcd）。以后每周的周报也会发到这个群。"
            f"\n{WARNING}"
        )
        # In a 1:1 chat nobody else read the secret: no warning.
        added = await chat.one(
            "alice", f"/config webhook {FEISHU} {FEISHU_SECRET}", chat="dm", chat_type="p2p"
        )
        assert (
            added == f"〔新品发布 · 编号 1〕✅ 已添加飞书群机器人 {SHOWN_FEISHU}（密钥 qLkU…X3yA）。"
            "以后每周的周报也会发到这个群。"
        )
        assert await webhooks(chat) == [
            ("dingtalk-webhook", DINGTALK, SECRET),
            ("feishu-webhook", FEISHU, FEISHU_SECRET),
        ]
        # Anyone may look; the list shows which is which, never a credential.
        listing = await chat.one("bob", "/设置 群机器人")
        assert listing.splitlines() == [
            "群机器人（只接收周报）",
            f"1. 钉钉群机器人 {SHOWN_DINGTALK} · 还没发过",
            f"2. 飞书群机器人 {SHOWN_FEISHU} · 还没发过",
            "添加：/设置 群机器人 <Webhook地址> <密钥>；移除：/设置 群机器人 关 [序号]。"
            "建议私聊我设置，别把密钥发在群里",
        ]
        assert "群机器人 2 个" in (await chat.one("bob", "/设置")).splitlines()
        entries = await audit_of(chat, "project.webhook")
        assert [entry.action for entry in entries] == ["project.webhook_add", "project.webhook_add"]
        assert entries[0].after == {"platform": "dingtalk-webhook", "url": SHOWN_DINGTALK}
        logged = json.dumps([[e.before, e.after] for e in entries], ensure_ascii=False)
        assert all(secret not in logged for secret in (TOKEN, SECRET, HOOK_ID, FEISHU_SECRET))


async def test_a_new_secret_rekeys_what_is_queued_and_removal_cancels_it(engine: AsyncEngine) -> None:
    async with chat_runtime(engine, now=NOW) as chat:
        pid = await make_project(chat)
        await chat.say("alice", f"/设置 群机器人 {DINGTALK} {SECRET}")
        await chat.say("alice", f"/设置 群机器人 {FEISHU} {FEISHU_SECRET}")
        async with chat.runtime.factory() as s, s.begin():
            first = await s.scalar(select(ReportWebhook).where(ReportWebhook.platform == "dingtalk-webhook"))
            assert first is not None
            for key in ("sent-one", "queued-one"):
                extra = {"to": "chat", "sealed_url": BOX.seal(DINGTALK), "sealed_secret": BOX.seal(SECRET)}
                payload = {"content": {"kind": "text", "text": "周报", "mentions": []}, "extra": extra}
                await idempotency.enqueue(
                    s, idempotency_key=key, platform="dingtalk-webhook", chat_id=f"webhook:{first.id}",
                    payload=payload, now=NOW,
                )  # fmt: skip
            rows = {row.idempotency_key: row for row in await s.scalars(select(OutboxMessage))}
            rows["sent-one"].status = "sent"
            # Backing off after a failed try: still queued while the commands below run.
            rows["queued-one"].next_attempt_at = datetime(2026, 11, 26, tzinfo=UTC)
        assert await chat.one("alice", f"/设置 群机器人 {DINGTALK} {SECRET}") == (
            f"钉钉群机器人 {SHOWN_DINGTALK} 已经添加过，没有变化。\n{WARNING}"
        )
        rotated = "SECffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1234"
        assert await chat.one(
            "alice", f"/设置 群机器人 {DINGTALK} {rotated}", chat_type="p2p", chat="dm"
        ) == (f"〔新品发布 · 编号 1〕✅ 已更新钉钉群机器人 {SHOWN_DINGTALK} 的密钥（SECf…1234）。")
        assert await outbox_extras(chat) == {
            "sent-one": ("sent", {"to": "chat"}),  # credentials wiped once used
            "queued-one": ("pending", {"to": "chat", "sealed_url": DINGTALK, "sealed_secret": rotated}),
        }
        assert [e.action for e in await audit_of(chat, "project.webhook")][-1] == "project.webhook_secret"

        assert await chat.one("alice", "/设置 群机器人 关 1") == "✅ 已移除 1 个群机器人，周报不再发到那里。"
        assert await outbox_extras(chat) == {
            "sent-one": ("sent", {"to": "chat"}),
            "queued-one": ("failed", {"to": "chat"}),  # never sent to a removed group
        }
        assert (
            await chat.one("alice", f"/设置 群机器人 off {FEISHU}")
            == "✅ 已移除 1 个群机器人，周报不再发到那里。"
        )
        assert await webhooks(chat) == []
        assert (await chat.one("alice", "/设置 群机器人 关")).startswith("还没有群机器人")
        removed = [e for e in await audit_of(chat, "project.webhook_remove")]
        assert [(e.project_id, e.before) for e in removed] == [
            (pid, {"platform": "dingtalk-webhook", "url": SHOWN_DINGTALK}),
            (pid, {"platform": "feishu-webhook", "url": SHOWN_FEISHU}),
        ]


async def outbox_extras(chat: Chat) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each webhook row's status and extra, its encrypted credentials decrypted."""
    async with chat.runtime.factory() as s:
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.platform == "dingtalk-webhook"))
        return {
            row.idempotency_key: (
                row.status,
                {
                    key: BOX.open(value) if key.startswith("sealed_") else value
                    for key, value in row.payload["extra"].items()
                },
            )
            for row in rows
        }


async def test_bad_webhooks_and_non_pms_are_refused_politely_and_change_nothing(engine: AsyncEngine) -> None:
    async with chat_runtime(engine, now=NOW) as chat:
        await make_project(chat)
        usage = "用法：/设置 [项 值]"
        refusals = {
            ("bob", f"/设置 群机器人 {DINGTALK} {SECRET}"): "抱歉，只有项目经理可以这样做。",
            ("bob", "/设置 群机器人 关"): "抱歉，只有项目经理可以这样做。",
            ("alice", f"/设置 群机器人 https://example.com/hook {SECRET}"): "这不是群机器人的 Webhook 地址",
            ("alice", f"/设置 群机器人 https://oapi.dingtalk.com/robot/send {SECRET}"): "这不是群机器人的",
            ("alice", f"/设置 群机器人 https://evil.example/robot/send?access_token={TOKEN} {SECRET}"): (
                "不能发到 evil.example：只支持钉钉和飞书群机器人的地址。"
            ),
            ("alice", f"/设置 群机器人 http://oapi.dingtalk.com/robot/send?access_token={TOKEN} {SECRET}"): (
                "不能发到 oapi.dingtalk.com"
            ),
            ("alice", f"/设置 群机器人 {DINGTALK}"): "钉钉群机器人请在安全设置里选「加签」",
            ("alice", f"/设置 群机器人 {DINGTALK} not-a-sec-secret"): "钉钉群机器人请在安全设置里选「加签」",
            ("alice", f"/设置 群机器人 {FEISHU}"): "飞书群机器人请在安全设置里开启「签名校验」",
            ("alice", "/设置 群机器人 关 3"): "没有群机器人「3」",
        }
        for (user, line), expected in refusals.items():
            reply = await chat.one(user, line)
            assert expected in reply, (line, reply)
            assert usage not in reply and SECRET not in reply
        assert await webhooks(chat) == []
        assert await audit_of(chat, "project.webhook") == []


async def test_the_ai_table_is_bound_from_dingtalk_as_the_pm(engine: AsyncEngine) -> None:
    async with dingtalk_organisation(engine) as org:

        async def say(user: str, line: str) -> str:
            org.api.sent.clear()
            assert (await org.deliver(org.message(user, line))).status_code == 200
            await org.runtime.settle()
            [reply] = org.api.texts()
            return reply

        await say("manager4220", "/项目 新建 新品发布")
        assert await say("manager4220", "/设置 AI表格 qnYxxx0A1b 周报 明细") == (
            "✅ AI表格：未设置 → qnYxxx0A1b 周报 明细"
        )
        assert await aitable(org) == ("qnYxxx0A1b", "周报 明细", "manager4220")
        [entry] = await audit_entries(org)
        assert entry.after == {
            "aitable_base_id": "qnYxxx0A1b",
            "aitable_sheet_id": "周报 明细",
            "aitable_operator_id": "manager4220",
        }
        assert entry.actor_platform == "dingtalk" and entry.actor_user_id == "manager4220"
        assert "**AI表格** qnYxxx0A1b 周报 明细" in (await say("staff7", "/设置")).splitlines()
        # The link as copied from the browser works too.
        link = "https://alidocs.dingtalk.com/i/nodes/Zk3Qy7ab9?utm_scene=team_space&iframeQuery=x"
        assert await say("manager4220", f"/设置 AI表格 {link} 明细") == (
            "✅ AI表格：qnYxxx0A1b 周报 明细 → Zk3Qy7ab9 明细"
        )
        refused = await say("manager4220", "/设置 AI表格 qnYxxx0A1b")
        assert refused.startswith("请写 /设置 AI表格 <baseId> <数据表ID或名称>")
        assert await say("staff7", "/设置 AI表格 关") == "抱歉，只有项目经理可以这样做。"
        assert await aitable(org) == ("Zk3Qy7ab9", "明细", "manager4220")
        assert await say("manager4220", "/设置 AI表格 关") == "✅ AI表格：Zk3Qy7ab9 明细 → 未设置"
        assert await aitable(org) == (None, None, None)
        assert "AI表格" not in await say("staff7", "/设置")


async def aitable(org: Organisation) -> tuple[str | None, str | None, str | None]:
    async with org.runtime.factory() as s:
        project = await s.scalar(select(Project))
        assert project is not None
        return project.aitable_base_id, project.aitable_sheet_id, project.aitable_operator_id


async def audit_entries(org: Organisation) -> list[AuditEntry]:
    async with org.runtime.factory() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "project.config")))


async def test_the_ai_table_cannot_be_bound_from_another_platform(engine: AsyncEngine) -> None:
    async with chat_runtime(engine, now=NOW) as chat:
        await make_project(chat)
        assert await chat.one("alice", "/设置 AI表格 qnYxxx0A1b 明细") == (
            "AI表格要在钉钉里设置：同步时以设置人的身份写入表格。"
        )
        async with chat.runtime.factory() as s:
            project = await s.scalar(select(Project))
            assert project is not None and project.aitable_base_id is None
        assert await audit_of(chat, "project.config") == []
