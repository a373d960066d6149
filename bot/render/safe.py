"""User text made inert before it is shown: in card markdown (Feishu, DingTalk), in text messages and
in the shell alike, typed markup must read as text, never act.

One escape for every platform, so it is done here, once, rather than in each adapter (which cannot
tell typed text from our own markup): the few ASCII characters that open markup become their
full-width forms, which every renderer shows as they are and which read the same in a Chinese
sentence. HTML entities (what Feishu's card docs suggest) would show as `&#91;` in a text message
and are not documented for DingTalk's markdown.

- `<` opening a tag, an autolink or a comment (`<at user_id="all">`, `<at id=all>`, `<font>`,
  `<a href>`, `<https://…>`) becomes `＜`; a neutral mention token `<at:ID>` of a plausible person is
  kept (the platform reported it, see the dispatcher), any other (`<at:all>`) is made text too;
- `[` and `]` become `［` `］` where a `]` is directly followed by `(`, `[` or `:` (CommonMark
  links, images and link definitions need that): no `[点我](https://evil.example)`, `![x](y)` or
  DingTalk's `[x](dtmd://…)` that would send a command as whoever taps it;
- `#` opening a heading (`# `, `### ` at the start of a line) becomes `＃`.
Emphasis (`*`, `_`, `~`) is left alone: it changes no meaning and `*` is common in plain text.
"""

from __future__ import annotations

import re

from adapters.models import MENTION_TOKEN, plausible_user_id

_MARKUP = re.compile(
    rf"{MENTION_TOKEN.pattern}|<(?=[A-Za-z/!?])|^([ \t]*)#(?=#{{0,5}}(?:[ \t]|$))", re.MULTILINE
)
_LINK = re.compile(r"\][(\[:]")
_BRACKETS = str.maketrans({"[": "［", "]": "］"})


def _inert(match: re.Match[str]) -> str:
    found = match[0]
    if match[1] is not None:  # a mention token
        return found if plausible_user_id(match[1]) else "＜" + found[1:]
    if match[2] is not None:  # a heading mark after the line's indentation
        return match[2] + "＃"
    return "＜"


def inert(text: str) -> str:
    """`text` (typed by someone) safe to place in our markdown or text replies. Idempotent."""
    text = _MARKUP.sub(_inert, text)
    return text.translate(_BRACKETS) if _LINK.search(text) else text
