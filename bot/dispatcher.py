"""Inbound event -> command -> replies. Pure of transport: the caller owns the transaction and sending."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import BotAddedToChat, Card, InboundEvent, InboundMessage, Reply, Text
from bot.commands.context import CommandContext
from bot.commands.parsing import ArgError, normalize
from bot.commands.registry import CommandSpec, Match, Registry
from bot.errors import NotHandled, PermissionDenied, UsageError, UserFacingError
from bot.metrics import note_command
from bot.render.i18n import t
from bot.services import members, projects
from bot.services.integrations import WebhookHosts
from storage.models import Project

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dispatched:
    """The replies to one event, and whether a command ran to completion (False: refused, not
    understood or not for us, and nothing was changed)."""

    replies: list[Reply]
    applied: bool


@dataclass(frozen=True)
class Defaults:
    """Instance-wide fallbacks for chats that have no project yet, and instance-wide limits."""

    timezone: str
    locale: str
    webhook_hosts: WebhookHosts = field(default_factory=WebhookHosts)


def usage_line(locale: str, spec: CommandSpec) -> str:
    return t(locale, spec.usage_key)


def refusal(locale: str, spec: CommandSpec, error: Exception) -> str:
    """The polite answer to a refused command, in the project's language."""
    if isinstance(error, PermissionDenied):
        return t(locale, "error.permission", who=t(locale, error.who))
    if isinstance(error, ArgError | UsageError) and error.key:
        detail = t(locale, error.key, **error.params)
        return t(locale, "error.usage_detail", detail=detail, usage=usage_line(locale, spec))
    if isinstance(error, UsageError):
        return t(locale, "error.usage", usage=usage_line(locale, spec))
    assert isinstance(error, UserFacingError)
    return t(locale, error.key, **error.params)


async def dispatch(
    session: AsyncSession, event: InboundEvent, *, registry: Registry, defaults: Defaults, now: datetime
) -> list[Reply]:
    if isinstance(event, BotAddedToChat):
        return await _welcome(session, event, defaults)
    handled = await dispatch_message(session, event, registry=registry, defaults=defaults, now=now)
    return handled.replies


async def _welcome(session: AsyncSession, event: BotAddedToChat, defaults: Defaults) -> list[Reply]:
    binding = await projects.binding_for_chat(session, event.platform, event.chat.chat_id)
    if binding is not None:
        project = await session.get(Project, binding.project_id)
        if project is not None:
            return [Text(t(project.locale, "welcome.bound", name=project.name))]
    locale = defaults.locale
    return [Card(t(locale, "welcome.title"), t(locale, "welcome.body"), color="blue")]


async def dispatch_message(
    session: AsyncSession,
    message: InboundMessage,
    *,
    registry: Registry,
    defaults: Defaults,
    now: datetime,
    project: Project | None = None,
) -> Dispatched:
    """One message through the registry, its permission checks and its handler; about `project`
    when the caller knows it (a click on a card from that project), else the chat's or the user's."""
    if message.sender_is_bot or not message.to_bot:
        return Dispatched([], applied=False)
    project = project or await projects.for_message(session, message)
    locale = project.locale if project else defaults.locale
    if message.message_type != "text":
        return Dispatched([Text(t(locale, "error.not_text"))], applied=False)
    text = normalize(message.text)
    if not text or text == "/":
        return Dispatched([Text(t(locale, "error.empty"))], applied=False)
    match = registry.match(text)
    if match is None and registry.fallback is not None:
        match = Match(registry.fallback, "", text)
    if match is None:
        return Dispatched(
            [Text(t(locale, "error.unknown_command", command=text.split(" ", 1)[0]))], applied=False
        )
    spec = match.spec
    note_command(spec.name, project.id if project else None)
    if spec.needs_project and project is None:
        key = "error.no_project_p2p" if message.chat.chat_type == "p2p" else "error.no_project"
        return Dispatched([Text(t(locale, key))], applied=False)
    actor = (
        await members.by_user(session, project.id, message.platform, message.sender.user_id)
        if project
        else None
    )
    ctx = CommandContext(
        session=session,
        message=message,
        now=now,
        registry=registry,
        spec=spec,
        invoked_as=match.invoked_as,
        project=project,
        actor=actor,
        locale=locale,
        default_timezone=defaults.timezone,
        webhook_hosts=defaults.webhook_hosts,
    )
    try:
        # A refused command changes nothing: its writes live and die in this savepoint.
        async with session.begin_nested():
            return Dispatched(await spec.handler(ctx, match.args), applied=True)
    except NotHandled:
        return Dispatched(
            [Text(t(locale, "error.unknown_command", command=text.split(" ", 1)[0]))], applied=False
        )
    except (UserFacingError, ArgError) as error:
        # The handler may have switched language (e.g. a new project); refuse in the context's.
        return Dispatched([Text(refusal(ctx.locale, spec, error))], applied=False)
