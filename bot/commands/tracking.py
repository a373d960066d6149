"""Progress, blockers, risks and action items."""

from __future__ import annotations

from bot.commands.registry import Router

router = Router("tracking", title="help.section.tracking")
