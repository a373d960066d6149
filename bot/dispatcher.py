"""Inbound event -> command -> replies. Pure of transport: the caller owns the transaction and sending."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import (
    BotAddedToChat,
    Card,
    Image,
    InboundEvent,
    InboundMessage,
    Reply,
    Text,
    plausible_user_id,
)
from bot.commands.context import CommandContext
from bot.commands.help import not_understood
from bot.commands.parsing import ArgError, normalize, unreported_mentions_as_text
from bot.commands.registry import CommandSpec, Match, Registry
from bot.errors import NotHandled, PermissionDenied, UsageError, UserFacingError
from bot.metrics import note_command
from bot.permissions import RULES
from bot.render import views
from bot.render.i18n import t
from bot.services import members, projects
from bot.services.dashboard import Links
from bot.services.integrations import WebhookHosts
from storage.counters import count_hit
from storage.models import Project
from storage.secretbox import SecretBox

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
    secret_box: SecretBox | None = None
    command_rate_limit: int = 20  # per user, platform and minute
    dashboard: Links | None = None  # signs /dashboard links; None while the dashboard is off


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
    message = only_reported_mentions(message)
    clicked = project
    project = project or await projects.for_message(session, message)
    locale = project.locale if project else defaults.locale
    hits = await count_hit(
        session,
        scope="commands",
        key=f"{message.platform}:{message.sender.user_id}",
        window_start=now.replace(second=0, microsecond=0),
    )
    if hits > defaults.command_rate_limit:
        # One polite answer per window; after it, silence until the next minute.
        first = hits == defaults.command_rate_limit + 1
        reply: list[Reply] = (
            [Text(t(locale, "error.slow_down", limit=defaults.command_rate_limit))] if first else []
        )
        return Dispatched(reply, applied=False)
    if message.message_type != "text":
        return Dispatched([Text(t(locale, "error.not_text"))], applied=False)
    text = normalize(message.text)
    if not text or text == "/":
        return Dispatched([Text(t(locale, "error.empty"))], applied=False)
    match = registry.match(text)
    if match is not None and _label_not_command(text, match, message):
        match = None
    if match is None and registry.fallback is not None:
        match = Match(registry.fallback, "", text)
    in_group = message.chat.chat_type != "p2p"
    if match is None:
        return Dispatched([Text(not_understood(registry, locale, text, in_group=in_group))], applied=False)
    spec = match.spec
    note_command(spec.name, project.id if project else None)
    if spec.needs_project and project is None:
        if message.chat.chat_type == "p2p":
            return Dispatched([Text(await _no_project_p2p(session, message, locale))], applied=False)
        return Dispatched([Text(t(locale, "error.no_project"))], applied=False)
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
        secret_box=defaults.secret_box,
        dashboard=defaults.dashboard,
    )
    try:
        # A refused command changes nothing: its writes live and die in this savepoint.
        async with session.begin_nested():
            # Free text is checked by its handler, once it knows the text is for it.
            if spec is not registry.fallback:
                await RULES[spec.who].admit(ctx)
            replies = await spec.handler(ctx, match.args)
        handled = Dispatched([*replies, *map(Text, ctx.notices)], applied=True)
    except NotHandled:
        return Dispatched([Text(not_understood(registry, locale, text, in_group=in_group))], applied=False)
    except (UserFacingError, ArgError) as error:
        # The handler may have switched language (e.g. a new project); refuse in the context's.
        handled = Dispatched([Text(refusal(ctx.locale, spec, error))], applied=False)
    if message.chat.chat_type != "p2p" or clicked is not None:
        return handled  # a click acts on its card's project, whatever the 1:1 chat is about
    # A 1:1 chat may be about any of the sender's projects: every answer says which (after the
    # command, so `/project use` is answered under the project it chose).
    current = await projects.for_message(session, message)
    return replace(handled, replies=[_headed(reply, current) for reply in handled.replies])


def _label_not_command(text: str, match: Match, message: InboundMessage) -> bool:
    """`卡点：无`, `Done: 2.1` in a 1:1 chat or a reply: a standup label, not the command of that
    name (a command is called without a colon, a label needs one). Likewise `任务3.2完成70%`,
    `task 2.1 done`: a group word before a task code names the task (the group takes no code)."""
    conversational = message.chat.chat_type == "p2p" or message.reply_to is not None
    if not conversational or text.startswith("/"):
        return False
    return match.args.startswith(":") or (match.spec.group and match.args[:1].isdigit())


def only_reported_mentions(message: InboundMessage) -> InboundMessage:
    """The message with only the mentions its platform reported acting as mentions: a typed
    `<at:ID>` (`<at:all>`, or someone not mentioned) stays text, and no reserved id (`all`) is kept."""
    reported = tuple(user for user in message.mentions if plausible_user_id(user.user_id))
    text = unreported_mentions_as_text(message.text, {user.user_id for user in reported})
    return replace(message, text=text, mentions=reported)


def _headed(reply: Reply, project: Project | None) -> Reply:
    if project is None:
        return reply
    # With the id: someone else may have named their project the same.
    header = t(project.locale, "project.p2p_header", name=project.name, id=project.id)
    if isinstance(reply, Text):
        return replace(reply, text=f"{header}{reply.text}")
    if isinstance(reply, Image):
        return replace(reply, alt=f"{header}{reply.alt}")
    return replace(reply, title=f"{header}{reply.title}")


async def _no_project_p2p(session: AsyncSession, message: InboundMessage, locale: str) -> str:
    """In a 1:1 chat without a current project: how to start one, or which of theirs to choose."""
    choices = await members.projects_of(session, message.platform, message.sender.user_id)
    if not choices:
        return t(locale, "error.no_project_p2p")
    return t(locale, "error.choose_project", choices=await views.project_choices(session, choices, locale))


def redacted(event: InboundEvent, registry: Registry) -> InboundEvent:
    """The event as it may be stored once handled: a command whose spec says its arguments may
    carry credentials (`/config webhook <url> <secret>`) keeps them masked."""
    if not isinstance(event, InboundMessage):
        return event
    match = registry.match(normalize(event.text))
    if match is None or match.spec.redact is None:
        return event
    args = match.spec.redact(match.args)
    return replace(event, text=f"/{match.invoked_as} {args}") if args != match.args else event
