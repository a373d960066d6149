"""Integrations set with /config: the DingTalk AI table the weekly report syncs to, and report-only
groups reached through custom robot webhooks (DingTalk) or custom bot webhooks (Feishu).

Webhook URLs and secrets are credentials: they are stored encrypted with the binding (a SecretBox
under CROSSTRACK_SECRET_KEY; without one, binding is refused) and handed to the sender encrypted with
each queued report (the outbox row's `extra`, which the outbox wipes once the row is sent or failed);
chat shows them masked, the audit log and the stored command not at all. Removing or re-keying a
binding also rewrites what is still queued for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserFacingError
from bot.services import audit
from bot.services.audit import Actor
from storage.models import Member, OutboxMessage, Project, ReportWebhook
from storage.secretbox import KEY_SETTING, SecretBox

# The outbox platforms of the two kinds of webhook: the `platform` of their senders (adapters/
# dingtalk/robot_webhook.py, adapters/feishu/bot_webhook.py; bot/ does not import platform modules).
DINGTALK_WEBHOOK = "dingtalk-webhook"
FEISHU_WEBHOOK = "feishu-webhook"

# Words that clear a /config value; removing a webhook also takes "delete"/"remove" words.
CLEAR_WORDS = frozenset({"off", "none", "-", "关", "关闭", "清空", "无"})
CLEAR = CLEAR_WORDS | {"删除", "移除"}
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# An AI table link: https://alidocs.dingtalk.com/i/nodes/<baseId>?...
_NODE_URL = re.compile(r"https?://\S+?/nodes/(?P<base>[A-Za-z0-9_-]+)\S*")
_SHEET_MAX = 100
_DINGTALK_TOKEN = re.compile(r"[A-Za-z0-9]{16,128}")
_DINGTALK_SECRET = re.compile(r"SEC[A-Za-z0-9]{16,128}")
_FEISHU_HOOK = re.compile(r"/open-apis/bot/v2/hook/(?P<id>[A-Za-z0-9-]{8,64})")
_FEISHU_SECRET = re.compile(r"[A-Za-z0-9_+/=-]{8,128}")


@dataclass(frozen=True)
class WebhookHosts:
    """Where a webhook may point (scheme://host): the platforms' own hosts plus the configured API
    domains (a proxy, or a test double). Anything else is refused, so /config cannot make the
    server post to an arbitrary address."""

    dingtalk: frozenset[str] = field(default_factory=lambda: frozenset({"https://oapi.dingtalk.com"}))
    feishu: frozenset[str] = field(
        default_factory=lambda: frozenset({"https://open.feishu.cn", "https://open.larksuite.com"})
    )

    def with_domains(self, *, dingtalk_oapi: str, feishu: str) -> WebhookHosts:
        return WebhookHosts(self.dingtalk | {_origin(dingtalk_oapi)}, self.feishu | {_origin(feishu)})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


# --- the AI table -----------------------------------------------------------------------------------


def parse_aitable(value: str) -> dict[str, Any]:
    """`<baseId or AI table link> <sheet id or name>`, or `off`: the Project columns it sets (the
    operator is set by the caller, who knows the actor)."""
    if value.lower() in CLEAR:
        return {"aitable_base_id": None, "aitable_sheet_id": None, "aitable_operator_id": None}
    first, _, sheet = value.partition(" ")
    link = _NODE_URL.fullmatch(first)
    base = link["base"] if link else first
    if not _ID.fullmatch(base) or not sheet or len(sheet) > _SHEET_MAX or any(c in sheet for c in "/?#"):
        raise UserFacingError("integrations.aitable_bad")
    return {"aitable_base_id": base, "aitable_sheet_id": sheet}


def aitable_operator(actor: Actor) -> str:
    """The Notable API writes as a DingTalk user: the PM binding the table, who must be on DingTalk."""
    if actor.platform != "dingtalk":
        raise UserFacingError("integrations.aitable_needs_dingtalk")
    return actor.user_id


# --- report webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookTarget:
    platform: str
    url: str  # canonical: without anything the user pasted after the credentials
    secret: str


def _canonical(url: str) -> tuple[str, str] | None:
    """(outbox platform, URL without anything pasted after the credential) for a webhook URL's shape,
    whatever its host; None when it is neither kind."""
    parts = urlsplit(url)
    origin = _origin(url)
    if parts.path == "/robot/send":
        tokens = parse_qs(parts.query).get("access_token", [])
        if len(tokens) == 1 and _DINGTALK_TOKEN.fullmatch(tokens[0]):
            return DINGTALK_WEBHOOK, f"{origin}/robot/send?access_token={tokens[0]}"
    elif hook := _FEISHU_HOOK.fullmatch(parts.path):
        return FEISHU_WEBHOOK, f"{origin}/open-apis/bot/v2/hook/{hook['id']}"
    return None


def parse_webhook(url: str, secret: str, hosts: WebhookHosts) -> WebhookTarget:
    """A custom robot (DingTalk) or custom bot (Feishu) webhook with its signing secret; raises
    UserFacingError naming what is wrong."""
    canonical = _canonical(url)
    if canonical is None:
        raise UserFacingError("integrations.webhook_bad_url")
    platform, clean = canonical
    allowed = hosts.dingtalk if platform == DINGTALK_WEBHOOK else hosts.feishu
    if _origin(url) not in allowed:
        raise UserFacingError("integrations.webhook_bad_host", host=urlsplit(url).netloc)
    if platform == DINGTALK_WEBHOOK and not _DINGTALK_SECRET.fullmatch(secret):
        raise UserFacingError("integrations.webhook_bad_dingtalk_secret")
    if platform == FEISHU_WEBHOOK and not _FEISHU_SECRET.fullmatch(secret):
        raise UserFacingError("integrations.webhook_bad_feishu_secret")
    return WebhookTarget(platform, clean, secret)


def mask(secret: str) -> str:
    """Enough to tell two apart, not enough to use: `SECa…9f3c`."""
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) > 12 else "…"


def masked_url(url: str) -> str:
    """The webhook URL with its credential part masked."""
    parts = urlsplit(url)
    if parts.path == "/robot/send":
        token = parse_qs(parts.query).get("access_token", [""])[0]
        return f"{parts.netloc}/robot/send?access_token={mask(token)}"
    hook_id = parts.path.rsplit("/", 1)[-1]
    return f"{parts.netloc}/…/hook/{mask(hook_id)}"


def redact_args(value: str) -> str:
    """`/config webhook` arguments as they may be stored: webhook URLs masked, anything else but a
    clear word or a list number (a secret, or a URL pasted wrongly) replaced by a mask."""
    words = []
    for word in value.split():
        canonical = _canonical(word)
        if canonical is not None:
            words.append(masked_url(canonical[1]))
        elif word.lower() in CLEAR or word.isdigit():
            words.append(word)
        else:
            words.append(REDACTED)
    return " ".join(words)


REDACTED = "[redacted]"


def chat_id(webhook: ReportWebhook) -> str:
    """The outbox chat id of a binding: one queue (and order) per binding."""
    return f"webhook:{webhook.id}"


# The keys of an outbox row's `extra` holding a webhook's encrypted URL and secret; the sender
# decrypts them, and the outbox wipes every `sealed_*` key once the row is sent or failed.
SEALED_URL, SEALED_SECRET = "sealed_url", "sealed_secret"


def extra(webhook: ReportWebhook) -> dict[str, str]:
    """What the sender needs with each message, as stored: encrypted."""
    return {SEALED_URL: webhook.url_sealed, SEALED_SECRET: webhook.secret_sealed}


def require_box(box: SecretBox | None) -> SecretBox:
    """Storing or finding a webhook by its URL needs the key; refused politely without one."""
    if box is None:
        raise UserFacingError("integrations.webhook_no_key", setting=KEY_SETTING)
    return box


async def webhooks(session: AsyncSession, project_id: int) -> list[ReportWebhook]:
    rows = await session.scalars(
        select(ReportWebhook).where(ReportWebhook.project_id == project_id).order_by(ReportWebhook.id)
    )
    return list(rows)


def _audited(webhook: ReportWebhook) -> dict[str, Any]:
    return {"platform": webhook.platform, "url": webhook.url_shown}


@dataclass(frozen=True)
class Bound:
    webhook: ReportWebhook
    change: str  # "added", "secret" (re-keyed) or "same"


async def bind(
    *,
    session: AsyncSession,
    project: Project,
    target: WebhookTarget,
    box: SecretBox | None,
    actor: Actor,
    member_id: int | None,
    now: datetime,
) -> Bound:
    """Add the webhook to the project, or give a bound one its new secret (audited, never the secret)."""
    box = require_box(box)
    webhook = await session.scalar(
        select(ReportWebhook).where(
            ReportWebhook.project_id == project.id, ReportWebhook.url_digest.in_(box.digests(target.url))
        )
    )
    if webhook is not None:
        if box.open(webhook.secret_sealed) == target.secret:
            return Bound(webhook, "same")
        # Sealed afresh, under the current key.
        webhook.url_digest, webhook.url_sealed = box.digest(target.url), box.seal(target.url)
        webhook.secret_sealed = box.seal(target.secret)
        webhook.updated_at = now
        await _rewrite_queued(session, webhook, extra(webhook))
        await audit.record(
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="project.webhook_secret",
            entity="report_webhook",
            entity_id=webhook.id,
            before=_audited(webhook),
            after={**_audited(webhook), "secret": "changed"},
        )
        return Bound(webhook, "secret")
    webhook = ReportWebhook(
        project_id=project.id,
        platform=target.platform,
        url_digest=box.digest(target.url),
        url_sealed=box.seal(target.url),
        url_shown=masked_url(target.url),
        secret_sealed=box.seal(target.secret),
        created_by_member_id=member_id,
        created_at=now,
        updated_at=now,
    )
    session.add(webhook)
    await session.flush()
    await audit.record(
        session=session,
        actor=actor,
        now=now,
        project_id=project.id,
        action="project.webhook_add",
        entity="report_webhook",
        entity_id=webhook.id,
        after=_audited(webhook),
    )
    return Bound(webhook, "added")


def pick(bound: list[ReportWebhook], which: str, box: SecretBox | None) -> list[ReportWebhook]:
    """The bindings `which` names: empty for all of them, a number from the list, or the URL (which
    needs the key, to compare digests)."""
    if not which:
        return bound
    if which.isdigit():
        number = int(which)
        if not 1 <= number <= len(bound):
            raise UserFacingError("integrations.webhook_no_such", which=which)
        return [bound[number - 1]]
    canonical = _canonical(which)
    digests = set(require_box(box).digests(canonical[1])) if canonical else set()
    chosen = [webhook for webhook in bound if webhook.url_digest in digests]
    if not chosen:
        raise UserFacingError("integrations.webhook_no_such", which=masked_url(which))
    return chosen


async def unbind(
    *, session: AsyncSession, project: Project, chosen: list[ReportWebhook], actor: Actor, now: datetime
) -> None:
    """Remove the bindings (audited): reports still queued for them are cancelled, and their
    credentials wiped from the outbox."""
    for webhook in chosen:
        await _rewrite_queued(session, webhook, None)
        await audit.record(
            session=session,
            actor=actor,
            now=now,
            project_id=project.id,
            action="project.webhook_remove",
            entity="report_webhook",
            entity_id=webhook.id,
            before=_audited(webhook),
        )
        await session.delete(webhook)
    await session.flush()


async def _rewrite_queued(session: AsyncSession, webhook: ReportWebhook, new: dict[str, str] | None) -> None:
    """Pending rows get the new credentials (or are cancelled when `new` is None); sent and failed rows
    keep their content and lose the old ones."""
    rows = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.platform == webhook.platform, OutboxMessage.chat_id == chat_id(webhook)
        )
    )
    for row in rows:
        kept = {
            key: value
            for key, value in row.payload.get("extra", {}).items()
            if key not in (SEALED_URL, SEALED_SECRET)
        }
        if row.status == "pending" and new is not None:
            kept |= new
        elif row.status == "pending":
            row.status = "failed"
            row.last_error = "webhook removed"
        # A new dict, so the JSON column is seen as changed.
        row.payload = {**row.payload, "extra": kept}


@dataclass(frozen=True)
class Delivery:
    status: str  # "pending", "sent" or "failed"
    at: datetime
    error: str | None


async def last_delivery(session: AsyncSession, webhook: ReportWebhook) -> Delivery | None:
    """How the latest report queued for the binding went, for the list PMs see."""
    row = await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.platform == webhook.platform, OutboxMessage.chat_id == chat_id(webhook))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return Delivery(row.status, row.sent_at or row.created_at, row.last_error)


async def display_names(session: AsyncSession, project_id: int) -> dict[str, str]:
    """Member platform ids -> names: a report-only group reads names where the chat had mentions (a
    robot's @ only works for people in its own group, and ids mean nothing to the others)."""
    rows = await session.execute(
        select(Member.platform_user_id, Member.display_name).where(Member.project_id == project_id)
    )
    return {user_id: name or user_id for user_id, name in rows}


async def reseal(session: AsyncSession, box: SecretBox, now: datetime) -> int:
    """Re-encrypt under the current key the bindings (and their queued reports) still under an old
    one, so an old key can be dropped after a rotation; returns how many bindings changed."""
    changed = 0
    for webhook in list(await session.scalars(select(ReportWebhook).order_by(ReportWebhook.id))):
        url_sealed, secret_sealed = box.reseal(webhook.url_sealed), box.reseal(webhook.secret_sealed)
        if (url_sealed, secret_sealed) == (webhook.url_sealed, webhook.secret_sealed):
            continue
        webhook.url_sealed, webhook.secret_sealed = url_sealed, secret_sealed
        webhook.url_digest = box.digest(box.open(url_sealed))
        webhook.updated_at = now
        await _rewrite_queued(session, webhook, extra(webhook))
        changed += 1
    return changed
