"""Splitting an oversized message body on line boundaries, for platforms that cap a message's size."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from adapters.models import Message, Text


def json_escaped_size(text: str) -> int:
    """Bytes `text` takes inside a JSON string (UTF-8 kept, as our senders serialise)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def split_lines(body: str, budget: int, size: Callable[[str], int]) -> list[str]:
    """`body` in chunks of at most `budget` (as measured by `size`, which must add up piece by piece,
    as JSON escaping does), packed greedily with whole lines; a line larger than `budget` is cut
    between characters. Raises ValueError when not even one character fits."""
    if budget < max((size(char) for char in body), default=0):
        raise ValueError(f"no room for content (budget {budget})")
    newline = size("\n")
    chunks: list[str] = []
    lines: list[str] = []
    used = 0
    for line in _fitting_lines(body, budget, size):
        cost = size(line)
        if lines and used + newline + cost > budget:
            chunks.append("\n".join(lines))
            lines, used = [], 0
        used += cost + (newline if lines else 0)
        lines.append(line)
    chunks.append("\n".join(lines))
    return chunks


def _fitting_lines(body: str, budget: int, size: Callable[[str], int]) -> list[str]:
    lines: list[str] = []
    for line in body.split("\n"):
        piece: list[str] = []
        used = 0
        for char in line:
            cost = size(char)
            if used + cost > budget:
                lines.append("".join(piece))
                piece, used = [], 0
            piece.append(char)
            used += cost
        lines.append("".join(piece))
    return lines


def body_of(reply: Message) -> str:
    return reply.text if isinstance(reply, Text) else reply.body


def part_of(reply: Message, body: str, *, first: bool, last: bool) -> Message:
    """One part of a split reply: a card keeps its title on every part and its pictures and actions
    on the last (the one that stays at the bottom of the chat); a text's @mentions go on the first."""
    if isinstance(reply, Text):
        return replace(reply, text=body, mentions=reply.mentions if first else ())
    if last:
        return replace(reply, body=body)
    return replace(reply, body=body, actions=(), images=())


def split_reply(reply: Message, budget: int, size: Callable[[str], int]) -> list[Message]:
    """`reply` as parts whose bodies fit `budget` each."""
    chunks = split_lines(body_of(reply), budget, size)
    last = len(chunks) - 1
    return [part_of(reply, chunk, first=index == 0, last=index == last) for index, chunk in enumerate(chunks)]
