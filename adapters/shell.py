"""A local console "chat": typed lines become messages from one user in one chat; replies are printed.

Everyone is identified by the name typed (`:as alice`, `@alice`), so a newcomer can try the whole
bot with no Feishu or DingTalk account.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from adapters.models import (
    MENTION_TOKEN,
    ChatRef,
    InboundMessage,
    OutboundMessage,
    Reply,
    Text,
    UserRef,
    in_words,
    mention_token,
)

PLATFORM = "shell"
# `@name` where name is letters/digits/_/-/. (CJK included): the shell's mention syntax.
_SHELL_MENTION = re.compile(r"@([\w.\-]+)")


def message(line: str, *, user: str, chat: str, now: datetime, chat_type: str = "group") -> InboundMessage:
    """One typed line as the message a platform adapter would have produced."""
    mentions: dict[str, UserRef] = {}

    def tokenise(match: re.Match[str]) -> str:
        name = match.group(1)
        mentions.setdefault(name, UserRef(PLATFORM, name, name))
        return mention_token(name)

    text = _SHELL_MENTION.sub(tokenise, line.strip())
    event_id = uuid.uuid4().hex
    return InboundMessage(
        platform=PLATFORM,
        event_id=event_id,
        message_id=event_id,
        chat=ChatRef(PLATFORM, chat, "p2p" if chat_type == "p2p" else "group", chat),
        sender=UserRef(PLATFORM, user, user),
        text=text,
        sent_at=now,
        mentions=tuple(mentions.values()),
    )


def render(reply: Reply) -> str:
    """A reply as plain console text, with mentions shown as @name (a picture as its description)."""
    content = in_words(reply)
    if isinstance(content, Text):
        prefix = "".join(f"@{user.name or user.user_id} " for user in content.mentions)
        return plain(prefix + content.text)
    return plain(f"【{content.title}】\n{content.body}")


def plain(markdown: str) -> str:
    """Neutral markdown as the console shows it: `<at:ID>` as "@ID", no bold markers."""
    return MENTION_TOKEN.sub(lambda match: "@" + match.group(1), markdown).replace("**", "")


class ShellSender:
    """Keeps what the bot "sent"; the shell prints it, tests read it."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, outbound: OutboundMessage) -> str:
        self.sent.append(outbound)
        return f"shell-{len(self.sent)}"

    def take(self) -> list[str]:
        """The rendered messages sent since the last call."""
        taken, self.sent = self.sent, []
        return [render(outbound.content) for outbound in taken]
