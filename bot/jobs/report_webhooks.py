"""The weekly report to report-only groups: every custom robot (DingTalk) or custom bot (Feishu)
webhook bound to the project gets the report card, through the outbox like any message (keyed per
job, project, binding and business day, so a re-run never posts it twice).

Only the weekly report goes there: alerts and standup prompts ask their readers to act (reply, click,
mark done), which people in a group reached by a one-way robot cannot do, and they name individuals'
delays to an audience (stakeholders, management) that the weekly summary already informs.
"""

from __future__ import annotations

import json

from adapters.models import MENTION_TOKEN, Card
from adapters.split import split_lines
from bot.jobs.context import JobContext, Recipient
from bot.services import integrations

# The custom robots take about 20 KB a request (Feishu documents 20 KB; DingTalk documents no cap and
# is given the same). A report part stays below this many bytes of escaped markdown, leaving room for
# the title, the JSON around it and the signature fields.
PART_BYTES = 16_000


def escaped_size(text: str) -> int:
    """Bytes `text` takes inside a JSON string (UTF-8 kept, as the senders serialise)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def split_body(body: str, budget: int = PART_BYTES) -> list[str]:
    """`body` in parts of at most `budget` escaped bytes, cut between lines."""
    return split_lines(body, budget, escaped_size)


async def post(ctx: JobContext, card: Card) -> None:
    hooks = await integrations.webhooks(ctx.session, ctx.project.id)
    if not hooks:
        return
    names = await integrations.display_names(ctx.session, ctx.project.id)
    body = MENTION_TOKEN.sub(lambda match: names.get(match.group(1), match.group(1)), card.body)
    parts = split_body(body)
    for webhook in hooks:
        to = Recipient(webhook.platform, integrations.chat_id(webhook))
        for number, part in enumerate(parts, start=1):
            title = card.title if len(parts) == 1 else f"{card.title} ({number}/{len(parts)})"
            await ctx.send(
                to,
                Card(title, part, card.color),
                topic="" if number == 1 else f"part{number}",
                extra=integrations.extra(webhook),
            )
