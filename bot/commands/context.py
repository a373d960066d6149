"""What a command handler receives: the message, its project, the acting member and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.models import InboundMessage
from bot.commands.parsing import normalize, tidy
from bot.commands.registry import CommandSpec, Registry
from bot.render.i18n import t
from bot.services.dashboard import Links
from bot.services.integrations import WebhookHosts
from storage.models import Member, Project
from storage.secretbox import SecretBox


@dataclass
class CommandContext:
    session: AsyncSession
    message: InboundMessage
    now: datetime  # UTC, from the dispatcher's clock
    registry: Registry
    spec: CommandSpec
    invoked_as: str
    project: Project | None
    actor: Member | None  # the sender's membership in `project`, if any
    locale: str
    default_timezone: str
    # Where /config may point a report webhook (the platforms' hosts and the configured domains).
    webhook_hosts: WebhookHosts = field(default_factory=WebhookHosts)
    # Encrypts integration secrets (CROSSTRACK_SECRET_KEY); None when unset.
    secret_box: SecretBox | None = None
    # Signs /dashboard links (CROSSTRACK_PUBLIC_URL and CROSSTRACK_DASHBOARD_SECRET); None when unset.
    dashboard: Links | None = None
    # Said after the handler's replies, e.g. that the sender was just added to the project.
    notices: list[str] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.project.timezone if self.project else self.default_timezone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def typed(self, args: str) -> str:
        """The arguments as the sender typed them (`args` went through `normalize`), so titles and
        notes are stored as typed; `args` itself when the command word cannot be found in the text."""
        text = tidy(self.message.text).lstrip()
        if text.startswith(("/", "／")):
            text = text[1:].lstrip()
        word = self.invoked_as.lower()
        # The command word as typed may hold other spaces or full-width letters: the shortest prefix
        # that normalises to it (a few characters longer at most).
        for end in range(1, min(len(text), 3 * len(word)) + 1):
            if normalize(text[:end]).lower() == word:
                return text[end:].strip()
        return args

    def t(self, key: str, **params: object) -> str:
        return t(self.locale, key, **params)

    def require_project(self) -> Project:
        if self.project is None:
            raise AssertionError("handler registered with needs_project=True ran without a project")
        return self.project
