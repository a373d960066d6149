"""`/config webhook`: report-only groups reached through custom robot (DingTalk) or custom bot (Feishu)
webhooks. A thin handler over bot.services.integrations, called by /config (bot.commands.rhythm)."""

from __future__ import annotations

from adapters.models import Reply, Text
from bot.commands.common import actor_of
from bot.commands.context import CommandContext
from bot.permissions import require_pm
from bot.services import integrations, settings
from bot.services.integrations import Delivery
from storage.models import Project


def _last(ctx: CommandContext, delivery: Delivery | None) -> str:
    if delivery is None:
        return ctx.t("integrations.last.never")
    at = delivery.at.astimezone(ctx.tz).strftime("%m-%d %H:%M")
    return ctx.t(f"integrations.last.{delivery.status}", at=at, error=delivery.error or "")


def _none(ctx: CommandContext) -> str:
    return ctx.t("integrations.webhook_none", hint=ctx.t("rhythm.config_hint.webhook"))


async def _listing(ctx: CommandContext, project: Project) -> str:
    bound = await integrations.webhooks(ctx.session, project.id)
    if not bound:
        return _none(ctx)
    hint = ctx.t("rhythm.config_hint.webhook")
    lines = [
        ctx.t(
            "integrations.webhook_line",
            number=number,
            kind=ctx.t(f"integrations.kind.{webhook.platform}"),
            url=webhook.url_shown,
            last=_last(ctx, await integrations.last_delivery(ctx.session, webhook)),
        )
        for number, webhook in enumerate(bound, start=1)
    ]
    return ctx.t("integrations.webhook_list", lines="\n".join(lines), hint=hint)


async def webhook(ctx: CommandContext, project: Project, value: str) -> list[Reply]:
    """No value: the list (anyone). `<url> <secret>`: bind or re-key; `off [number|url]`: remove (PMs)."""
    if not value:
        return [Text(await _listing(ctx, project))]
    member = require_pm(ctx)
    first, _, rest = value.partition(" ")
    if first.lower() in integrations.CLEAR:
        listed = await integrations.webhooks(ctx.session, project.id)
        chosen = integrations.pick(listed, rest.strip(), ctx.secret_box)
        if not chosen:
            return [Text(_none(ctx))]
        await integrations.unbind(
            session=ctx.session, project=project, chosen=chosen, actor=actor_of(ctx), now=ctx.now
        )
        return [Text(ctx.t("integrations.webhook_removed", count=len(chosen)))]
    integrations.require_box(ctx.secret_box)
    target = integrations.parse_webhook(first, rest.strip(), ctx.webhook_hosts)
    bound = await integrations.bind(
        session=ctx.session,
        project=project,
        target=target,
        box=ctx.secret_box,
        actor=actor_of(ctx),
        member_id=member.id,
        now=ctx.now,
    )
    text = ctx.t(
        f"integrations.webhook_{bound.change}",
        kind=ctx.t(f"integrations.kind.{target.platform}"),
        url=integrations.masked_url(target.url),
        secret=integrations.mask(target.secret),
    )
    # The line with the credentials was just posted where the whole group can read it.
    if ctx.message.chat.chat_type == "group":
        text += "\n" + ctx.t("integrations.webhook_in_group")
    return [Text(text)]


def redact_config(args: str) -> str:
    """/config's arguments as stored once handled: those of `webhook` (and of a key not understood,
    which may be a mistyped one) masked; the other settings hold no credentials (bot.services.settings)."""
    word, _, value = args.partition(" ")
    if not value or settings.resolve_key(word) not in ("webhook", None):
        return args
    return f"{word} {integrations.redact_args(value)}"
