"""The weekly report to report-only groups: every custom robot (DingTalk) or custom bot (Feishu)
webhook bound to the project gets the report card (its pictures as lines of words, which such a robot
cannot post), through the outbox like any message (keyed per job, project, binding and business day,
so a re-run never posts it twice).

Only the weekly report goes there: alerts and standup prompts ask their readers to act (reply, click,
mark done), which people in a group reached by a one-way robot cannot do, and they name individuals'
delays to an audience (stakeholders, management) that the weekly summary already informs.
"""

from __future__ import annotations

from adapters.models import MENTION_TOKEN, Card, card_in_words
from adapters.split import json_escaped_size, split_lines
from bot.jobs.context import JobContext, Recipient
from bot.services import integrations

# The custom robots take about 20 KB a request (Feishu documents 20 KB; DingTalk documents no cap and
# is given the same). A report part stays below this many bytes of escaped markdown, leaving room for
# the title, the JSON around it and the signature fields.
PART_BYTES = 16_000


async def post(ctx: JobContext, card: Card) -> None:
    hooks = await integrations.webhooks(ctx.session, ctx.project.id)
    if not hooks:
        return
    card = card_in_words(card)  # a custom robot cannot post pictures: a line says what each shows
    names = await integrations.display_names(ctx.session, ctx.project.id)
    body = MENTION_TOKEN.sub(lambda match: names.get(match.group(1), match.group(1)), card.body)
    parts = split_lines(body, PART_BYTES, json_escaped_size)
    cards = [
        Card(card.title if len(parts) == 1 else f"{card.title} ({number}/{len(parts)})", part, card.color)
        for number, part in enumerate(parts, start=1)
    ]
    for webhook in hooks:
        to = Recipient(webhook.platform, integrations.chat_id(webhook))
        for number, part_card in enumerate(cards, start=1):
            await ctx.send(
                to,
                part_card,
                topic="" if number == 1 else f"part{number}",
                extra=integrations.extra(webhook),
            )
