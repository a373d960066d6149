"""/standup and free-text standup replies."""

from __future__ import annotations

from bot.commands.registry import Router

router = Router("standup", title="help.section.standup")
